#!/usr/bin/env bash
# `make demo` (as root): a 3-node corosync + Pacemaker cluster in network
# namespaces with a SAN and fence_havm, one VM under ocf:havm:VirtualServer,
# a planned move, the death of its node, then a timeline of who ran the VM
# when and the downtime per event; everything is torn down at the end.
# docs/ha-scenarios.md explains the pieces; tests/cluster/test_vm_ha.sh runs
# the full set of scenarios with assertions.
set -u
HAVM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export HAVM_TOP
source "$HAVM_TOP/tests/cluster/lib/bed.sh"
source "$HAVM_TOP/tests/cluster/lib/vm-ha.sh"

say() { printf '%s  %s\n' "$(date +%T)" "$*"; }
fail() { say "demo failed: $*"; exit 1; }

if [[ $(id -u) != 0 ]]; then
	echo "make demo needs root (network, mount and UTS namespaces): sudo make demo"
	exit 1
fi
lacking=$(bed_requirements)
command -v socat >/dev/null || lacking+=" socat"
[[ -z $lacking ]] || { echo "make demo: missing:$lacking (make deps installs them)"; exit 1; }
for f in "$BED_BUILD/ocf/havm/VirtualServer" "$BED_BUILD/bin/vmm" "$BED_BUILD/bin/fence_havm" \
	"$HAVM_TOP/build/guests/recorder.bin"; do
	[[ -e $f ]] || { echo "make demo: $f is not built (make all guests)"; exit 1; }
done

bed_init
_demo_down() {
	vmha_collect_stop
	say "tearing down the cluster"
	bed_down
	say "done"
}
trap _demo_down EXIT
bed_watchdog 400

# The demo runs the recorder test guest: it starts in milliseconds and proves
# both invariants; a Linux VM would add ~20-40 s per start (docs/cpu.md).
say "guest: the recorder test guest (tests/guests/recorder.c), a ticker that writes a"
say "       sequenced record to its disk every 100 ms and prints each acknowledged one;"
say "       not the Linux guest: vmm boots it (docs/cpu.md, Linux boot) but needs ~20-40 s per start, and Linux in a cluster VM is not wired into the demo yet"
t0=$(bed_now_ms)
say "bringing up 3 nodes (corosync + Pacemaker) and a SAN (tgtd) in namespaces rt-$BED_ID-*"
bed_up 3 2>/dev/null && bed_san_up 2>/dev/null || fail "bed did not come up"
lun=$(bed_san_lun fence0 16 2>/dev/null)
bed_install_agents 2>/dev/null || fail "agents not installed"
bed_wait_online 90 >/dev/null 2>&1 || fail "nodes not online"
bed_fencing_havm "$lun" >/dev/null 2>&1 || fail "fence_havm not configured"
say "cluster online: $(bed_online | xargs) (token ${BED_TOKEN:-2000} ms, fence_havm over iSCSI PR)"

vmha_setup save >/dev/null 2>&1 || fail "VM resource not created"
vmha_collect_start 400
first=$(bed_wait_where "$VMHA_RSC" '!none' 90 2>/dev/null)
[[ -n $first ]] || fail "the VM did not start"
bed_sample_start "$VMHA_RSC" vmha_probe 0.2
vmha_wait_acks_after "$t0" 30 || fail "the guest acknowledges nothing"
tstart=$(bed_now_ms)
say "VM $VMHA_VM started on $first; the guest is writing records"
sleep 3

to=n1
[[ $first == n1 ]] && to=n2
say "planned move: crm_resource --move $VMHA_RSC to $to"
tm=$(bed_now_ms)
bed_crm 1 crm_resource --move -r "$VMHA_RSC" -N "$to" >/dev/null 2>&1
[[ $(bed_wait_where "$VMHA_RSC" "$to" 60 2>/dev/null) == "$to" ]] || fail "the move did not happen"
bed_crm 1 crm_resource --clear -r "$VMHA_RSC" >/dev/null 2>&1
vmha_wait_handoff "$tm" 30 || fail "no acks on $to after the move"
read -r _ mol mob mot _ mnf mnb mnt <<<"$(vmha_handoff "$tm")"
if [[ $mnb == "$mob" ]]; then resumed="resumed from saved state (counter $mot -> $mnt)"; else
	resumed="rebooted (boot $mob -> $mnb): stop_policy=save is not wired into the agent yet"; fi
say "VM runs on $to; the guest $resumed"
sleep 3

victim=$to
view=n3
say "node failure: SIGKILL of everything on $victim (corosync, Pacemaker, vmm)"
tk=$(bed_now_ms)
bed_kill_node "$victim" 2>/dev/null
survivor=$(bed_wait_where -n "$view" "$VMHA_RSC" "!$victim" 90 2>/dev/null)
[[ -n $survivor ]] || fail "the VM did not come back"
fenced=no
bed_wait_fenced -n "$view" "$victim" 30 $((tk / 1000)) 2>/dev/null && fenced=yes
vmha_wait_handoff "$tk" 30 || fail "no acks on $survivor after the failover"
read -r _ _ kob _ _ knf knb _ <<<"$(vmha_handoff "$tk")"
say "VM restarted on $survivor ($victim fenced by fence_havm: $fenced); the guest booted again (boot $kob -> $knb: a dead node saves nothing) and continues its records from the disk"
sleep 2

bed_sample_stop
vmha_collect_stop
echo
echo "Timeline (who ran the vmm process, sampled every 0.2 s; +s since bring-up):"
vmha_timeline "$t0"
echo
echo "Events:"
at() { awk -v t="$1" -v t0="$t0" 'BEGIN { printf "+%.1fs", (t - t0) / 1000 }'; }
printf '  %-8s %-30s %s\n' "$(at "$tstart")" "VM running on $first" "first record $((tstart - t0)) ms after bring-up began"
printf '  %-8s %-30s %s\n' "$(at "$tm")" "planned move $first -> $to" "guest service gap $((mnf - mol)) ms (last record on $first to first on $to)"
printf '  %-8s %-30s %s\n' "$(at "$tk")" "node kill of $victim -> $survivor" "downtime $((knf - tk)) ms (node death to the guest's first record on $survivor)"
overlaps=$(bed_sample_overlaps "$VMHA_RSC")
lost=$(vmha_lost_records)
echo
echo "Invariants:"
echo "  VM on two nodes at once:          $([[ -z $overlaps ]] && echo never || echo "YES: $overlaps")"
echo "  acknowledged records on the disk: $(vmha_ack_count) seen, $([[ -z $lost ]] && echo "all present" || echo "MISSING: $lost")"
echo
[[ -z $overlaps && -z $lost ]]
