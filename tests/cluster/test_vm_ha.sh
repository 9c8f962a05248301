#!/usr/bin/env bash
# HA scenarios for a VM under Pacemaker (ocf:havm:VirtualServer) on one
# 3-node bed with a SAN and fence_havm (docs/ha-scenarios.md). The recorder
# guest (tests/guests/recorder.c) writes sequenced records to a disk all
# nodes see and acknowledges each on COM1. Throughout, a sampler looks at the
# real vmm process in every node; at the end it must never have seen the VM
# on two nodes, and every record the guest saw acknowledged must be on disk.
#
#   1. planned move (crm_resource --move, stop_policy=save): no reboot, the
#      guest's in-memory counter continues
#   2. live migration (allow-migrate=true, migrate_to/migrate_from): the
#      same, plus the guest-visible gap and the vmm's own downtime
#   3. node kill (SIGKILL of corosync, Pacemaker and vmm): fenced by
#      fence_havm, the VM restarts on a survivor
#   4. network partition of the active node: the minority stops the VM, the
#      majority runs it once
#   5. freeze (SIGSTOP) of the active node: fenced, restarted elsewhere
#   6. storage path loss on the active node (SAN route cut)
# Timings go to the log as "# timing:" lines.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/cluster/lib/bed.sh"
source "$HAVM_TOP/tests/cluster/lib/vm-ha.sh"

lacking=$(bed_requirements)
command -v socat >/dev/null || lacking+=" socat"
if [[ -n $lacking ]]; then
	skip "VM HA scenarios" "missing:$lacking"
	done_testing
	exit
fi
for f in "$BED_BUILD/ocf/havm/VirtualServer" "$BED_BUILD/bin/vmm" "$BED_BUILD/bin/havm" \
	"$BED_BUILD/bin/fence_havm" "$HAVM_TOP/build/guests/recorder.bin"; do
	if [[ ! -e $f ]]; then
		skip "VM HA scenarios" "$f is not built"
		done_testing
		exit
	fi
done

bed_init
_bed_test_down() {
	vmha_collect_stop
	((_tap_failed > 0)) && BED_KEEP_LOGS=$HAVM_TOP/build/test-logs/bed-$BED_ID
	bed_down
}
at_exit _bed_test_down
bed_watchdog 600 # whole-test bound; a normal run takes about half of it

other_than() { local n; for n in n1 n2 n3; do [[ " $* " == *" $n "* ]] || { echo "$n"; return; }; done; }
no_overlap_since() { [[ -z $(awk -v t="$1" '$1 >= t && NF > 2' "$BED_DIR/sample-$VMHA_RSC.log") ]]; }
# settle K: wait until K's DC has no transition in flight (a pending fencing
# action delays even a no-quorum stop, docs/ha-scenarios.md).
settle() { BED_CRM_TIMEOUT=100 bed_crm "$1" crm_resource --wait --timeout=90s >/dev/null 2>&1; }
restart_node() {
	local k=$1
	bed_kill_node "$k" >/dev/null 2>&1
	bed_start_node "$k" && bed_wait_online 90
}

t0=$(bed_now_ms)
if ! bed_up 3 || ! bed_san_up; then
	not_ok "bed with 3 nodes and a SAN comes up"
	done_testing
	exit
fi
ok "bed with 3 nodes and a SAN comes up"
lun=$(bed_san_lun fence0 16)
check "agents installed in every node" bed_install_agents
check "Pacemaker shows n1 n2 n3 online" bed_wait_online 90
check "fence_havm configured" bed_fencing_havm "$lun"

vmha_setup save
vmha_collect_start 900
first=$(bed_wait_where "$VMHA_RSC" '!none' 90)
check "the VM starts on one node ($first)" test -n "$first"
bed_sample_start "$VMHA_RSC" vmha_probe 0.2
check "the guest acknowledges records" vmha_wait_acks_after "$t0" 30
diag "timing: bed up, fencing configured, VM started and acking after $(($(bed_now_ms) - t0)) ms"
sleep 2

# 1. Planned move.
active=$first
to=$(other_than "$active")
tm=$(bed_now_ms)
bed_crm 1 crm_resource --move -r "$VMHA_RSC" -N "$to" >/dev/null 2>&1
check_eq "move: the VM runs on $to" "$to" "$(bed_wait_where "$VMHA_RSC" "$to" 60)"
bed_crm 1 crm_resource --clear -r "$VMHA_RSC" >/dev/null 2>&1
check "move: the guest acknowledges records on $to" vmha_wait_handoff "$tm" 30
read -r _ ol ob ot nn nf nb nt <<<"$(vmha_handoff "$tm")"
diag "timing: planned move $active -> $to: guest service gap $((${nf:-0} - ${ol:-0})) ms (last ack on $active to first on ${nn:-?}), move command to first ack $((${nf:-0} - tm)) ms"
check "move: never on two nodes" no_overlap_since "$tm"
check "move: no reboot (boot ${ob:-?} -> ${nb:-?}): stop saved, start restored" test "${nb:-x}" = "${ob:-y}"
check "move: the guest's in-memory counter continues (${ot:-?} -> ${nt:-?})" test "${nt:-0}" -gt "${ot:-0}"
active=$to
sleep 2

# 2. Live migration.
if vmha_advertises migrate_to && vmha_advertises migrate_from; then
	bed_crm 1 crm_resource -r "$VMHA_RSC" --meta -p allow-migrate -v true >/dev/null 2>&1
	to=$(other_than "$active")
	tm=$(bed_now_ms)
	bed_crm 1 crm_resource --move -r "$VMHA_RSC" -N "$to" >/dev/null 2>&1
	check_eq "migrate: the VM runs on $to" "$to" "$(bed_wait_where "$VMHA_RSC" "$to" 60)"
	bed_crm 1 crm_resource --clear -r "$VMHA_RSC" >/dev/null 2>&1
	check "migrate: the guest acknowledges records on $to" vmha_wait_handoff "$tm" 30
	read -r _ ol ob ot nn nf nb nt <<<"$(vmha_handoff "$tm")"
	check "migrate: Pacemaker ran migrate_to (pacemaker.log)" \
		grep -qs "migrate_to" "$BED_DIR"/n*/log/pacemaker/pacemaker.log
	check_eq "migrate: no reboot" "${ob:-?}" "${nb:-}"
	check "migrate: the guest's counter continues (${ot:-?} -> ${nt:-?})" test "${nt:-0}" -gt "${ot:-0}"
	check "migrate: never on two nodes" no_overlap_since "$tm"
	# Pull style: the source ran through migrate_to, migrate_from took the
	# guest over TCP straight into the target's vmm (no state file).
	vdown=$(grep -ho "migrate_from $active: migrated in: downtime [0-9.]* ms" \
		"$BED_DIR"/n*/log/pacemaker/pacemaker.log | tail -1)
	check "migrate: migrate_from pulled the guest from $active's vmm (downtime logged)" test -n "$vdown"
	check "migrate: no state file on the way" test ! -e "$BED_DIR/store/$VMHA_VM.vsv"
	check "migrate: the offer is gone" test ! -e "$BED_DIR/store/$VMHA_VM.vsv.migrate"
	gap=$((${nf:-0} - ${ol:-0}))
	check "migrate: the guest-visible gap is recorded ($gap ms)" test -n "${nf:-}" -a -n "${ol:-}" -a "$gap" -gt 0
	diag "timing: live migration $active -> $to: guest service gap $gap ms (last ack on $active to first on $to), guest schedule slip $(vmha_stall "$tm") ms; agent: ${vdown:-no downtime line}"
	bed_crm 1 crm_resource -r "$VMHA_RSC" --meta -d allow-migrate >/dev/null 2>&1
	active=$to
	sleep 2
else
	skip "live migration" "the agent does not advertise migrate_to/migrate_from yet (docs/ocf-agent.md)"
fi

# 3. Node kill.
victim=$active
view=$(other_than "$victim")
settle "$view"
tk=$(bed_now_ms)
bed_kill_node "$victim"
survivor=$(bed_wait_where -n "$view" "$VMHA_RSC" "!$victim" 90)
check "kill: the VM restarts on a survivor ($survivor)" test -n "$survivor"
check "kill: $victim is fenced by fence_havm" bed_wait_fenced -n "$view" "$victim" 30 $((tk / 1000))
check "kill: the guest acknowledges records on $survivor" vmha_wait_handoff "$tk" 30
read -r _ ol ob ot nn nf nb nt <<<"$(vmha_handoff "$tk")"
diag "timing: node kill $victim -> $survivor: node death to guest acking again $((${nf:-0} - tk)) ms (vmm running after $(($(bed_sample_wait "$VMHA_RSC" "$tk" "^ $survivor$") - tk)) ms)"
check "kill: never on two nodes" no_overlap_since "$tk"
check "kill: $victim restarts and rejoins" restart_node "$victim"

# 4. Partition: the VM's disk is not on the PR-protected LUN (vmm has no
# iSCSI disk backend yet), so only the minority's quorum-loss stop protects
# it; a fence delay gives that stop time, as a power switch's latency would.
# Changing the device makes Pacemaker unfence every node again: settle
# before the cut.
bed_crm "$view" crm_resource -r fence-havm --set-parameter pcmk_delay_base -v 6s >/dev/null 2>&1
check "partition: the cluster settles before the cut" settle "$view"
active=$(bed_wait_where -n "$view" "$VMHA_RSC" '!none' 30)
victim=$active
view=$(other_than "$victim")
tp=$(bed_now_ms)
bed_partition "$victim"
check "partition: $victim loses quorum" bed_wait_unquorate "$victim" 30
stopped() { ! vmha_probe "$victim"; }
check "partition: the minority $victim stops its VM" bed_poll 30 0.2 stopped
tstop=$(bed_now_ms)
survivor=$(bed_wait_where -n "$view" "$VMHA_RSC" "!$victim" 90)
check "partition: the majority runs the VM ($survivor)" test -n "$survivor"
check "partition: $victim is fenced by fence_havm" bed_wait_fenced -n "$view" "$victim" 30 $((tp / 1000))
bed_havm_key_status -n "$view" "$victim" "$lun"
check_eq "partition: $victim's key is gone from the LUN (status off = 2)" "2" "$?"
check "partition: the guest acknowledges records on $survivor" vmha_wait_handoff "$tp" 30
read -r _ ol ob ot nn nf nb nt <<<"$(vmha_handoff "$tp")"
diag "timing: partition of $victim: minority stopped the vmm after $((tstop - tp)) ms, guest acking on $survivor after $((${nf:-0} - tp)) ms (fence delay 6 s)"
check "partition: never on two nodes" no_overlap_since "$tp"
bed_heal "$victim"
check "partition: $victim restarts and rejoins" restart_node "$victim"
bed_crm "$view" crm_resource -r fence-havm --delete-parameter pcmk_delay_base >/dev/null 2>&1
settle "$view"
active=$(bed_wait_where -n "$view" "$VMHA_RSC" '!none' 30)

# 5. Freeze: the frozen node is fenced (its storage key removed); the test
# then kills it, as a power fence would.
victim=$active
view=$(other_than "$victim")
tf=$(bed_now_ms)
bed_freeze "$victim"
check "freeze: $victim is fenced" bed_wait_fenced -n "$view" "$victim" 60 $((tf / 1000))
bed_kill_node "$victim"
survivor=$(bed_wait_where -n "$view" "$VMHA_RSC" "!$victim" 90)
check "freeze: the VM runs on a survivor ($survivor)" test -n "$survivor"
check "freeze: the guest acknowledges records on $survivor" vmha_wait_handoff "$tf" 30
read -r _ ol ob ot nn nf nb nt <<<"$(vmha_handoff "$tf")"
diag "timing: freeze of $victim: guest acking on $survivor after $((${nf:-0} - tf)) ms"
check "freeze: never on two nodes" no_overlap_since "$tf"
active=$survivor

# 6. Storage path loss on the active node (2 nodes left, still quorate).
ts=$(bed_now_ms)
bed_san_cut "$active"
sleep 15
one_node() { [[ $(tail -1 "$BED_DIR/sample-$VMHA_RSC.log" | awk '{ print NF - 1 }') == 1 ]]; }
check "storage loss: the VM runs on exactly one node" one_node
where_now=$(bed_where "$VMHA_RSC")
diag "storage loss on $active: after 15 s the VM is on ${where_now:-nowhere}"
check "storage loss: the guest still acknowledges records" vmha_wait_acks_after "$(bed_now_ms)" 30
check "storage loss: never on two nodes" no_overlap_since "$ts"
bed_san_restore "$active"

bed_sample_stop
diag "sampler: $(wc -l <"$BED_DIR/sample-$VMHA_RSC.transients") two-node reads not confirmed by the reverse read (a handover between two probes):"
sed 's/^/#   /' "$BED_DIR/sample-$VMHA_RSC.transients"
vmha_collect_stop
check_eq "the VM never ran on two nodes at once (whole run)" "" "$(bed_sample_overlaps "$VMHA_RSC")"
acked=$(vmha_ack_count)
check "the guest saw records acknowledged ($acked)" test "$acked" -gt 100
lost=$(vmha_lost_records)
check_eq "every acknowledged record is on the disk" "" "$lost"
diag "timeline (sampler, vmm process per node):"
vmha_timeline "$t0" | sed 's/^/# /'
diag "timing: whole test $(($(bed_now_ms) - t0)) ms"
done_testing
