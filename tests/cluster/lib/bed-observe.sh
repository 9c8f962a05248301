# Waiting for and observing the cluster. Sourced by bed.sh.
# Every wait is a bounded poll; every client runs inside a node and under
# `timeout`, so a frozen node cannot hang the caller.

: "${BED_CLIENT_TIMEOUT:=5}"

# _bed_client K cmd...: a cluster client inside node K, bounded in time.
_bed_client() {
	local k=$1
	shift
	bed_exec "$k" timeout -k 1 "$BED_CLIENT_TIMEOUT" "$@"
}

# bed_now_ms: wall clock in milliseconds (the sampler's time base).
bed_now_ms() { date +%s%3N; }

# bed_quorum K -> "<quorate yes|no> <total votes>" as node K sees it.
bed_quorum() {
	local out q v
	out=$(_bed_client "$1" corosync-quorumtool -s 2>/dev/null)
	q=$(awk -F: '/^Quorate:/ {gsub(/ /, "", $2); print tolower($2)}' <<<"$out")
	v=$(awk -F: '/^Total votes:/ {gsub(/ /, "", $2); print $2}' <<<"$out")
	echo "${q:-no} ${v:-0}"
}

# bed_wait_quorate K VOTES [TIMEOUT_S=60]: node K is quorate with VOTES votes.
bed_wait_quorate() {
	local k=$1 votes=$2 timeout=${3:-60}
	bed_poll "$timeout" 0.5 _bed_is_quorate "$k" "$votes" ||
		{ bed_log "n${k#n}: not quorate with $votes votes after ${timeout}s: $(bed_quorum "$k")"; return 1; }
}
_bed_is_quorate() { [[ $(bed_quorum "$1") == "yes $2" ]]; }

# bed_wait_unquorate K [TIMEOUT_S=60]: node K has lost quorum.
bed_wait_unquorate() {
	bed_poll "${2:-60}" 0.5 _bed_not_quorate "$1"
}
_bed_not_quorate() { [[ $(bed_quorum "$1") == no* ]]; }

# bed_online [-n K] -> names of the nodes Pacemaker shows online, in K's view
# (default: the first running node); empty if there is no DC yet.
bed_online() {
	local k
	k=$(_bed_view "$@") || return 1
	local xml
	xml=$(_bed_client "$k" crm_mon -1 --output-as=xml 2>/dev/null) || return 1
	grep -q '<current_dc present="true"' <<<"$xml" || return 1
	# online and no longer "pending" (joined the controller's membership)
	grep '<node name=.* online="true".* pending="false"' <<<"$xml" |
		sed -n 's/.*<node name="\([^"]*\)".*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//'
}

# bed_wait_online [TIMEOUT_S=90] [NODES...]: Pacemaker has a DC and shows
# exactly NODES (default: every running node) online, as seen by the first
# of them.
bed_wait_online() {
	local timeout=${1:-90} want k
	shift
	if (($#)); then
		want=$(printf 'n%s\n' "${@#n}" | sort | tr '\n' ' ' | sed 's/ $//')
	else
		want=$(bed_nodes_up | sed 's/^/n/' | sort | tr '\n' ' ' | sed 's/ $//')
	fi
	k=${want%% *}
	bed_poll "$timeout" 1 _bed_online_is "$k" "$want" ||
		{ bed_log "online is '$(bed_online -n "$k")', wanted '$want' after ${timeout}s"; return 1; }
}
_bed_online_is() { [[ $(bed_online -n "$1") == "$2" ]]; }

# _bed_view [-n K] -> K, or the first running node.
_bed_view() {
	if [[ ${1:-} == -n ]]; then
		bed_node "$2"
	else
		bed_nodes_up | head -1
	fi
}

# bed_where [-n K] [--all] RSC -> node(s) where RSC is active in K's view
# (default: the first running node), space-separated and sorted; empty when
# stopped. Only settled roles count (Started, Promoted, Unpromoted): Pacemaker
# records pending operations, and crm_resource --locate already names a node
# whose start is still running. --all also counts pending roles (Starting,
# Stopping, Migrating, ...): everywhere the resource may be alive.
bed_where() {
	local k all=0
	k=$(_bed_view "$@") || return 1
	[[ ${1:-} == -n ]] && shift 2
	[[ ${1:-} == --all ]] && all=1 && shift
	_bed_client "$k" crm_mon -1 --output-as=xml 2>/dev/null | _bed_where_xml "$1" "$all" |
		sort -u | tr '\n' ' ' | sed 's/ $//'
}

# _bed_where_xml RSC ALL: node names under <resource id="RSC"> elements of
# crm_mon's XML on stdin whose role is settled (or any role if ALL=1).
_bed_where_xml() {
	awk -v id="$1" -v all="$2" '
		/<resource id="/ {
			inr = 0
			if (index($0, "<resource id=\"" id "\" ") == 0) next
			r = $0; sub(/.* role="/, "", r); sub(/".*/, "", r)
			if ((all || r ~ /^(Started|Promoted|Unpromoted|Master|Slave)$/) && $0 !~ /\/>[ \t]*$/) inr = 1
			next
		}
		inr && /<node name="/ { n = $0; sub(/.*<node name="/, "", n); sub(/".*/, "", n); print n }
		/<\/resource>/ { inr = 0 }'
}

# bed_wait_where [-n K] RSC WANT [TIMEOUT_S=60]: until bed_where prints WANT.
# WANT "!nX" means "active on exactly one node, not nX"; "" means stopped.
# Prints the final placement.
bed_wait_where() {
	local view=() rsc want timeout where end
	[[ ${1:-} == -n ]] && view=(-n "$2") && shift 2
	rsc=$1 want=$2 timeout=${3:-60}
	end=$((SECONDS + timeout))
	while :; do
		where=$(bed_where "${view[@]}" "$rsc")
		if [[ $want == !* ]]; then
			[[ -n $where && $where != *" "* && $where != "${want#!}" ]] && break
		elif [[ $where == "$want" ]]; then
			break
		fi
		((SECONDS >= end)) && { bed_log "$rsc is on '$where', wanted '$want' after ${timeout}s"; echo "$where"; return 1; }
		sleep 0.5
	done
	echo "$where"
}

# --- placement sampler ---------------------------------------------------------
# bed_sample_start RSC [PROBE=bed_probe_self] [INTERVAL_S=0.3] [MAX_S=900]
# records, every INTERVAL, on which nodes RSC is really active:
# "<epoch ms> <node...>" lines in $BED_DIR/sample-RSC.log. PROBE K RSC returns
# 0 when RSC is active on node K. Stops by itself after MAX_S.
# The nodes are probed one after the other, so a handover (A stops, then B
# starts) that falls between the reads of A and B looks like both: a pass
# that finds more than one node is confirmed at once by probing them again
# in reverse order, and only nodes active in both passes are recorded. An
# overlap that lasts is seen by both; the unconfirmed passes are kept in
# $BED_DIR/sample-RSC.transients for the record.
bed_sample_start() {
	local rsc=$1 probe=${2:-bed_probe_self} interval=${3:-0.3} max=${4:-900}
	local log=$BED_DIR/sample-$rsc.log
	: >"$log"
	: >"$BED_DIR/sample-$rsc.transients"
	(
		end=$((SECONDS + max))
		while ((SECONDS < end)); do
			t=$(bed_now_ms)
			on=()
			for k in $(bed_nodes_up); do
				"$probe" "$k" "$rsc" && on+=("$k")
			done
			if ((${#on[@]} > 1)); then
				both=()
				for ((i = ${#on[@]} - 1; i >= 0; i--)); do
					"$probe" "${on[i]}" "$rsc" && both=("${on[i]}" "${both[@]}")
				done
				((${#both[@]} < ${#on[@]})) &&
					echo "$t ${on[*]/#/n} -> ${both[*]/#/n}" >>"$BED_DIR/sample-$rsc.transients"
				on=("${both[@]}")
			fi
			line=$t
			for k in "${on[@]}"; do line+=" n$k"; done
			echo "$line" >>"$log"
			sleep "$interval"
		done
	) </dev/null >/dev/null 2>&1 &
	local pid=$!
	disown "$pid"
	echo "$pid" >>"$BED_DIR/samplers"
	_bed_record "$pid" sampler "$rsc"
}

# bed_sample_stop: stop every sampler (by PID).
bed_sample_stop() {
	local pid
	[[ -f $BED_DIR/samplers ]] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null
	done <"$BED_DIR/samplers"
	rm -f "$BED_DIR/samplers"
}

# bed_sample_max RSC -> the largest number of nodes RSC was active on at
# once (the "never on two nodes" assertion wants <= 1).
bed_sample_max() {
	awk '{ if (NF - 1 > m) m = NF - 1 } END { print m + 0 }' "$BED_DIR/sample-$1.log"
}

# bed_sample_overlaps RSC -> the sample lines showing RSC on more than one node.
bed_sample_overlaps() { awk 'NF > 2' "$BED_DIR/sample-$1.log"; }

# bed_sample_first RSC SINCE_MS REGEX -> ms of the first sample at or after
# SINCE_MS whose node list matches REGEX (e.g. '^ n[23]$'); 1 if none.
bed_sample_first() {
	awk -v t="$2" -v re="$3" '$1 >= t { l = $0; sub(/^[0-9]+/, "", l); if (l ~ re) { print $1; f = 1; exit } }
		END { exit !f }' "$BED_DIR/sample-$1.log"
}

# bed_sample_wait RSC SINCE_MS REGEX [TIMEOUT_S=10]: bed_sample_first once
# the sampler has caught up (it lags the cluster by up to one round).
bed_sample_wait() {
	bed_poll "${4:-10}" 0.2 bed_sample_first "$1" "$2" "$3" >/dev/null 2>&1 || return 1
	bed_sample_first "$1" "$2" "$3"
}

# bed_sample_last RSC -> the most recent sample's node list.
bed_sample_last() { tail -1 "$BED_DIR/sample-$1.log" | cut -d' ' -f2-; }

# Probes ---------------------------------------------------------------------
# bed_probe_self K RSC: node K's own Pacemaker says RSC is active on K
# (pending roles included: a start in progress may already run it).
bed_probe_self() {
	local w
	w=$(BED_CLIENT_TIMEOUT=2 bed_where -n "$1" --all "$2")
	[[ " $w " == *" n$1 "* ]]
}

# bed_probe_dummy K RSC: the state file of an ocf:pacemaker:Dummy exists in
# node K's private /run: the ground truth, also on a cut-off node. A frozen
# node (bed_freeze) runs nothing, so it counts as not active while frozen.
bed_probe_dummy() {
	local anchor
	anchor=$(bed_anchor "$1") || return 1
	[[ -e /proc/$anchor/root/run/Dummy-$2.state ]] && ! bed_frozen "$1"
}

# bed_frozen K: node K is frozen (its anchor is stopped by bed_freeze).
bed_frozen() {
	local anchor state
	anchor=$(bed_anchor "$1") || return 1
	state=$(awk '{print $3}' "/proc/$anchor/stat" 2>/dev/null)
	[[ $state == T ]]
}

# bed_probe_comm K RSC: a process named $BED_PROBE_COMM (default vmm) whose
# command line contains RSC runs in node K's netns and K is not frozen. For
# resources whose agent starts a long-lived process (a VM).
bed_probe_comm() {
	local pid
	bed_frozen "$1" && return 1
	for pid in $(bed_node_pids "$1"); do
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == "${BED_PROBE_COMM:-vmm}" ]] || continue
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" && return 0
	done
	return 1
}

# bed_node_pids K: every PID in node K's network namespace.
bed_node_pids() { ip netns pids "$(bed_ns "$1")" 2>/dev/null; }
