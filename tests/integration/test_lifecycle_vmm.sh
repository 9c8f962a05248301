#!/usr/bin/env bash
# The lifecycle end to end with the real vmm and the ticker test guest,
# through the `havm` CLI and the OCF agent: Online starts a detached vmm that
# holds the runtime lock, LooksAlive/IsAlive see it, a second Online is a
# no-op, Offline by poweroff ends it cleanly, Terminate kills it, a SIGKILLed
# vmm reads as stopped and the next Online recovers; the agent's start,
# depth-0/10 monitors and stop (a save that fails falls back to poweroff) do
# the same, and resource-agents' ocf-tester passes the agent (stop saves,
# start resumes; migrate_to/migrate_from advertised). Saved state in detail:
# test_lifecycle_saverestore.sh.
source "$(dirname "$0")/../lib/tap.sh"
havm=$HAVM_BIN/havm
agent=$HAVM_BIN/VirtualServer
vmm=$HAVM_BIN/vmm
ticker=$HAVM_TOP/build/guests/ticker.bin
if [[ ! -x $havm || ! -x $agent || ! -x $vmm || ! -f $ticker ]]; then
	skip "lifecycle with the real vmm" "havm, VirtualServer, vmm or the ticker guest is not built"
	done_testing
	exit
fi
export HAVM_VMM=$vmm HAVM_RUNDIR=$scratch/run
store=$scratch/store
mkdir -p "$store"
cat >"$store/tick1.vmc" <<VMC
<vm name="tick1">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$ticker</image></boot>
  <serial port="com1" backend="file" path="$scratch/serial.txt"/>
</vm>
VMC
rd=$HAVM_RUNDIR/tick1
vmm_pid() { cut -d' ' -f1 "$rd/vmm.pid" 2>/dev/null; }
# Whatever happens, no vmm of ours outlives the test.
at_exit "p=\$(cut -d' ' -f1 '$rd/vmm.pid' 2>/dev/null); [[ -n \$p ]] && kill -9 \$p 2>/dev/null"
last_tick() { grep -o '^tick [0-9]*' "$scratch/serial.txt" 2>/dev/null | tail -1 | cut -d' ' -f2; }
wait_ticks() { # n: wait (bounded, 30 s) until the guest printed tick n
	local i t
	for ((i = 0; i < 300; i++)); do
		t=$(last_tick)
		[[ -n $t ]] && ((t >= $1)) && return 0
		sleep 0.1
	done
	return 1
}
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# --- havm CLI -----------------------------------------------------------------
out=$("$havm" online tick1 --store "dir:$store" 2>&1)
check_eq "havm online starts the VM" "vm tick1: online ok" "$out"
pid=$(vmm_pid)
check "the vmm runs detached as 'vmm' with the lock on fd 3" \
	bash -c "[[ \$(cat /proc/$pid/comm) == vmm && \$(readlink /proc/$pid/fd/3) == '$rd/lock' ]]"
check "the vmm holds no other descriptor of its parent beyond 0-3 and its own" \
	bash -c "[[ \$(readlink /proc/$pid/fd/0) == /dev/null && \$(readlink /proc/$pid/fd/1) == '$rd/vmm.log' ]]"
check "the guest runs (ticks)" wait_ticks 3
check_eq "looksalive: running" "vm tick1: running" "$("$havm" looksalive "$store/tick1.vmc")"
check_eq "isalive --json: running" '{"command":"isalive","vm":"tick1","ok":true,"status":"running"}' \
	"$("$havm" isalive --json "$store/tick1.vmc")"
"$havm" online "$store/tick1.vmc" >/dev/null
check_eq "a second online is a no-op" "$pid" "$(vmm_pid)"
check "flock(1) cannot take the VM's lock while it runs" bash -c "! flock -n '$rd/lock' true"

"$havm" offline --stop-policy shutdown "$store/tick1.vmc" >/dev/null 2>"$scratch/err"
check_eq "offline by shutdown: unsupported (exit 11), VM untouched" "11 $pid" "$? $(vmm_pid)"
out=$("$havm" offline --stop-policy poweroff "$store/tick1.vmc" 2>&1)
check_eq "offline by poweroff" "vm tick1: offline ok" "$out"
check "... the vmm exited" gone "$pid"
check "... its pidfile and socket are gone" test ! -e "$rd/vmm.pid" -a ! -e "$rd/ctl.sock"
check "... vmm logged a clean end" grep -q 'ended (poweroff: powered off on request), exit status 0' "$rd/vmm.log"
"$havm" looksalive "$store/tick1.vmc" >/dev/null
check_eq "looksalive after offline: exit 9 (not running)" 9 $?

"$havm" online "$store/tick1.vmc" >/dev/null
pid=$(vmm_pid)
"$havm" terminate "$store/tick1.vmc" >/dev/null
check_eq "terminate: exit 0" 0 $?
check "... the vmm was killed" gone "$pid"
check "... runtime files removed" test ! -e "$rd/vmm.pid"

"$havm" online "$store/tick1.vmc" >/dev/null
pid=$(vmm_pid)
kill -9 "$pid"
for ((i = 0; i < 50; i++)); do gone "$pid" && break; sleep 0.1; done
check_eq "a crashed vmm reads as stopped" "vm tick1: stopped" "$("$havm" looksalive "$store/tick1.vmc")"
check "... leaving its pidfile behind" test -e "$rd/vmm.pid"
"$havm" online "$store/tick1.vmc" >/dev/null
check "online after the crash starts a new vmm" bash -c "p=\$(cut -d' ' -f1 '$rd/vmm.pid'); [[ -n \$p && \$p != $pid ]] && kill -0 \$p"
"$havm" terminate "$store/tick1.vmc" >/dev/null

# Three onlines at once: one starts the vmm, the others wait for the lock and
# find it running. Exactly one vmm, every caller succeeds.
for i in 1 2 3; do "$havm" online "$store/tick1.vmc" >"$scratch/race$i" 2>&1 & done
wait
check_eq "three concurrent onlines all succeed" "vm tick1: online ok
vm tick1: online ok
vm tick1: online ok" "$(cat "$scratch"/race[123])"
n=0
for p in $(pgrep -x vmm); do
	[[ $(readlink "/proc/$p/fd/3" 2>/dev/null) == "$rd/lock" ]] && n=$((n + 1))
done
check_eq "... and exactly one vmm runs for tick1" 1 "$n"
"$havm" terminate "$store/tick1.vmc" >/dev/null

# A .vmc the vmm refuses: online reports vmm's own verdict and leaves nothing.
sed 's|<memory unit="MiB">4</memory>|<memory unit="MiB">4</memory><cpu backend="kvm"/>|' \
	"$store/tick1.vmc" >"$store/kvm1.vmc"
sed -i 's/name="tick1"/name="kvm1"/' "$store/kvm1.vmc"
"$havm" online "$store/kvm1.vmc" >/dev/null 2>"$scratch/err"
check_eq "online of a VM vmm refuses: exit 11 (unsupported, from vmm's exit status)" 11 $?
check "... with vmm's last log line" grep -q 'vmm exited with status 11 before it ran: .*kvm' "$scratch/err"
check "... and no runtime files" test ! -e "$HAVM_RUNDIR/kvm1/vmm.pid"

# --- the OCF agent --------------------------------------------------------------
export OCF_RESKEY_config=$store/tick1.vmc OCF_RESKEY_CRM_meta_timeout=30000
"$agent" start 2>"$scratch/err"
check_eq "agent start: 0" 0 $?
pid=$(vmm_pid)
OCF_RESKEY_CRM_meta_interval=0 "$agent" monitor 2>/dev/null
check_eq "probe: running (0)" 0 $?
OCF_CHECK_LEVEL=10 OCF_RESKEY_CRM_meta_interval=60000 "$agent" monitor 2>/dev/null
check_eq "depth-10 monitor asks the vmm: running (0)" 0 $?
"$agent" start 2>/dev/null
check_eq "start again: 0, same vmm" "0 $pid" "$? $(vmm_pid)"
# The guest powered off but the vmm still serves: depth 10 sees the failure.
printf '{"cmd":"poweroff"}\n' | socat -t 5 - "UNIX-CONNECT:$rd/ctl.sock" >/dev/null 2>&1
OCF_CHECK_LEVEL=10 OCF_RESKEY_CRM_meta_interval=60000 "$agent" monitor 2>"$scratch/err"
check_eq "depth-10 monitor of a powered-off guest: OCF_ERR_GENERIC" 1 $?
check "... with the reason" grep -q '^ocf-exit-reason:vm tick1: its vmm runs but reports state "off"' "$scratch/err"
OCF_RESKEY_CRM_meta_interval=10000 "$agent" monitor 2>/dev/null
check_eq "depth-0 monitor only sees the process: 0" 0 $?
"$agent" stop 2>"$scratch/err"
check_eq "agent stop (save of a powered-off guest fails, falls back to poweroff): 0" 0 $?
check "... the vmm exited" gone "$pid"
check "... the fallback was logged" grep -q 'offline (save) failed, powering off' "$scratch/err"
OCF_RESKEY_CRM_meta_interval=0 "$agent" monitor 2>/dev/null
check_eq "probe after stop: 7" 7 $?
"$agent" stop 2>/dev/null
check_eq "stop again: 0" 0 $?

# --- ocf-tester (resource-agents): the whole OCF contract as Pacemaker's
# developers check it: meta-data DTD, start/stop idempotence, monitor
# codes, validate-all, start after start, stop after stop.
unset OCF_RESKEY_config OCF_RESKEY_CRM_meta_timeout
if command -v ocf-tester >/dev/null; then
	(cd "$scratch" && timeout 300 ocf-tester -v -n tick1 -o config="$store/tick1.vmc" \
		-o rundir="$HAVM_RUNDIR" "$agent") >"$scratch/ocf-tester.log" 2>&1
	check "ocf-tester passes all tests" grep -q 'passed all tests' "$scratch/ocf-tester.log"
	grep -q 'passed all tests' "$scratch/ocf-tester.log" || sed 's/^/# /' "$scratch/ocf-tester.log" | tail -20
	# Its last steps call migrate_to (not running: 1) and migrate_from for
	# presence only; migrate_from resumes the state its last stop saved.
	check "... its migrate_from resumed the state its last stop saved" \
		grep -q 'migrate_from (source unset): restored' "$scratch/ocf-tester.log"
	OCF_RESKEY_config=$store/tick1.vmc OCF_RESKEY_stop_policy=poweroff "$agent" stop 2>/dev/null
	check "... and a stop leaves the VM stopped" bash -c "! [[ -e '$rd/vmm.pid' ]]"
else
	skip "ocf-tester passes all tests" "ocf-tester (resource-agents) not installed"
fi
done_testing
