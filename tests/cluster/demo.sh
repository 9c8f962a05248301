#!/usr/bin/env bash
# `make demo` (as root): a 3-node corosync + Pacemaker cluster in network
# namespaces with a SAN and fence_havm, one VM under ocf:havm:VirtualServer,
# a planned move, the death of its node, then a timeline of who ran the VM
# when and the downtime per event; everything is torn down at the end.
# docs/ha-scenarios.md explains the pieces; tests/cluster/test_vm_ha.sh runs
# the full set of scenarios with assertions.
# DEMO_GUEST=linux (default): Debian's 686 Linux (make guest-linux) with a
# service that syncs numbered records to ext2 on its VHD and acknowledges
# each on the console (guest/linux/demo-init.in); DEMO_GUEST_MIB sizes it
# (default 256). DEMO_GUEST=recorder: the freestanding recorder guest
# (tests/guests/recorder.c), which starts in milliseconds.
set -u
guest=${DEMO_GUEST:-linux}
mib=${DEMO_GUEST_MIB:-256}
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
case $guest in
linux) need=("$HAVM_TOP"/build/guest/linux/{vmlinux,demo-initrd.img,cmdline} "$BED_BUILD/bin/havm")
	command -v debugfs >/dev/null || lacking+=" e2fsprogs" ;;
recorder) need=("$HAVM_TOP/build/guests/recorder.bin") ;;
*) echo "make demo: DEMO_GUEST is linux or recorder, not '$guest'"; exit 1 ;;
esac
[[ -z $lacking ]] || { echo "make demo: missing:$lacking (make deps installs them)"; exit 1; }
for f in "$BED_BUILD/ocf/havm/VirtualServer" "$BED_BUILD/bin/vmm" "$BED_BUILD/bin/fence_havm" "${need[@]}"; do
	[[ -e $f ]] || { echo "make demo: $f is not built (make all guests guest-linux)"; exit 1; }
done

bed_init
_demo_down() {
	vmha_collect_stop
	say "tearing down the cluster"
	bed_down
	say "done"
}
trap _demo_down EXIT
# A Linux boot under vmm (no KVM) takes ~10-30 s on a loaded machine: every
# wait below is bounded with room for that.
if [[ $guest == linux ]]; then
	bed_watchdog 900
	boot_s=240
	say "guest: Debian 686 Linux, $mib MiB, initramfs + a 32 MiB VHD (ext2) in the store; its service"
	say "       appends 'SEQ BOOT UPTIME' to /records on the disk, syncs, then prints 'ack ...' on COM1"
else
	bed_watchdog 400
	boot_s=30
	say "guest: the recorder test guest (tests/guests/recorder.c), a ticker that writes a"
	say "       sequenced record to its disk every 100 ms and prints each acknowledged one"
fi
t0=$(bed_now_ms)
say "bringing up 3 nodes (corosync + Pacemaker) and a SAN (tgtd) in namespaces rt-$BED_ID-*"
bed_up 3 2>/dev/null && bed_san_up 2>/dev/null || fail "bed did not come up"
lun=$(bed_san_lun fence0 16 2>/dev/null)
bed_install_agents 2>/dev/null || fail "agents not installed"
bed_wait_online 90 >/dev/null 2>&1 || fail "nodes not online"
bed_fencing_havm "$lun" >/dev/null 2>&1 || fail "fence_havm not configured"
say "cluster online: $(bed_online | xargs) (token ${BED_TOKEN:-2000} ms, fence_havm over iSCSI PR)"

if [[ $guest == linux ]]; then
	vmha_setup_linux save "$mib" >/dev/null 2>&1 || fail "VM resource not created"
else
	vmha_setup save >/dev/null 2>&1 || fail "VM resource not created"
fi
vmha_collect_start 900
first=$(bed_wait_where "$VMHA_RSC" '!none' 90 2>/dev/null)
[[ -n $first ]] || fail "the VM did not start"
tplaced=$(bed_now_ms)
bed_sample_start "$VMHA_RSC" vmha_probe 0.2
vmha_wait_acks_after "$t0" "$boot_s" || fail "the guest acknowledges nothing"
tstart=$(vmha_acks | awk 'NR == 1 { print $1 }')
say "VM $VMHA_VM started on $first; the guest is writing records"
sleep 5

to=n1
[[ $first == n1 ]] && to=n2
say "planned move: crm_resource --move $VMHA_RSC to $to"
tm=$(bed_now_ms)
bed_crm 1 crm_resource --move -r "$VMHA_RSC" -N "$to" >/dev/null 2>&1
[[ $(bed_wait_where "$VMHA_RSC" "$to" 120 2>/dev/null) == "$to" ]] || fail "the move did not happen"
bed_crm 1 crm_resource --clear -r "$VMHA_RSC" >/dev/null 2>&1
vmha_wait_handoff "$tm" "$boot_s" || fail "no acks on $to after the move"
read -r _ mol mob mot _ mnf mnb mnt <<<"$(vmha_handoff "$tm")"
seq_at() { vmha_acks | awk -v t="$1" '$1 == t { print $3; exit }'; }
mos=$(seq_at "$mol") mns=$(seq_at "$mnf")
if [[ $mnb == "$mob" ]]; then resumed="resumed from saved state, no reboot (record $mos -> $mns, guest clock $mot -> $mnt ms)"; else
	resumed="rebooted (boot $mob -> $mnb): stop_policy=save is not wired into the agent yet"; fi
say "VM runs on $to; the guest $resumed"
sleep 5

victim=$to
view=n3
say "node failure: SIGKILL of everything on $victim (corosync, Pacemaker, vmm)"
tk=$(bed_now_ms)
bed_kill_node "$victim" 2>/dev/null
survivor=$(bed_wait_where -n "$view" "$VMHA_RSC" "!$victim" 120 2>/dev/null)
[[ -n $survivor ]] || fail "the VM did not come back"
fenced=no
bed_wait_fenced -n "$view" "$victim" 30 $((tk / 1000)) 2>/dev/null && fenced=yes
vmha_wait_handoff "$tk" "$boot_s" || fail "no acks on $survivor after the failover"
read -r _ kol kob _ _ knf knb _ <<<"$(vmha_handoff "$tk")"
kos=$(seq_at "$kol") kns=$(seq_at "$knf")
say "VM restarted on $survivor ($victim fenced by fence_havm: $fenced); the guest booted again (boot $kob -> $knb: a dead node saves nothing) and continues its records from the disk (record $kos -> $kns)"
sleep 3

# The disk is read with the VM stopped (its stop saves the state as usual).
say "stopping $VMHA_RSC to read its disk"
bed_crm "${view#n}" crm_resource -r "$VMHA_RSC" --meta -p target-role -v Stopped >/dev/null 2>&1
bed_wait_where -n "$view" "$VMHA_RSC" "" 120 >/dev/null 2>&1 || fail "the VM did not stop"
sleep 1
bed_sample_stop
vmha_collect_stop
echo
echo "Timeline (who ran the vmm process, sampled every 0.2 s; +s since bring-up):"
vmha_timeline "$t0"
echo
echo "Events:"
at() { awk -v t="$1" -v t0="$t0" 'BEGIN { printf "+%.1fs", (t - t0) / 1000 }'; }
printf '  %-8s %-30s %s\n' "$(at "$tplaced")" "VM started on $first" "cold boot: first record $((tstart - tplaced)) ms later"
printf '  %-8s %-30s %s\n' "$(at "$tm")" "planned move $first -> $to" "guest service gap $((mnf - mol)) ms (last record on $first to first on $to)"
printf '  %-8s %-30s %s\n' "$(at "$tk")" "node kill of $victim -> $survivor" "downtime $((knf - tk)) ms (the kill to the first record on $survivor)"
overlaps=$(bed_sample_overlaps "$VMHA_RSC")
lost=$(vmha_lost_records)
echo
echo "Invariants:"
echo "  VM on two nodes at once:          $([[ -z $overlaps ]] && echo never || echo "YES: $overlaps")"
echo "  acknowledged records on the disk: $(vmha_ack_count) seen, $([[ -z $lost ]] && echo "all present" || echo "MISSING: $lost")"
[[ $guest == linux ]] && echo "  records in /records on the VHD:   $(vmha_linux_records | wc -l) (boots: $(vmha_linux_records | awk '{ print $2 }' | sort -u | xargs))"
echo
[[ -z $overlaps && -z $lost ]]
