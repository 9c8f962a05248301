#!/usr/bin/env bash
# A bounded end for a vmm whose iSCSI disk stops answering (docs/iscsi.md
# "I/O deadline"): the recorder guest writes its LUN disk every 100 ms; the
# target (a real tgtd) is then frozen (SIGSTOP: a hung array, or a path that
# drops everything). With io_deadline=3 in the disk URL:
#  - the vmm stops by itself with exit status 24 (storage lost) within the
#    deadline plus a few seconds, logs an ERR line naming the LUN and the
#    deadline, and writes its blackbox;
#  - after the deadline the LUN sends nothing more (no reconnect), and the
#    process ends, dropping whatever libiscsi still queued;
#  - a URL with a malformed io_deadline is refused with the reason.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
vmm=$HAVM_BIN/vmm
recorder=$HAVM_TOP/build/guests/recorder.bin
if [[ ! -x $vmm || ! -f $recorder ]] || ! command -v tgtd >/dev/null; then
	skip "vmm I/O deadline on an iSCSI disk" "vmm, the recorder guest or tgtd is missing"
	done_testing
	exit
fi
tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:iodl && tgtd_lun 1 1 16 && tgtd_bind 1 ALL
url=$(tgtd_url 1 1)
lunfile=$(tgtd_lun_file 1 1)
# Whatever happens, tgtd runs again before tap.sh stops it.
at_exit "kill -CONT $TGTD_PID 2>/dev/null"

vmc() { # file url
	cat >"$1" <<VMC
<vm name="rec">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$recorder</image></boot>
  <disk path="$2" format="raw"/>
  <serial port="com1" backend="file" path="$scratch/serial.txt"/>
</vm>
VMC
}

vmc "$scratch/bad.vmc" "$url?io_deadline=soon"
"$vmm" run "$scratch/bad.vmc" >"$scratch/bad.out" 2>"$scratch/bad.err" </dev/null
check_eq "io_deadline=soon: refused (exit 2, config)" 2 $?
check "... naming the option" grep -q "io_deadline='soon' (expected seconds, 0..86400)" "$scratch/bad.err"

vmc "$scratch/rec.vmc" "$url?io_deadline=3"
"$vmm" run "$scratch/rec.vmc" --control "$scratch/ctl.sock" >"$scratch/vmm.out" 2>"$scratch/vmm.err" </dev/null &
pid=$!
at_exit "kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null"
for ((i = 0; i < 300; i++)); do grep -q '^ack 5 ' "$scratch/serial.txt" 2>/dev/null && break; sleep 0.1; done
check "the recorder guest writes its LUN disk (record 5 acknowledged)" grep -q '^ack 5 ' "$scratch/serial.txt"

kill -STOP "$TGTD_PID"
t0=$(date +%s%N)
for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "the vmm stopped by itself with exit status 24 (storage lost)" 24 "$rc"
diag "vmm ended ${ms} ms after the target froze (io_deadline 3 s)"
check "... within the deadline plus 5 s" test "$ms" -lt 8000
check "... not before the deadline" test "$ms" -ge 3000
check "... the LUN logged the lost path at ERR" grep -q 'err.*lun .*: a request has been pending for [0-9.]* s (io_deadline 3 s): storage path lost' "$scratch/vmm.err"
check "... the VM's end says why" grep -q 'ended (storage-lost: disk .* did not complete I/O within 3 s (io_deadline).*), exit status 24' "$scratch/vmm.err"
check "... its blackbox was written" test -s "$scratch/ctl.sock.blackbox"
check "... and it tried no reconnect after it (nothing more sent)" \
	bash -c "! sed -n '/storage path lost/,\$p' '$scratch/vmm.err' | grep -q reconnecting"
kill -CONT "$TGTD_PID"
check_fails "no sanitizer report" grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$scratch/vmm.err"
done_testing
