# Fencing in the bed. Sourced by bed.sh.
#
# fence_dummy (fence-agents) only pretends: it reports success and powers off
# nothing. Pacemaker then trusts that the victim is down, so a test using it
# must make sure the victim really is down or has stopped its resources (a
# killed node is; a partitioned node without quorum stops its resources by
# no-quorum-policy=stop). BED_FENCE_DELAY gives that node time to do so
# before the survivors start its resources elsewhere, as a real power
# switch's latency would.

: "${BED_STONITH_TIMEOUT:=30s}"
: "${BED_FENCE_DELAY:=0}"

# bed_fencing_dummy [-n K] [DELAY_S=$BED_FENCE_DELAY]: a fence_dummy device
# that can fence every node, and stonith-enabled=true.
bed_fencing_dummy() {
	local k nodes
	k=$(_bed_view "$@") || return 1
	[[ ${1:-} == -n ]] && shift 2
	local delay=${1:-$BED_FENCE_DELAY}
	nodes=$(seq 1 "$BED_NODES" | sed 's/^/n/' | tr '\n' ' ' | sed 's/ $//')
	# status_file in the node's private /run, not the shared default in /tmp.
	_bed_client "$k" cibadmin --create -o resources --xml-text "
<primitive id=\"fence-dummy\" class=\"stonith\" type=\"fence_dummy\">
 <instance_attributes id=\"fence-dummy-ia\">
  <nvpair id=\"fd-hl\" name=\"pcmk_host_list\" value=\"$nodes\"/>
  <nvpair id=\"fd-hc\" name=\"pcmk_host_check\" value=\"static-list\"/>
  <nvpair id=\"fd-sf\" name=\"status_file\" value=\"/run/fence_dummy.status\"/>
  <nvpair id=\"fd-db\" name=\"pcmk_delay_base\" value=\"${delay}s\"/>
 </instance_attributes>
 <operations><op id=\"fence-dummy-mon\" name=\"monitor\" interval=\"60s\" timeout=\"20s\"/></operations>
</primitive>" || return 1
	bed_crm_property -n "$k" stonith-timeout "$BED_STONITH_TIMEOUT" &&
		bed_crm_property -n "$k" stonith-enabled true
}

# bed_crm_property [-n K] NAME VALUE: a cluster property (crm_config).
bed_crm_property() {
	local k
	k=$(_bed_view "$@") || return 1
	[[ ${1:-} == -n ]] && shift 2
	_bed_client "$k" crm_attribute -t crm_config -n "$1" -v "$2"
}

# _bed_fence_times K NODE REGEX: epoch seconds of every successful fencing
# operation on NODE whose history line starts with REGEX, in K's view.
_bed_fence_times() {
	local k=$1 node=$2 re=$3 line t
	_bed_client "$k" stonith_admin --history "$node" --verbose 2>/dev/null |
		grep -E "^($re) of $node successful" | while read -r line; do
			t=$(sed -n "s/.*\(completed\|last-successful\)='\([^']*\)'.*/\2/p" <<<"$line")
			[[ -n $t ]] && date -d "$t" +%s
		done
}

# bed_fence_count [-n K] VICTIM [SINCE_S=0] -> how many successful fencings
# (reboot or off) of VICTIM completed at or after SINCE_S (epoch seconds,
# e.g. $(date +%s) taken before the fault) in K's fencing history.
bed_fence_count() {
	local k since
	k=$(_bed_view "$@") || return 1
	[[ ${1:-} == -n ]] && shift 2
	since=${2:-0}
	_bed_fence_times "$k" "n$(bed_node "$1")" 'reboot|turning off' |
		awk -v s="$since" '$1 >= s { n++ } END { print n + 0 }'
}

# bed_fenced [-n K] VICTIM [SINCE_S=0]: VICTIM was fenced since SINCE_S.
bed_fenced() {
	local view=()
	[[ ${1:-} == -n ]] && view=(-n "$2") && shift 2
	(($(bed_fence_count "${view[@]}" "$@") > 0))
}

# bed_wait_fenced [-n K] VICTIM [TIMEOUT_S=60] [SINCE_S=0]
bed_wait_fenced() {
	local view=()
	[[ ${1:-} == -n ]] && view=(-n "$2") && shift 2
	bed_poll "${2:-60}" 0.5 bed_fenced "${view[@]}" "$1" "${3:-0}"
}

# bed_fencing_havm [-n K] LUN...: our fence agent (fence_havm, SCSI-3 PR over
# iSCSI against the bed's SAN) for every node, with unfencing: the device
# provides=unfencing, so every node registers its key ("on") before it may
# run resources. Fabric fencing has no reboot, hence pcmk_reboot_action=off.
# Needs bed_san_up, the LUNs (bed_san_lun) and bed_install_agents.
bed_fencing_havm() {
	local k nodes devs="" lun
	k=$(_bed_view "$@") || return 1
	[[ ${1:-} == -n ]] && shift 2
	(($#)) || { bed_die "bed_fencing_havm: no LUN given"; return 1; }
	for lun; do devs+="${devs:+,}$BED_SAN_URL/$lun"; done
	nodes=$(seq 1 "$BED_NODES" | sed 's/^/n/' | tr '\n' ' ' | sed 's/ $//')
	_bed_client "$k" cibadmin --create -o resources --xml-text "
<primitive id=\"fence-havm\" class=\"stonith\" type=\"fence_havm\">
 <instance_attributes id=\"fence-havm-ia\">
  <nvpair id=\"fh-dev\" name=\"devices\" value=\"$devs\"/>
  <nvpair id=\"fh-hl\" name=\"pcmk_host_list\" value=\"$nodes\"/>
  <nvpair id=\"fh-hc\" name=\"pcmk_host_check\" value=\"static-list\"/>
  <nvpair id=\"fh-ra\" name=\"pcmk_reboot_action\" value=\"off\"/>
 </instance_attributes>
 <meta_attributes id=\"fence-havm-meta\">
  <nvpair id=\"fh-unf\" name=\"provides\" value=\"unfencing\"/>
 </meta_attributes>
 <operations><op id=\"fence-havm-mon\" name=\"monitor\" interval=\"60s\" timeout=\"20s\"/></operations>
</primitive>" || return 1
	bed_crm_property -n "$k" stonith-timeout "$BED_STONITH_TIMEOUT" &&
		bed_crm_property -n "$k" stonith-enabled true
}

# bed_fence_remove [-n K] ID: delete a fence device (or any primitive).
bed_fence_remove() {
	local k
	k=$(_bed_view "$@") || return 1
	[[ ${1:-} == -n ]] && shift 2
	_bed_client "$k" cibadmin --delete -o resources --xml-text "<primitive id=\"$1\"/>"
}

# bed_unfenced [-n K] NODE [SINCE_S=0]: NODE was unfenced ("on") since SINCE_S.
bed_unfenced() {
	local k
	k=$(_bed_view "$@") || return 1
	[[ ${1:-} == -n ]] && shift 2
	_bed_fence_times "$k" "n$(bed_node "$1")" unfencing | awk -v s="${2:-0}" '$1 >= s { f = 1 } END { exit !f }'
}

# bed_wait_unfenced [-n K] NODE [TIMEOUT_S=60] [SINCE_S=0]
bed_wait_unfenced() {
	local view=()
	[[ ${1:-} == -n ]] && view=(-n "$2") && shift 2
	bed_poll "${2:-60}" 0.5 bed_unfenced "${view[@]}" "$1" "${3:-0}"
}

# bed_havm_key_status [-n K] NODE LUN...: fence_havm's "status" of NODE on
# the SAN LUNs, run inside node K: 0 = NODE's key is registered ("on"),
# 2 = it is not ("off", fenced), 1 = the agent could not tell.
bed_havm_key_status() {
	local k devs="" node lun
	k=$(_bed_view "$@") || return 1
	[[ ${1:-} == -n ]] && shift 2
	node=n$(bed_node "$1")
	shift
	for lun; do devs+="${devs:+,}$BED_SAN_URL/$lun"; done
	_bed_client "$k" fence_havm -o status -n "$node" --devices="$devs" >/dev/null 2>&1
}
