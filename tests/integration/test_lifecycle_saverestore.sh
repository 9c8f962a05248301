#!/usr/bin/env bash
# Saved state through the lifecycle and the OCF agent, with the real vmm and
# the ticker guest (its serial counter shows whether the guest continued or
# booted afresh: a fresh boot prints "tick 1" first):
#  - stop (stop_policy save) writes <vm>.vsv atomically and the vmm ends;
#    the next start resumes from it, the counter continues, and the file is
#    set aside as .vsv.consumed so it is never restored twice;
#  - a .vsv whose disk was written after the save, or a damaged one, is set
#    aside as .vsv.refused with a WARNING and the VM boots: the start
#    succeeds;
#  - migrate_to / migrate_from between two "nodes" (two runtime directories
#    over one shared store): migrate_to offers the VM and the guest runs on;
#    migrate_from pulls it over TCP (pre-copy, the guest paused only for
#    the last pass, downtime logged), the source ends as migrated, the
#    target runs on without a reboot; the dangling stop on the source
#    succeeds and leaves the target alone; an offer whose helper is gone
#    fails migrate_from (1) with nothing started and the source running on;
#    a disk written during the pre-copy (fault point migrate.disk_moved)
#    still migrates by pre-copy (no restart, no stop-and-copy): the state
#    names the disk's generation at the last pass; a source
#    vmm killed mid-stream (stream.frame:2:crash) leaves the target with
#    nothing restored and nothing running;
#  - validate-all rejects stop_policy=shutdown (6) with the reason.
source "$(dirname "$0")/../lib/tap.sh"
agent=$HAVM_BIN/VirtualServer
havm=$HAVM_BIN/havm
vmm=$HAVM_BIN/vmm
ticker=$HAVM_TOP/build/guests/ticker.bin
if [[ ! -x $agent || ! -x $havm || ! -x $vmm || ! -f $ticker ]]; then
	skip "save/restore through the lifecycle" "VirtualServer, havm, vmm or the ticker guest is not built"
	done_testing
	exit
fi
export HAVM_VMM=$vmm
store=$scratch/store
mkdir -p "$store"
truncate -s 1M "$store/tick2.img"
cat >"$store/tick2.vmc" <<VMC
<vm name="tick2">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$ticker</image></boot>
  <disk path="$store/tick2.img" format="raw"/>
  <serial port="com1" backend="file" path="$scratch/serial.txt"/>
</vm>
VMC
runA=$scratch/nodeA runB=$scratch/nodeB
for n in A B; do
	at_exit "p=\$(cut -d' ' -f1 '$scratch/node$n/tick2/vmm.pid' 2>/dev/null); [[ -n \$p ]] && kill -9 \$p 2>/dev/null"
done
vmm_pid() { cut -d' ' -f1 "$1/tick2/vmm.pid" 2>/dev/null; }
gone() { [[ -z $1 ]] || ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
# The serial file is rewritten by each vmm: its first tick says how the
# guest started (1 = booted, more = resumed).
first_tick() { grep -ao '^tick [0-9]*' "$scratch/serial.txt" 2>/dev/null | head -1 | cut -d' ' -f2; }
last_tick() { grep -ao '^tick [0-9]*' "$scratch/serial.txt" 2>/dev/null | tail -1 | cut -d' ' -f2; }
wait_ticks() { # n: bounded wait (30 s) until the guest printed tick n
	local i t
	for ((i = 0; i < 300; i++)); do
		t=$(last_tick)
		[[ -n $t ]] && ((t >= $1)) && return 0
		sleep 0.1
	done
	return 1
}
# ag NODE ACTION [VAR=VALUE...]: the agent as Pacemaker runs it on NODE.
ag() {
	local node=$1 action=$2
	shift 2
	env OCF_RESKEY_config="$store/tick2.vmc" OCF_RESKEY_rundir="$scratch/node$node" \
		OCF_RESKEY_CRM_meta_timeout=30000 OCF_RESOURCE_INSTANCE=tick2 "$@" \
		"$agent" "$action" 2>>"$scratch/agent$node.log"
}

# --- stop saves, start resumes ---------------------------------------------------
ag A start
check_eq "start (no state yet): 0" 0 $?
check "... the guest booted and ticks" wait_ticks 3
check_eq "... from tick 1" 1 "$(first_tick)"
pid=$(vmm_pid "$runA")
ag A stop
check_eq "stop with stop_policy save (default): 0" 0 $?
saved_at=$(last_tick)
check "... the vmm ended" gone "$pid"
check "... the state is in <vm>.vsv beside the .vmc" test -s "$store/tick2.vsv"
check "... vmm wrote it (a valid .vsv)" bash -c "'$havm' vsv info --verify '$store/tick2.vsv' >/dev/null"
check "... no temporary file left" test ! -e "$store/tick2.vsv.tmp"
check "... the save was logged" grep -q 'vm tick2: state saved to .*tick2.vsv' "$scratch/agentA.log"
check "... and the vmm ended as saved" grep -q 'ended (saved' "$runA/tick2/vmm.log"
ag A monitor OCF_RESKEY_CRM_meta_interval=0
check_eq "probe after the save: 7" 7 $?

ag A start
check_eq "start with a saved state: 0" 0 $?
check "... logged as restored" grep -q 'vm tick2: online (restored)' "$scratch/agentA.log"
check "... the guest runs on" wait_ticks $((saved_at + 2))
ft=$(first_tick)
check "... continuing its counter (first tick $ft after a save at $saved_at, never tick 1)" \
	test -n "$ft" -a "${ft:-0}" -gt 1 -a "${ft:-0}" -ge "$saved_at"
check "... the state was consumed: .vsv gone" test ! -e "$store/tick2.vsv"
check "... kept aside as .vsv.consumed" test -s "$store/tick2.vsv.consumed"
ag A monitor OCF_CHECK_LEVEL=10 OCF_RESKEY_CRM_meta_interval=60000
check_eq "depth-10 monitor of the resumed VM: 0" 0 $?

# --- a stale state: the disk moved on after the save ---------------------------------
ag A stop
check "stop saves again" test -s "$store/tick2.vsv"
printf 'changed' | dd of="$store/tick2.img" bs=1 seek=4096 conv=notrunc 2>/dev/null
: >"$scratch/agentA.log"
ag A start
check_eq "start over a stale state (disk written since the save): still 0" 0 $?
check "... with a WARNING naming the refusal" grep -q 'warning.*saved state .*tick2.vsv refused, setting it aside as .*tick2.vsv.refused and booting afresh.*moved on' "$scratch/agentA.log"
check "... the refused file is kept aside for the admin" test -s "$store/tick2.vsv.refused"
check "... and no .vsv is left to be retried" test ! -e "$store/tick2.vsv"
check "... the VM booted afresh" wait_ticks 2
check_eq "... (tick 1 first)" 1 "$(first_tick)"

# --- a damaged state -------------------------------------------------------------
ag A stop
head -c 4096 /dev/urandom >"$store/tick2.vsv"
: >"$scratch/agentA.log"
ag A start
check_eq "start over a damaged .vsv: 0" 0 $?
check "... WARNING and set aside" bash -c "grep -q 'warning.*tick2.vsv refused' '$scratch/agentA.log' && test -s '$store/tick2.vsv.refused' && test ! -e '$store/tick2.vsv'"
check "... booted afresh" wait_ticks 1

# --- live migration between two nodes: migrate_to offers, migrate_from pulls ------
check "migration: the source runs" wait_ticks 3
src=$(vmm_pid "$runA")
offer=$store/tick2.vsv.migrate
: >"$scratch/agentA.log"
ag A migrate_to OCF_RESKEY_CRM_meta_migrate_target=nodeB
check_eq "migrate_to on the source: 0" 0 $?
check "... the offer is in the shared store" grep -Eq '^havm-migrate 1 [0-9]+ [0-9a-f]{32} ' "$offer"
check "... readable by root only" test "$(stat -c %a "$offer" 2>/dev/null)" = 600
t0=$(last_tick)
check "... the source guest runs on through migrate_to" wait_ticks $((t0 + 3))
check_eq "... in the same vmm" "$src" "$(vmm_pid "$runA")"
ag A monitor OCF_RESKEY_CRM_meta_interval=10000
check_eq "... the source's monitor between the two steps: 0" 0 $?
: >"$scratch/agentB.log"
mig_at=$(last_tick) # the source's count before the handover
ag B migrate_from OCF_RESKEY_CRM_meta_migrate_source=nodeA OCF_RESKEY_migrate_downtime=200
check_eq "migrate_from on the target: 0" 0 $?
check "... the downtime is logged" \
	grep -Eq 'migrate_from nodeA: migrated in: downtime [0-9.]+ ms \(budget 200 ms\)' "$scratch/agentB.log"
grep -o 'migrated in: .*' "$scratch/agentB.log" | sed 's/^/# /'
check "... the source vmm ended" gone "$src"
check "... as migrated" grep -q 'ended (migrated' "$runA/tick2/vmm.log"
check "... pre-copy stopped by vmm's rule with migrate_to's migrate_downtime (default 500) as its limit" \
	grep -Eq 'migrated to .*, converged \((small|downtime)\), downtime [0-9.]+ ms \(expected [0-9.]+, limit 500\)' \
	"$runA/tick2/vmm.log"
check "... the offer is gone" test ! -e "$offer"
check "... no state file was needed" test ! -e "$store/tick2.vsv"
dst=$(vmm_pid "$runB")
check "... the target vmm runs" kill -0 "$dst"
check "... the guest continues (no tick 1)" bash -c "sleep 0.5; [[ \$(grep -ao '^tick [0-9]*' '$scratch/serial.txt' | head -1 | cut -d' ' -f2) -ge $mig_at ]]"
ag A monitor OCF_RESKEY_CRM_meta_interval=10000
check_eq "... the source's monitor: 7" 7 $?
ag B monitor OCF_CHECK_LEVEL=10 OCF_RESKEY_CRM_meta_interval=60000
check_eq "... depth-10 monitor on the target: 0" 0 $?
ag A stop
check_eq "the dangling stop on the source: 0" 0 $?
check "... and the target runs on" kill -0 "$dst"
ag B migrate_from OCF_RESKEY_CRM_meta_migrate_source=nodeA
check_eq "migrate_from again (already running): 0, same vmm" "0 $dst" "$? $(vmm_pid "$runB")"

# The source's helper gone between the two steps (its node failed, or the
# offer timed out): migrate_from fails, nothing starts, the source runs on.
ag B migrate_to OCF_RESKEY_CRM_meta_migrate_target=nodeA
check_eq "migrate_to back: 0" 0 $?
helper=$(grep -o 'helper pid [0-9]*' "$runB/tick2/migrate.log" | tail -1 | cut -d' ' -f3)
check "... its helper runs" kill -0 "${helper:-0}"
[[ -n $helper ]] && kill -9 "$helper"
: >"$scratch/agentA.log"
ag A migrate_from OCF_RESKEY_CRM_meta_migrate_source=nodeB
check_eq "migrate_from with the helper gone: 1" 1 $?
check "... with the reason" grep -q "ocf-exit-reason:.*migration helper cannot be reached" "$scratch/agentA.log"
check "... nothing runs on the target" test ! -e "$runA/tick2/vmm.pid"
t1=$(last_tick)
check "... the source guest runs on" wait_ticks $((t1 + 2))
check_eq "... in the same vmm" "$dst" "$(vmm_pid "$runB")"
check "... the stale offer is removed" test ! -e "$offer"

# A disk written during the pre-copy (the fault point migrate.disk_moved
# moves the disk's write generation on after pass 0, while the guest
# runs): the final disks record names the generation at the last pass, so
# the target takes the pre-copied state as it is: no restart, no
# stop-and-copy, a small downtime.
ag B stop OCF_RESKEY_stop_policy=poweroff
ag A start HAVM_FAULT_AT=migrate.disk_moved:1:fail
sleep 2
ag A migrate_to
mig_at=$(last_tick)
: >"$scratch/agentB.log"
ag B migrate_from OCF_RESKEY_CRM_meta_migrate_source=nodeA
check_eq "disk written during the pre-copy: migrate_from 0" 0 $?
check "... the disk moved on during the pre-copy" grep -q 'wrote its disks during pre-copy' "$runA/tick2/vmm.log"
mig_line=$(grep 'migrated to .* passes' "$runA/tick2/vmm.log" | tail -1)
diag "source: ${mig_line#*: }"
check "... finished by pre-copy (converged, at least 2 passes)" \
	bash -c "grep -q ' converged (' <<<'$mig_line' && [[ \$(grep -o '[0-9]* passes' <<<'$mig_line' | cut -d' ' -f1) -ge 2 ]]"
check "... no stop-and-copy restart" bash -c "! grep -q 'restarted the stream' '$runB/tick2/vmm.log'"
check "... and the guest continues" wait_ticks $((mig_at + 2))

# The source vmm dies in the middle of the stream (stream.frame:2:crash):
# the target never restores a partial stream and nothing runs there.
ag B stop OCF_RESKEY_stop_policy=poweroff
ag A start HAVM_FAULT_AT=stream.frame:2:crash
src=$(vmm_pid "$runA")
ag A migrate_to
: >"$scratch/agentB.log"
restores() { grep -cs 'restored from the migration stream' "$runB/tick2/vmm.log"; }
before=$(restores)
ag B migrate_from OCF_RESKEY_CRM_meta_migrate_source=nodeA
check_eq "source killed mid-stream: migrate_from 1" 1 $?
check "... the source vmm died at the fault point" gone "$src"
check_eq "... the target restored nothing" "$before" "$(restores)"
check "... and nothing runs on the target" test ! -e "$runB/tick2/vmm.pid"
ag A stop
check_eq "... the source's stop afterwards: 0" 0 $?
rm -f "$offer"

ag A migrate_to OCF_RESKEY_CRM_meta_migrate_target=nodeB
check_eq "migrate_to where the VM does not run: 1" 1 $?
check "... with the reason" grep -q 'ocf-exit-reason:vm tick2: migrate: not running on this node' "$scratch/agentA.log"
ag B stop OCF_RESKEY_stop_policy=poweroff
ag A migrate_from OCF_RESKEY_CRM_meta_migrate_source=nodeB
check_eq "migrate_from without a state: 1, never a cold boot" 1 $?
check "... nothing runs there" test ! -e "$runA/tick2/vmm.pid"

# --- havm migrate-out (CLI) --------------------------------------------------------
"$havm" online --rundir "$runA" "$store/tick2.vmc" >/dev/null
wait_ticks 2
out=$("$havm" migrate-out --rundir "$runA" "$store/tick2.vmc")
check "havm migrate-out reports passes and downtime" grep -Eq '^vm tick2: migrate-out ok \([0-9]+ passes, downtime [0-9.]+ ms\)$' <<<"$out"
out=$("$havm" online --restore-only --rundir "$runB" "$store/tick2.vmc")
check_eq "havm online --restore-only on the other node resumes it" "vm tick2: online ok (restored)" "$out"
"$havm" terminate --rundir "$runB" "$store/tick2.vmc" >/dev/null

# --- validate-all ---------------------------------------------------------------
ag A validate-all OCF_RESKEY_stop_policy=shutdown
check_eq "validate-all with stop_policy=shutdown: 6" 6 $?
check "... the reason names VM Additions" grep -q "ocf-exit-reason:parameter 'stop_policy' is 'shutdown': a graceful guest shutdown needs VM Additions" "$scratch/agentA.log"
ag A validate-all OCF_RESKEY_stop_policy=poweroff
check_eq "validate-all with stop_policy=poweroff: 0" 0 $?
"$agent" meta-data >"$scratch/md.xml"
check "meta-data advertises migrate_to and migrate_from" \
	bash -c "grep -q '<action name=\"migrate_to\"' '$scratch/md.xml' && grep -q '<action name=\"migrate_from\"' '$scratch/md.xml'"
done_testing
