#!/usr/bin/env bash
# A guest's iSCSI disk loses its session in the middle of its I/O (issue 7):
# the recorder guest writes and flushes a record every 100 ms of guest time
# to an iscsi:// disk under a WERO reservation held by this node's key; tgtd
# drops the vmm's connection (tgtadm --op delete --mode conn) twice while it
# writes. The vmm reconnects, the registration guard finds its key still
# registered and re-registers the new nexus, the guest goes on writing with no
# error, and every record the guest saw acknowledged is on the LUN's backing
# file afterwards, at its sector, from this boot.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
vmm=$HAVM_BIN/vmm
P=$HAVM_BIN/lun_probe
recorder=$HAVM_TOP/build/guests/recorder.bin
if [[ ! -x $vmm || ! -x $P || ! -f $recorder ]] || ! command -v tgtd >/dev/null; then
	skip "session drop under guest I/O" "vmm, lun_probe, the recorder guest or tgtd is missing"
	done_testing
	exit
fi
tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:dropdisk && tgtd_lun 1 1 16 && tgtd_bind 1 ALL
url=$(tgtd_url 1 1)
lunfile=$(tgtd_lun_file 1 1)
A=iqn.2024-01.test:node-a KA=ab130001
$P -i $A "$url" register $KA + reserve $KA 5 >/dev/null
check "node A registered with a WERO reservation" test $? -eq 0

cat >"$scratch/rec.vmc" <<VMC
<vm name="rec">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$recorder</image></boot>
  <disk path="$url" format="raw"/>
  <serial port="com1" backend="file" path="$scratch/serial.txt"/>
</vm>
VMC
HAVM_PR_KEY=$KA "$vmm" run "$scratch/rec.vmc" --control "$scratch/ctl.sock" \
	>"$scratch/vmm.out" 2>"$scratch/vmm.err" </dev/null &
pid=$!
at_exit "kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null"
acks() { cat "$scratch/serial.txt" 2>/dev/null | grep -c '^ack '; }
wait_acks() { # n: bounded (60 s) wait for n acknowledged records
	local i
	for ((i = 0; i < 600; i++)); do (($(acks) >= $1)) && return 0; kill -0 $pid 2>/dev/null || return 1; sleep 0.1; done
	return 1
}
check "the guest writes its LUN disk (10 records acknowledged)" wait_acks 10

# The vmm's session is the one logged in as this node's initiator name, or
# the only one on the target; drop it twice, 2 s apart.
drops=0
for round in 1 2; do
	sid=$(tgtd_sids 1 "" | tail -1)
	before=$(acks)
	if [[ -n $sid ]] && tgtd_drop 1 "$sid"; then
		drops=$((drops + 1))
		diag "round $round: dropped session $sid after $before acknowledged records"
	fi
	check "round $round: the guest goes on writing after the drop (+15 records)" wait_acks $((before + 15))
done
check_eq "tgtd dropped the vmm's session twice" 2 "$drops"
check "the vmm is still running" kill -0 $pid
check "... it saw each new session's UNIT ATTENTION 29/xx and re-registered it (twice)" \
	test "$(grep -c 're-registered this I_T nexus with key 0xab130001' "$scratch/vmm.err")" -ge 2
check "... the reservation is still node A's" grep -q "$KA" <<<"$($P -i iqn.2024-01.test:observer "$url" keys)"
check "... and no guest-visible I/O error" bash -c "! grep -q '^ack-fail\|error' '$scratch/serial.txt'"

# Stop the VM, then compare: every acknowledged record is on the disk.
printf '{"cmd":"quit"}\n' | socat -t 5 - "UNIX-CONNECT:$scratch/ctl.sock" >/dev/null 2>&1 || kill $pid
for ((i = 0; i < 100; i++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
check "the vmm quits" bash -c "! kill -0 $pid 2>/dev/null"
boot=$(sed -n 's/^recorder: boot \([0-9]*\) .*/\1/p' "$scratch/serial.txt" | tail -1)
acked=$(awk -v b="$boot" '$1 == "ack" && $3 == b { print $2 }' "$scratch/serial.txt" | sort -n -u)
n=$(wc -l <<<"$acked")
missing=0
for seq in $acked; do
	got=$(dd if="$lunfile" bs=512 skip=$((seq + 1)) count=1 status=none | tr -d '\0' | head -1)
	[[ $got == "HAVMREC seq=$seq boot=$boot" ]] || { missing=$((missing + 1)); diag "record $seq: '$got'"; }
done
diag "$n acknowledged records of boot $boot checked on the backing file"
check "at least 40 records were acknowledged" test "$n" -ge 40
check_eq "no acknowledged record is missing from the LUN" 0 "$missing"
done_testing
