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

# bed_fenced [-n K] VICTIM -> 0 when the fencing history (K's view) has a
# successful fencing of VICTIM.
bed_fenced() {
	local k
	k=$(_bed_view "$@") || return 1
	[[ ${1:-} == -n ]] && shift 2
	_bed_client "$k" stonith_admin --history "n$(bed_node "$1")" 2>/dev/null | grep -q 'successful'
}

# bed_wait_fenced [-n K] VICTIM [TIMEOUT_S=60]
bed_wait_fenced() {
	local view=()
	[[ ${1:-} == -n ]] && view=(-n "$2") && shift 2
	bed_poll "${2:-60}" 0.5 bed_fenced "${view[@]}" "$1"
}
