# Bed nodes: network namespace, private mounts, corosync and pacemakerd.
# Sourced by bed.sh.
#
# Each node K has an "anchor" process (sleep) that owns its mount and UTS
# namespaces; it runs in netns rt-$BED_ID-nK. corosync, pacemakerd and every
# client (bed_exec) join the anchor's namespaces with nsenter, so they share
# the node's abstract sockets (netns), /dev/shm, /run and /var/lib/pacemaker.

# _bed_node_net K: netns, veth to the switch, address BED_NET.K/24.
_bed_node_net() {
	local k=$1 ns
	ns=$(bed_ns "$k")
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	ip -n "$BED_SW" link add "p$k" type veth peer name eth0 netns "$ns" || return 1
	ip -n "$BED_SW" link set "p$k" master br0 up
	ip -n "$ns" addr add "$BED_NET.$k/24" dev eth0
	ip -n "$ns" link set eth0 up
}

# _bed_node_dirs K: the host directories that become the node's private
# /var/log, /etc/corosync, /var/lib/corosync, /var/lib/pacemaker.
# They survive a node kill, so a restarted node keeps its CIB.
_bed_node_dirs() {
	local k=$1 d=$BED_DIR/n$1 sub
	for sub in log log/pacemaker log/cluster \
		etc-corosync var-lib-corosync var-lib-pacemaker/cib var-lib-pacemaker/pengine \
		var-lib-pacemaker/blackbox var-lib-pacemaker/cores ovl; do
		mkdir -p "$d/$sub"
	done
	chown -R hacluster:haclient "$d/var-lib-pacemaker" "$d/log/pacemaker"
	chmod 750 "$d"/var-lib-pacemaker/*
	cp "$BED_DIR/corosync.conf" "$d/etc-corosync/corosync.conf"
	if [[ -f $BED_DIR/cib.xml && ! -f $d/var-lib-pacemaker/cib/cib.xml ]]; then
		install -o hacluster -g haclient -m 600 "$BED_DIR/cib.xml" "$d/var-lib-pacemaker/cib/cib.xml"
	fi
}

# bed_anchor K -> PID of the node's namespace anchor (empty if down).
bed_anchor() {
	local k f pid
	k=$(bed_node "$1") || return 1
	f=$BED_DIR/n$k/anchor.pid
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

# bed_start_node K: start (or restart after bed_kill_node) node K.
bed_start_node() {
	local k d ns anchor pid
	k=$(bed_node "$1") || return 1
	d=$BED_DIR/n$k
	ns=$(bed_ns "$k")
	bed_anchor "$k" >/dev/null && { bed_die "n$k is already up"; return 1; }
	_bed_node_dirs "$k"
	rm -f "$d/ready"
	# The anchor: a private mount + UTS namespace inside the node's netns.
	# /run and /dev/shm are fresh tmpfs on every start, as after a reboot.
	# shellcheck disable=SC2016
	ip netns exec "$ns" unshare --mount --uts --propagation private \
		/bin/sh -c '
		set -e
		hostname "$1"
		mount -t tmpfs -o mode=1777 tmpfs /dev/shm
		mount --bind "$2/etc-corosync" /etc/corosync
		mount --bind "$2/var-lib-corosync" /var/lib/corosync
		mount --bind "$2/var-lib-pacemaker" /var/lib/pacemaker
		mount --bind "$2/log" /var/log
		mount -t tmpfs -o mode=755 tmpfs /run
		mkdir -p /run/crm /run/resource-agents /run/lock
		chown hacluster:haclient /run/crm
		touch "$2/ready"
		exec sleep infinity' sh "n$k" "$d" </dev/null >"$d/anchor.log" 2>&1 &
	anchor=$!
	disown "$anchor"
	_bed_record "$anchor" anchor "n$k"
	bed_poll 10 0.05 test -e "$d/ready" ||
		{ bed_die "n$k: namespace set-up failed: $(cat "$d/anchor.log")"; return 1; }
	echo "$anchor" >"$d/anchor.pid"

	bed_exec "$k" corosync -t >"$d/corosync-t.log" 2>&1 ||
		{ bed_die "n$k: corosync -t rejects the configuration: $(cat "$d/corosync-t.log")"; return 1; }
	nsenter -t "$anchor" -m -n -u corosync -f </dev/null >>"$d/log/corosync.log" 2>&1 &
	pid=$!
	disown "$pid"
	_bed_record "$pid" corosync "n$k"
	echo "$pid" >"$d/corosync.pid"
	# pacemakerd refuses to start before corosync answers on its IPC.
	bed_poll 15 0.1 bed_exec "$k" corosync-cmapctl -g totem.cluster_name >/dev/null 2>&1 ||
		{ bed_die "n$k: corosync did not come up (see $d/log/corosync.log)"; return 1; }
	nsenter -t "$anchor" -m -n -u env PCMK_logfile=/var/log/pacemaker/pacemaker.log \
		PCMK_debug=no HA_LOGFILE=/var/log/pacemaker/pacemaker.log \
		pacemakerd -f </dev/null >>"$d/log/pacemakerd.out" 2>&1 &
	pid=$!
	disown "$pid"
	_bed_record "$pid" pacemakerd "n$k"
	echo "$pid" >"$d/pacemakerd.pid"
	[[ -n ${_bed_agents_installed:-} ]] && _bed_install_agents_node "$k"
	return 0
}

# bed_stop_node K: clean stop (pacemakerd first, then corosync), bounded.
bed_stop_node() {
	local k d pid
	k=$(bed_node "$1") || return 1
	d=$BED_DIR/n$k
	pid=$(cat "$d/pacemakerd.pid" 2>/dev/null)
	if [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; then
		bed_poll 60 0.2 _bed_all_gone "$pid" || bed_log "n$k: pacemakerd ignored SIGTERM for 60 s"
	fi
	pid=$(cat "$d/corosync.pid" 2>/dev/null)
	if [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; then
		bed_poll 20 0.2 _bed_all_gone "$pid" || bed_log "n$k: corosync ignored SIGTERM for 20 s"
	fi
	_bed_kill_netns "$(bed_ns "$k")"
	rm -f "$d/anchor.pid" "$d/corosync.pid" "$d/pacemakerd.pid"
}

# bed_exec K cmd...: run a command inside node K's namespaces.
bed_exec() {
	local anchor
	anchor=$(bed_anchor "$1") || { bed_die "n${1#n} is not running"; return 1; }
	shift
	nsenter -t "$anchor" -m -n -u -- "$@"
}

# bed_crm K tool args...: a Pacemaker client (crm_mon, cibadmin, crm_resource,
# crm_attribute, stonith_admin, ...) inside node K, bounded by
# BED_CRM_TIMEOUT seconds (30) so a frozen node cannot hang the caller.
bed_crm() {
	local k=$1
	shift
	bed_exec "$k" timeout -k 1 "${BED_CRM_TIMEOUT:-30}" "$@"
}

# bed_nodes_up: the numbers of the nodes whose anchor runs.
bed_nodes_up() {
	local k
	for ((k = 1; k <= BED_NODES; k++)); do
		bed_anchor "$k" >/dev/null && echo "$k"
	done
}

# Kills every process in a network namespace (SIGCONT first for frozen ones).
_bed_kill_netns() {
	local ns=$1 pids
	pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
	[[ -n $pids ]] || return 0
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
	# shellcheck disable=SC2086
	kill -CONT $pids 2>/dev/null
	# shellcheck disable=SC2086
	bed_poll 10 0.05 _bed_all_gone $pids
}
