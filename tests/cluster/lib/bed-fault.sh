# Fault injection on bed nodes. Sourced by bed.sh.

# bed_kill_node K: "pull the power": SIGKILL corosync, every pacemaker daemon
# and everything else in the node's network namespace (resource agents, VMs),
# by PID, then wait until they are gone (bounded). The node's state
# directories stay, so bed_start_node K brings it back with its CIB.
bed_kill_node() {
	local k d
	k=$(bed_node "$1") || return 1
	d=$BED_DIR/n$k
	_bed_kill_netns "$(bed_ns "$k")" || { bed_die "n$k: processes survived SIGKILL"; return 1; }
	rm -f "$d/anchor.pid" "$d/corosync.pid" "$d/pacemakerd.pid"
	bed_log "n$k killed"
}

# bed_partition K / bed_heal K: cut / restore node K's cable at the switch.
# Cluster and storage traffic both stop (the SAN hangs off the same switch).
bed_partition() {
	local k
	k=$(bed_node "$1") || return 1
	ip -n "$BED_SW" link set "p$k" down && bed_log "n$k partitioned"
}
bed_heal() {
	local k
	k=$(bed_node "$1") || return 1
	ip -n "$BED_SW" link set "p$k" up && bed_log "n$k healed"
}

# bed_freeze K / bed_thaw K: SIGSTOP / SIGCONT every process of node K (a
# hung host: its sockets stay open but nothing answers).
bed_freeze() {
	local k pids
	k=$(bed_node "$1") || return 1
	pids=$(ip netns pids "$(bed_ns "$k")" | tr '\n' ' ')
	# shellcheck disable=SC2086
	[[ -n $pids ]] && kill -STOP $pids && bed_log "n$k frozen"
}
bed_thaw() {
	local k pids
	k=$(bed_node "$1") || return 1
	pids=$(ip netns pids "$(bed_ns "$k")" | tr '\n' ' ')
	# shellcheck disable=SC2086
	[[ -n $pids ]] && kill -CONT $pids && bed_log "n$k thawed"
}

# bed_san_cut K / bed_san_restore K: storage path loss for node K only. A
# blackhole route to the SAN drops its iSCSI packets silently (like a dead
# storage switch port) while corosync traffic to the other nodes flows on.
bed_san_cut() {
	local k
	k=$(bed_node "$1") || return 1
	ip -n "$(bed_ns "$k")" route add blackhole "$BED_NET.$BED_SAN_HOST/32" &&
		bed_log "n$k lost its storage path"
}
bed_san_restore() {
	local k
	k=$(bed_node "$1") || return 1
	ip -n "$(bed_ns "$k")" route del blackhole "$BED_NET.$BED_SAN_HOST/32" &&
		bed_log "n$k storage path restored"
}
