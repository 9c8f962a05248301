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
	_bed_client "$k" stonith_admin --history "n$(bed_node "$1")" --verbose 2>/dev/null |
		grep -qE "^(reboot|turning off) of n$(bed_node "$1") successful"
}

# bed_fence_count [-n K] VICTIM -> how many successful fencings of VICTIM
# the history (K's view) holds.
bed_fence_count() {
	local k
	k=$(_bed_view "$@") || return 1
	[[ ${1:-} == -n ]] && shift 2
	_bed_client "$k" stonith_admin --history "n$(bed_node "$1")" --verbose 2>/dev/null |
		grep -cE "^(reboot|turning off) of n$(bed_node "$1") successful"
}

# bed_wait_fenced [-n K] VICTIM [TIMEOUT_S=60]
bed_wait_fenced() {
	local view=()
	[[ ${1:-} == -n ]] && view=(-n "$2") && shift 2
	bed_poll "${2:-60}" 0.5 bed_fenced "${view[@]}" "$1"
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

# bed_unfenced [-n K] NODE -> 0 when the fencing history (K's view) has a
# successful unfencing ("on") of NODE.
bed_unfenced() {
	local k
	k=$(_bed_view "$@") || return 1
	[[ ${1:-} == -n ]] && shift 2
	_bed_client "$k" stonith_admin --history "n$(bed_node "$1")" --verbose 2>/dev/null |
		grep -qE "^unfencing of n$(bed_node "$1") successful"
}

# bed_wait_unfenced [-n K] NODE [TIMEOUT_S=60]
bed_wait_unfenced() {
	local view=()
	[[ ${1:-} == -n ]] && view=(-n "$2") && shift 2
	bed_poll "${2:-60}" 0.5 bed_unfenced "${view[@]}" "$1"
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
