# Cluster test bed: N corosync 3 + Pacemaker 2.1 nodes and a tgtd SAN on one
# machine, each node in its own network, mount and UTS namespaces.
# Source this file (bash), then call bed_up N. Needs root, iproute2, unshare,
# nsenter and overlayfs. See docs/cluster-testbed.md for the topology, the
# timing settings and how to drive it by hand.
#
# Naming: everything of one bed carries the id $BED_ID ("hv<pid>" by default):
# namespaces rt-$BED_ID-sw (the switch), rt-$BED_ID-san, rt-$BED_ID-n1..nN,
# state under $BED_DIR (/tmp/havm-bed-$BED_ID). bed_init removes leftovers of
# beds whose owning shell is gone, so a run after a crashed run starts clean.
#
# Every process the bed starts is recorded in $BED_DIR/pids and every wait is
# a bounded poll. bed_down is idempotent and is meant to run from a trap.

: "${BED_TOKEN:=2000}"          # corosync totem token timeout (ms)
: "${BED_NET:=10.231.0}"        # /24 inside the bed; node K = .K, SAN = .200
: "${BED_SAN_HOST:=200}"
: "${BED_CLUSTER:=havmbed}"
BED_TOP=${BED_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BED_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BED_NODES=0

source "$BED_LIB/bed-node.sh"
source "$BED_LIB/bed-fault.sh"
source "$BED_LIB/bed-san.sh"
source "$BED_LIB/bed-agents.sh"
source "$BED_LIB/bed-fence.sh"
source "$BED_LIB/bed-observe.sh"

bed_log() { printf '# bed %s %s\n' "$(date +%T.%N | cut -c1-12)" "$*" >&2; }
bed_die() { bed_log "ERROR: $*"; return 1; }

# bed_init [ID]: choose the id and state directory, remove stale beds.
# shellcheck disable=SC2120
bed_init() {
	BED_ID=${1:-${BED_ID:-hv$$}}
	BED_DIR=/tmp/havm-bed-$BED_ID
	BED_SW=rt-$BED_ID-sw
	_bed_cleanup_stale
	mkdir -p "$BED_DIR"
	echo $$ >"$BED_DIR/owner"
	: >>"$BED_DIR/pids"
}

# bed_attach ID: use the running bed ID from another shell (by hand:
# inspect or inject faults while a test or a first shell owns it). Nothing
# is cleaned; bed_down from here would tear that bed down.
bed_attach() {
	BED_ID=$1
	BED_DIR=/tmp/havm-bed-$BED_ID
	BED_SW=rt-$BED_ID-sw
	[[ -f $BED_DIR/nodes ]] || { bed_die "no bed $BED_ID (no $BED_DIR/nodes)"; return 1; }
	BED_NODES=$(<"$BED_DIR/nodes")
	if [[ -f $BED_DIR/san/tgtd.pid ]]; then
		BED_SAN_IP=$BED_NET.$BED_SAN_HOST BED_SAN_PORTAL=$BED_NET.$BED_SAN_HOST:3260
		# shellcheck disable=SC2153 # set in bed-san.sh
		BED_SAN_URL=iscsi://$BED_SAN_PORTAL/$BED_SAN_IQN
	fi
}

# bed_requirements: prints what is missing (empty output = can run).
bed_requirements() {
	local t missing=()
	(($(id -u) == 0)) || missing+=(root)
	for t in ip unshare nsenter corosync pacemakerd crm_mon crm_resource cibadmin \
		corosync-quorumtool stonith_admin tgtd tgtadm timeout; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	grep -qw overlay /proc/filesystems || missing+=(overlayfs)
	echo "${missing[*]}"
}

# bed_node NAME|K -> K (accepts n2, 2).
bed_node() { local n=${1#n}; [[ $n =~ ^[0-9]+$ ]] || { bed_die "bad node '$1'"; return 1; }; echo "$n"; }
bed_ns() { echo "rt-$BED_ID-n$(bed_node "$1")"; }

# _bed_record PID ROLE NODE: remember a process for teardown.
_bed_record() { echo "$1 $2 $3" >>"$BED_DIR/pids"; }

# bed_poll TIMEOUT_S INTERVAL_S cmd...: run cmd until it succeeds; 1 on timeout.
bed_poll() {
	local timeout=$1 interval=$2 end
	shift 2
	end=$((SECONDS + timeout))
	while ((SECONDS < end)); do
		"$@" && return 0
		sleep "$interval"
	done
	"$@"
}

# bed_up N: switch, N nodes, corosync + pacemaker on each (does not wait).
bed_up() {
	local n=${1:-3} k
	[[ -n ${BED_ID:-} ]] || bed_init "${BED_ID:-}"
	BED_NODES=$n
	echo "$n" >"$BED_DIR/nodes"
	ip netns add "$BED_SW" || return 1
	ip -n "$BED_SW" link set lo up
	ip -n "$BED_SW" link add br0 type bridge || return 1
	ip -n "$BED_SW" link set br0 up
	for ((k = 1; k <= n; k++)); do
		_bed_node_net "$k" || return 1
	done
	_bed_corosync_conf "$n" >"$BED_DIR/corosync.conf"
	_bed_seed_cib || return 1
	for ((k = 1; k <= n; k++)); do
		bed_start_node "$k" || return 1
	done
	bed_log "up: $n nodes, id $BED_ID, state $BED_DIR"
}

# The corosync.conf of the bed. Timing (see docs/cluster-testbed.md):
# token $BED_TOKEN ms with token_coefficient 0 (so the 3-node token is not
# silently raised by 650 ms per node), consensus 1.2 x token (the minimum),
# knet pings derived from the token. Loss of a node is noticed after about
# token + consensus.
_bed_corosync_conf() {
	local n=$1 k
	cat <<EOF
totem {
	version: 2
	cluster_name: $BED_CLUSTER
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: $BED_TOKEN
	token_coefficient: 0
	consensus: $((BED_TOKEN * 12 / 10))
}
nodelist {
EOF
	for ((k = 1; k <= n; k++)); do
		printf '\tnode {\n\t\tname: n%d\n\t\tnodeid: %d\n\t\tring0_addr: %s.%d\n\t}\n' \
			"$k" "$k" "$BED_NET" "$k"
	done
	cat <<EOF
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_stderr: yes
	to_logfile: no
	to_syslog: no
	timestamp: hires
}
system {
	sched_rr: no
	state_dir: /var/lib/corosync
}
EOF
}

# The CIB every node starts with (each node's copy is written once, so a
# restarted node keeps what the cluster gave it). dc-deadtime 5s instead of
# 20s: a fresh cluster elects its DC that much sooner. Fencing is off until a
# test configures a device (bed_fencing_dummy); with no-quorum-policy=stop a
# partition without quorum stops its resources.
: "${BED_CIB_PROPS:=dc-deadtime=5s stonith-enabled=false no-quorum-policy=stop cluster-recheck-interval=60s}"
_bed_seed_cib() {
	local f=$BED_DIR/cib.xml kv
	cibadmin --empty >"$f" || { bed_die "cibadmin --empty failed"; return 1; }
	for kv in $BED_CIB_PROPS; do
		CIB_file=$f crm_attribute -t crm_config -n "${kv%%=*}" -v "${kv#*=}" ||
			{ bed_die "cannot set $kv in the seed CIB"; return 1; }
	done
}

# bed_watchdog SECONDS: SIGTERM this shell after SECONDS, so a test that
# hangs anyway (a client stuck on a frozen node) still ends and its EXIT trap
# tears the bed down. bed_watchdog_stop (also run by bed_down) cancels it.
bed_watchdog() {
	local s=$1 me=$$
	bed_watchdog_stop
	(
		trap 'kill "$sp" 2>/dev/null; exit 0' TERM
		sleep "$s" &
		sp=$!
		wait "$sp"
		echo "# bed watchdog: ${s}s elapsed, stopping the test" >&2
		kill -TERM "$me"
	) </dev/null &
	_bed_watchdog_pid=$!
	disown "$_bed_watchdog_pid"
}
bed_watchdog_stop() {
	[[ -n ${_bed_watchdog_pid:-} ]] || return 0
	kill -TERM "$_bed_watchdog_pid" 2>/dev/null
	bed_poll 5 0.05 _bed_all_gone "$_bed_watchdog_pid"
	_bed_watchdog_pid=
}

# bed_down: stop everything by PID, delete the namespaces. Idempotent.
# BED_KEEP_LOGS=DIR copies the node logs there first.
bed_down() {
	bed_watchdog_stop
	[[ -n ${BED_ID:-} && -d ${BED_DIR:-/nonexistent} ]] || return 0
	bed_sample_stop 2>/dev/null
	if [[ -n ${BED_KEEP_LOGS:-} ]]; then
		mkdir -p "$BED_KEEP_LOGS"
		local d
		for d in "$BED_DIR"/n*/log; do
			[[ -d $d ]] && cp -r "$d" "$BED_KEEP_LOGS/$(basename "$(dirname "$d")")" 2>/dev/null
		done
	fi
	_bed_kill_recorded "$BED_DIR/pids"
	_bed_del_netns_prefix "rt-$BED_ID-"
	rm -rf "$BED_DIR"
	BED_NODES=0
}

# Kills every recorded PID and every process still inside the bed's network
# namespaces (resource agents, fence agents), then waits (bounded).
_bed_kill_recorded() {
	local file=$1 pid role node pids=()
	[[ -f $file ]] || return 0
	while read -r pid role node; do
		[[ $pid =~ ^[0-9]+$ ]] && pids+=("$pid")
	done <"$file"
	((${#pids[@]})) || return 0
	kill -CONT "${pids[@]}" 2>/dev/null
	kill -KILL "${pids[@]}" 2>/dev/null
	bed_poll 10 0.1 _bed_all_gone "${pids[@]}"
}
_bed_all_gone() { local p; for p; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }

# Deletes every namespace whose name starts with PREFIX after SIGKILLing the
# processes in it (frozen ones are continued first so they can die).
_bed_del_netns_prefix() {
	local prefix=$1 ns pids
	for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix"); do
		pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
		if [[ -n $pids ]]; then
			# shellcheck disable=SC2086
			kill -CONT $pids 2>/dev/null
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null
			# shellcheck disable=SC2086
			bed_poll 10 0.1 _bed_all_gone $pids
		fi
		ip netns del "$ns" 2>/dev/null
	done
}

# A bed is stale when the shell that made it no longer runs.
_bed_cleanup_stale() {
	local d id owner
	for d in /tmp/havm-bed-*; do
		[[ -d $d ]] || continue
		id=${d#/tmp/havm-bed-}
		owner=$(cat "$d/owner" 2>/dev/null)
		[[ -n $owner ]] && kill -0 "$owner" 2>/dev/null && [[ $id != "$BED_ID" ]] && continue
		bed_log "removing leftover bed $id"
		_bed_kill_recorded "$d/pids"
		_bed_del_netns_prefix "rt-$id-"
		rm -rf "$d"
	done
	# Namespaces without a state directory (state removed by hand).
	for id in $(ip netns list | awk '{print $1}' | sed -n 's/^rt-\(hv[0-9]*\)-.*/\1/p' | sort -u); do
		[[ -d /tmp/havm-bed-$id ]] && continue
		bed_log "removing leftover namespaces rt-$id-*"
		_bed_del_netns_prefix "rt-$id-"
	done
}
