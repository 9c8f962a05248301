#!/usr/bin/env bash
# HA scenarios with the VM's disk on the SAN (docs/ha-scenarios.md): the
# recorder guest's disk is an iSCSI LUN (iscsi:// URL, pr_key=cmap), and
# fence_havm fences that same LUN, so a fenced node's vmm loses write access
# and stops its VM itself. No fence delay.
#
#   1. partition of the active node: the majority fences it (its key is
#      preempted) and runs the VM; the minority's vmm can neither write nor
#      keep running once it learns it is fenced or loses quorum
#   2. storage path loss on the active node (SAN route cut, corosync up):
#      the vmm there ends (its I/O deadline, exit 24, or Pacemaker's stop
#      after the depth-10 monitor failed), and Pacemaker starts the VM on
#      another node once the restart in place fails
#
# As in test_vm_ha.sh: a sampler on the real vmm process; every record the
# guest saw acknowledged must be on the LUN's backing file at the end.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/cluster/lib/bed.sh"
source "$HAVM_TOP/tests/cluster/lib/vm-ha.sh"

lacking=$(bed_requirements)
command -v socat >/dev/null || lacking+=" socat"
if [[ -n $lacking ]]; then
	skip "VM HA scenarios on an iSCSI disk" "missing:$lacking"
	done_testing
	exit
fi
for f in "$BED_BUILD/ocf/havm/VirtualServer" "$BED_BUILD/bin/vmm" "$BED_BUILD/bin/fence_havm" \
	"$HAVM_TOP/build/guests/recorder.bin"; do
	if [[ ! -e $f ]]; then
		skip "VM HA scenarios on an iSCSI disk" "$f is not built"
		done_testing
		exit
	fi
done
if ! "$BED_BUILD/ocf/havm/VirtualServer" meta-data 2>/dev/null | grep -q 'name="pr_key"'; then
	skip "VM HA scenarios on an iSCSI disk" "the agent has no pr_key parameter"
	done_testing
	exit
fi

bed_init
_bed_test_down() {
	vmha_collect_stop
	((_tap_failed > 0)) && BED_KEEP_LOGS=$HAVM_TOP/build/test-logs/bed-$BED_ID
	bed_down
}
at_exit _bed_test_down
bed_watchdog 400

other_than() { local n; for n in n1 n2 n3; do [[ " $* " == *" $n "* ]] || { echo "$n"; return; }; done; }
no_overlap_since() { [[ -z $(awk -v t="$1" '$1 >= t && NF > 2' "$BED_DIR/sample-$VMHA_RSC.log") ]]; }
settle() { BED_CRM_TIMEOUT=100 bed_crm "$1" crm_resource --wait --timeout=90s >/dev/null 2>&1; }

t0=$(bed_now_ms)
if ! bed_up 3 || ! bed_san_up; then
	not_ok "bed with 3 nodes and a SAN comes up"
	done_testing
	exit
fi
ok "bed with 3 nodes and a SAN comes up"
lun=$(bed_san_lun vmdisk 8)
check "agents installed in every node" bed_install_agents
check "Pacemaker shows n1 n2 n3 online" bed_wait_online 90
check "fence_havm on the VM's disk LUN configured" bed_fencing_havm "$lun"

vmha_setup save "$lun" "$BED_DIR/san/vmdisk.img"
vmha_collect_start 600
active=$(bed_wait_where "$VMHA_RSC" '!none' 90)
check "the VM starts on its LUN disk ($active)" test -n "$active"
bed_sample_start "$VMHA_RSC" vmha_probe 0.2
check "the guest acknowledges records" vmha_wait_acks_after "$t0" 30
diag "timing: bed up and VM acking after $(($(bed_now_ms) - t0)) ms"
settle "$active"

# 1. Partition, no fence delay.
victim=$active
view=$(other_than "$victim")
tp=$(bed_now_ms)
bed_partition "$victim"
survivor=$(bed_wait_where -n "$view" "$VMHA_RSC" "!$victim" 90)
check "partition: the majority runs the VM ($survivor)" test -n "$survivor"
check "partition: $victim is fenced by fence_havm" bed_wait_fenced -n "$view" "$victim" 30 $((tp / 1000))
stopped() { ! vmha_probe "$victim"; }
check "partition: the minority $victim's vmm is gone" bed_poll 40 0.2 stopped
tstop=$(bed_now_ms)
check "partition: the guest acknowledges records on $survivor" vmha_wait_handoff "$tp" 30
read -r _ _ _ _ _ nf _ _ <<<"$(vmha_handoff "$tp")"
diag "timing: partition of $victim: guest acking on $survivor after $((${nf:-0} - tp)) ms; minority vmm gone after $((tstop - tp)) ms"
ov=$(awk -v t="$tp" '$1 >= t && NF > 2' "$BED_DIR/sample-$VMHA_RSC.log" | wc -l)
diag "partition: samples with a vmm process on two nodes: $ov (the minority's cannot write: its key is preempted)"
diag "minority vmm log: $(tail -2 "/proc/$(bed_anchor "$victim")/root/run/havm/$VMHA_VM/vmm.log" 2>/dev/null | tr '\n' ' ')"
bed_heal "$victim"
bed_kill_node "$victim" >/dev/null 2>&1
check "partition: $victim restarts and rejoins" bed_start_node "$victim"
bed_wait_online 90 >/dev/null 2>&1
settle "$view"
active=$(bed_wait_where -n "$view" "$VMHA_RSC" '!none' 30)

# 2. Storage path loss on the active node (corosync stays up, so nobody
# fences it). Defined recovery: the vmm's I/O deadline (15 s by default,
# vmm exit 24) or the depth-10 monitor (the LUN unreachable) ends the VM
# there; Pacemaker's restart in place fails (the LUN cannot be opened),
# so it starts the VM on another node. The path stays cut until then.
ts=$(bed_now_ms)
lost=$active
bed_san_cut "$lost"
others=$(other_than "$lost")
lost_gone() { ! vmha_probe "$lost"; }
check "storage loss: the vmm on $lost ends by itself (I/O deadline) or by Pacemaker's stop" bed_poll 45 0.2 lost_gone
tgone=$(bed_now_ms)
vlog="/proc/$(bed_anchor "$lost")/root/run/havm/$VMHA_VM/vmm.log"
how=$(grep -o 'ended (storage-lost\|ended (poweroff\|ended (quit\|STORAGE LOST' "$vlog" 2>/dev/null | tail -1)
diag "storage loss on $lost: vmm gone after $((tgone - ts)) ms (${how:-no end line in its log})"
where_now=$(bed_wait_where -n "$others" "$VMHA_RSC" "!$lost" 90)
check "storage loss: Pacemaker starts the VM on another node (${where_now:-none})" \
	test -n "$where_now" -a "$where_now" != "$lost"
check "storage loss: the guest acknowledges records on ${where_now:-?}" vmha_wait_handoff "$ts" 40
read -r _ ol _ _ nn nf _ _ <<<"$(vmha_handoff "$ts")"
diag "timing: storage loss on $lost: last ack there $((${ol:-0} - ts)) ms after the cut, guest acking on ${nn:-?} after $((${nf:-0} - ts)) ms"
check "storage loss: never on two nodes" no_overlap_since "$ts"
bed_san_restore "$lost"
bed_crm 1 crm_resource --cleanup -r "$VMHA_RSC" >/dev/null 2>&1

bed_sample_stop
diag "sampler: $(wc -l <"$BED_DIR/sample-$VMHA_RSC.transients") two-node reads not confirmed by the reverse read (a handover between two probes):"
sed 's/^/#   /' "$BED_DIR/sample-$VMHA_RSC.transients"
vmha_collect_stop
acked=$(vmha_ack_count)
check "the guest saw records acknowledged ($acked)" test "$acked" -gt 50
check_eq "every acknowledged record is on the LUN" "" "$(vmha_lost_records)"
diag "timeline (sampler, vmm process per node):"
vmha_timeline "$t0" | sed 's/^/# /'
diag "timing: whole test $(($(bed_now_ms) - t0)) ms"
done_testing
