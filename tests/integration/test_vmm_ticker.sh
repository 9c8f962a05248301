#!/usr/bin/env bash
# vmm end to end with the freestanding guests: the ticker's counter on
# COM1, control socket status/pause/resume/poweroff/quit (the counter stops
# while paused and advances after resume), typed errors, the halt guest's
# report and exit status, and config errors.
source "$(dirname "$0")/../lib/tap.sh"
vmm=$HAVM_BIN/vmm
ticker=$HAVM_TOP/examples/ticker.vmc
halt=$HAVM_TOP/examples/halt.vmc

if [[ ! -x $vmm || ! -f $HAVM_TOP/build/guests/ticker.bin || ! -f $HAVM_TOP/build/guests/halt.bin ]]; then
	skip "vmm ticker tests" "vmm or the test guests are not built (make check-build)"
	done_testing
	exit
fi
if ! nm "$vmm" 2>/dev/null | grep -q ' cpu_interp_ops$'; then
	skip "vmm ticker tests" "cpu_interp_ops is not linked into vmm yet"
	done_testing
	exit
fi

sock=$scratch/ctl.sock
ctl() { printf '%s\n' "$1" | socat -t 10 - "UNIX-CONNECT:$sock"; }
field() { grep -o "\"$1\":\"\\?[^,\"}]*" <<<"$2" | head -1 | sed 's/.*:"\?//'; }
last_tick() { grep -o '^tick [0-9]*' "$1" | tail -1 | cut -d' ' -f2; }
# wait_for SECONDS command...: polls every 0.1 s
wait_for() { local n=$(($1 * 10)); shift; while ((n-- > 0)); do "$@" && return 0; sleep 0.1; done; return 1; }
tick_at_least() { local t; t=$(last_tick "$1"); [[ -n $t ]] && ((t >= $2)); }

start_vmm() { # config serial-out stderr-out
	"$vmm" run "$1" --control "$sock" >"$2" 2>"$3" </dev/null &
	vmm_pid=$!
	at_exit "kill $vmm_pid 2>/dev/null; wait $vmm_pid 2>/dev/null"
}

# --- ticker -------------------------------------------------------------------
start_vmm "$ticker" "$scratch/serial" "$scratch/vmm.err"
check "ticker prints its start banner and reaches tick 3" wait_for 20 tick_at_least "$scratch/serial" 3
check "control socket is mode 0600" test "$(stat -c %a "$sock")" = 600

r=$(ctl '{"cmd":"status","id":1}')
check_eq "status: ok" true "$(field ok "$r")"
check_eq "status: state running" running "$(field state "$r")"
check_eq "status: echoes id" 1 "$(field id "$r")"
check "status: instructions counted" test "$(field instructions "$r")" -gt 0
check "status: guest time advances" test "$(field guest_time_ns "$r")" -gt 300000000

r=$(ctl '{"cmd":"pause"}')
check_eq "pause: ok" true "$(field ok "$r")"
paused_tick=$(last_tick "$scratch/serial")
i1=$(field instructions "$(ctl '{"cmd":"status"}')")
sleep 1
r=$(ctl '{"cmd":"status"}')
check_eq "paused: state paused" paused "$(field state "$r")"
check_eq "paused: no instructions retire" "$i1" "$(field instructions "$r")"
check_eq "paused: the counter stops" "$paused_tick" "$(last_tick "$scratch/serial")"

r=$(ctl '{"cmd":"pause"}')
check_eq "pause while paused: error kind state" state "$(field kind "$r")"

r=$(ctl '{"cmd":"resume"}')
check_eq "resume: ok" true "$(field ok "$r")"
check "resumed: the counter advances past the paused value" wait_for 20 tick_at_least "$scratch/serial" $((paused_tick + 2))
check "resumed: the counter continues, not restarts" bash -c "grep -c '^tick 1\$' '$scratch/serial' | grep -qx 1"

r=$(ctl '{"cmd":"resume"}')
check_eq "resume while running: error kind state" state "$(field kind "$r")"
r=$(ctl '{"cmd":"reboot-now"}')
check_eq "unknown command: error kind unsupported" unsupported "$(field kind "$r")"
r=$(ctl 'not json')
check_eq "malformed request: error kind format" format "$(field kind "$r")"

r=$(ctl '{"cmd":"quit"}')
check_eq "quit: ok" true "$(field ok "$r")"
wait_for 10 bash -c "! kill -0 $vmm_pid 2>/dev/null"
wait $vmm_pid
check_eq "quit: vmm exits 0" 0 "$?"
check "quit: control socket removed" test ! -e "$sock"

# --- poweroff keeps the process answering until quit ----------------------------
start_vmm "$ticker" "$scratch/serial2" "$scratch/vmm2.err"
wait_for 20 tick_at_least "$scratch/serial2" 1
r=$(ctl '{"cmd":"poweroff"}')
check_eq "poweroff: ok" true "$(field ok "$r")"
r=$(ctl '{"cmd":"status"}')
check_eq "after poweroff: state off" off "$(field state "$r")"
r=$(ctl '{"cmd":"resume"}')
check_eq "resume after poweroff: error kind state" state "$(field kind "$r")"
ctl '{"cmd":"quit"}' >/dev/null
wait $vmm_pid
check_eq "quit after poweroff: exit 0" 0 "$?"

# --- interactive serial console over a unix socket -------------------------------
if [[ -f $HAVM_TOP/build/guests/echo.bin ]]; then
	cat >"$scratch/echo.vmc" <<EOV
<vm name="echo"><memory>4</memory><boot><image>$HAVM_TOP/build/guests/echo.bin</image></boot>
<serial port="com1" backend="socket" path="$scratch/echo.serial"/></vm>
EOV
	start_vmm "$scratch/echo.vmc" "$scratch/echo.out" "$scratch/echo.err"
	wait_for 20 test -S "$scratch/echo.serial"
	check "echo: serial socket is mode 0600" test "$(stat -c %a "$scratch/echo.serial")" = 600
	got=$( (printf 'hello world'; sleep 2) | timeout 20 socat -t 1 - "UNIX-CONNECT:$scratch/echo.serial")
	check_eq "echo: input reaches the guest by IRQ and comes back by THRE interrupts" "HELLO WORLD" "$got"
	r=$(ctl '{"cmd":"status"}')
	check "echo: the guest took interrupts" test "$(field irq_acks "$r")" -ge 2
	ctl '{"cmd":"quit"}' >/dev/null
	wait $vmm_pid
	check_eq "echo: quit exits 0" 0 "$?"
else
	skip "echo guest" "build/guests/echo.bin not built"
fi

# --- the blackbox on a fatal signal ---------------------------------------------------
start_vmm "$ticker" "$scratch/serial3" "$scratch/vmm3.err"
wait_for 20 tick_at_least "$scratch/serial3" 1
kill -ABRT $vmm_pid
wait $vmm_pid
check "SIGABRT: vmm dies by the signal" test "$?" -gt 128
check "SIGABRT: the blackbox is written beside the control socket" test -s "$sock.blackbox"
check "SIGABRT: the blackbox holds the log" grep -aq 'vm %s: running' "$sock.blackbox"
rm -f "$sock" "$sock.blackbox"

# --- the halt guest -------------------------------------------------------------
timeout 30 "$vmm" run "$halt" >"$scratch/halt.serial" 2>"$scratch/halt.err" </dev/null
check_eq "halt guest: exit status 20" 20 "$?"
check "halt guest: its serial output arrived" grep -q '^halt: stopping' "$scratch/halt.serial"
check "halt guest: report names the cause and the address" \
	grep -q 'stopped: guest halted with interrupts disabled at 0010:' "$scratch/halt.err"

# --- the triple-fault guest -------------------------------------------------------
if [[ -f $HAVM_TOP/build/guests/triple.bin ]]; then
	timeout 30 "$vmm" run "$HAVM_TOP/examples/triple.vmc" >"$scratch/triple.serial" 2>"$scratch/triple.err" </dev/null
	check_eq "triple-fault guest: exit status 21" 21 "$?"
	check "triple-fault guest: report says triple fault" grep -q 'stopped: cpu: triple fault at' "$scratch/triple.err"
else
	skip "triple-fault guest" "build/guests/triple.bin not built"
fi

# --- guest resets reboot the VM in place ------------------------------------------------
if [[ -f $HAVM_TOP/build/guests/reboot.bin ]]; then
	printf '<vm name="rb"><memory>4</memory><boot><image>%s</image></boot><serial port="com1" backend="stdio"/></vm>' \
		"$HAVM_TOP/build/guests/reboot.bin" >"$scratch/rb.vmc"
	timeout 30 "$vmm" run "$scratch/rb.vmc" >"$scratch/rb.serial" 2>"$scratch/rb.err" </dev/null
	check_eq "reboot guest: ends halted (exit 20)" 20 "$?"
	check_eq "reboot guest: booted three times, counting in CMOS NVRAM" "boot 1 boot 2 boot 3" "$(tr '\n' ' ' <"$scratch/rb.serial" | sed 's/ $//')"
	check "reboot guest: i8042 and port 0x92 resets were logged" \
		bash -c "grep -q 'i8042: reset pulse' '$scratch/rb.err' && grep -q 'port92: reset' '$scratch/rb.err' && test \$(grep -c 'guest reset, rebooting' '$scratch/rb.err') = 2"
else
	skip "reboot guest" "build/guests/reboot.bin not built"
fi

# --- configuration errors -------------------------------------------------------
"$vmm" run "$scratch/missing.vmc" 2>"$scratch/e1"
check_eq "missing .vmc: exit 8 (notfound)" 8 "$?"
check "missing .vmc: message names the file" grep -q 'missing.vmc' "$scratch/e1"
printf '<vm name="x"><memory>16</memory><boot><image>t.bin</image></boot><nic/></vm>' >"$scratch/bad.vmc"
"$vmm" run "$scratch/bad.vmc" 2>"$scratch/e2"
check_eq "bad .vmc: exit 2 (config)" 2 "$?"
check "bad .vmc: message names the element" grep -q '<nic>: unknown element' "$scratch/e2"
printf '<vm name="x"><memory>16</memory><boot><image>nothere.bin</image></boot></vm>' >"$scratch/noimg.vmc"
"$vmm" run "$scratch/noimg.vmc" 2>"$scratch/e3"
check_eq "missing image: exit 8 (notfound)" 8 "$?"
check "missing image: message names the image" grep -q 'nothere.bin' "$scratch/e3"
"$vmm" frobnicate 2>/dev/null
check_eq "bad arguments: exit 2" 2 "$?"

done_testing
