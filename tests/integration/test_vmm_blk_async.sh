#!/usr/bin/env bash
# virtio-blk requests run on the disk's own I/O thread, not on the vCPU
# (vmcore/dev/virtio_blk.c): the recorder guest writes its disk, a VHD in a
# LUN store (a real tgtd, docs/store.md), every 100 ms and ticks on the PIT
# at 100 Hz. The target is
# frozen (SIGSTOP) for a while, with io_deadline long enough not to end the
# VM:
#  - while a request hangs on the frozen target the guest keeps running:
#    its timer interrupts and guest time go on, though no record is
#    acknowledged; after the thaw the records go on;
#  - a save issued while a request is in flight waits for it (the .vsv
#    never holds a half-done request): no reply and no .vsv while frozen,
#    then ok; the VM restored from it goes on with the next record.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
vmm=$HAVM_BIN/vmm
havm=$HAVM_BIN/havm
recorder=$HAVM_TOP/build/guests/recorder.bin
if [[ ! -x $vmm || ! -f $recorder ]] || ! command -v tgtd >/dev/null || ! command -v socat >/dev/null; then
	skip "virtio-blk I/O off the vCPU thread" "vmm, the recorder guest, tgtd or socat is missing"
	done_testing
	exit
fi
cp "$vmm" "$havm" "$scratch/" # immune to rebuilds mid-run
vmm=$scratch/vmm
havm=$scratch/havm
tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:blkasync && tgtd_lun 1 1 16 && tgtd_bind 1 ALL
url=$(tgtd_url 1 1)
at_exit "kill -CONT $TGTD_PID 2>/dev/null"

field() { grep -o "\"$1\":\"\\?[^,\"}]*" <<<"$2" | head -1 | sed 's/.*:"\?//'; }
wait_for() { local n=$(($1 * 10)); shift; while ((n-- > 0)); do "$@" && return 0; sleep 0.1; done; return 1; }
gone() { ! kill -0 "$1" 2>/dev/null; }
last_ack() { grep -o '^ack [0-9]*' "$1" | tail -1 | cut -d' ' -f2; }
first_ack() { grep -o '^ack [0-9]*' "$1" | head -1 | cut -d' ' -f2; }
ack_at_least() { local t; t=$(last_ack "$1"); [[ -n $t ]] && ((t >= $2)); }
ctl() { printf '%s\n' "$2" | socat -t 120 - "UNIX-CONNECT:$scratch/$1.sock"; }
start() { # name [vmm args...]
	local name=$1
	shift
	"$vmm" run --store "$url?io_deadline=60" rec.vmc --control "$scratch/$name.sock" "$@" \
		>"$scratch/$name.out" 2>"$scratch/$name.err" </dev/null &
	local pid=$!
	printf -v "pid_$name" '%s' "$pid"
	at_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
}

cat >"$scratch/rec.vmc" <<VMC
<vm name="rec">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$recorder</image></boot>
  <disk store="rec.vhd" format="vhd"/>
  <serial port="com1" backend="stdio"/>
</vm>
VMC
"$havm" store format "$url" >/dev/null &&
	"$havm" vhd create -t dynamic -s 8M "$scratch/rec.vhd" >/dev/null 2>&1 &&
	"$havm" store import "$url" "$scratch/rec.vhd" rec.vhd >/dev/null &&
	"$havm" store import "$url" "$scratch/rec.vmc" >/dev/null
check "a store on the LUN with the recorder's .vmc and .vhd" test $? -eq 0

# --- the guest runs on while a request hangs --------------------------------------
start a
check "the recorder acknowledges record 5 on its LUN disk" wait_for 30 ack_at_least "$scratch/a.out" 5
kill -STOP "$TGTD_PID"
sleep 0.5 # the next record (every 100 ms) is now on the frozen wire
before=$(last_ack "$scratch/a.out")
s1=$(ctl a '{"cmd":"status"}')
sleep 1.5
s2=$(ctl a '{"cmd":"status"}')
after=$(last_ack "$scratch/a.out")
kill -CONT "$TGTD_PID"
check_eq "frozen target: no record acknowledged meanwhile" "$before" "$after"
i1=$(field interrupts "$s1") i2=$(field interrupts "$s2")
g1=$(field guest_time_ns "$s1") g2=$(field guest_time_ns "$s2")
diag "during the stall: interrupts $i1 -> $i2, guest time $g1 -> $g2 ns"
check "... but the guest took timer interrupts (>= 50 in 1.5 s at 100 Hz)" test $((i2 - i1)) -ge 50
check "... and guest time went on (>= 0.5 s)" test $((g2 - g1)) -ge 500000000
check_eq "... the VM is running" running "$(field state "$s2")"
check "after the thaw the records go on" wait_for 30 ack_at_least "$scratch/a.out" $((after + 3))

# --- a save waits for the request in flight ---------------------------------------
kill -STOP "$TGTD_PID"
sleep 0.5
saved_before=$(last_ack "$scratch/a.out")
ctl a '{"cmd":"save","path":"rec.vsv"}' >"$scratch/save.reply" &
savepid=$!
at_exit "kill $savepid 2>/dev/null"
sleep 1.5
check "save with a request in flight: no reply while the target is frozen" kill -0 "$savepid"
kill -CONT "$TGTD_PID"
wait_for 60 gone "$savepid"
wait "$savepid" 2>/dev/null
diag "save reply: $(cat "$scratch/save.reply")"
check_eq "... after the thaw the save succeeds" true "$(field ok "$(cat "$scratch/save.reply")")"
saved_ack=$(last_ack "$scratch/a.out")
check "... the record in flight completed before the save (acked after the thaw)" \
	test "$saved_ack" -ge "$saved_before"
ctl a '{"cmd":"quit"}' >/dev/null
wait_for 10 gone "$pid_a"
"$havm" store export "$url" rec.vsv "$scratch/rec.vsv" &&
	"$havm" vsv info "$scratch/rec.vsv" >"$scratch/info.txt" 2>&1
check "... the .vsv verifies" bash -c "'$havm' vsv info --verify '$scratch/rec.vsv' >/dev/null"

start b --restore rec.vsv
check "restored: the records go on" wait_for 30 ack_at_least "$scratch/b.out" $((saved_ack + 3))
first=$(first_ack "$scratch/b.out")
check "... from the record after the saved ones (first ack $first, saved up to $saved_ack)" \
	test "$first" -gt "$saved_ack" -a "$first" -le $((saved_ack + 2))
check_fails "... no reboot (no boot banner)" grep -q '^recorder: boot' "$scratch/b.out"
ctl b '{"cmd":"quit"}' >/dev/null
wait_for 10 gone "$pid_b"
check_fails "no sanitizer report" grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$scratch/a.err" "$scratch/b.err"
done_testing
