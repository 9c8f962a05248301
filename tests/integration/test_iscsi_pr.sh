#!/usr/bin/env bash
# iscsi/pr: SCSI-3 persistent reservations against a real tgtd with several
# initiators (different IQNs = different I_T nexuses): WERO lets registrants
# write and refuses others; PREEMPT (tgt has no PREEMPT AND ABORT) cuts a
# victim off; the victim's guard sees its key gone and stops writing; the
# blocking check never re-registers a removed key.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
P=$HAVM_BIN/lun_probe
tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:shared && tgtd_lun 1 1 16 && tgtd_bind 1 ALL
url=$(tgtd_url 1 1)
A=iqn.2024-01.test:node-a B=iqn.2024-01.test:node-b X=iqn.2024-01.test:stranger
KA=af1f0000 KB=af1f0001

$P -i $A "$url" register $KA + reserve $KA 5
check "node A registers and takes a WERO reservation" test $? -eq 0
check_eq "READ RESERVATION shows A's key and WERO" "$KA WERO" "$($P -i $X "$url" reservation)"
$P -i $B "$url" register $KB
check_eq "READ KEYS lists both nodes" "$KA $KB" "$($P -i $X "$url" keys | sort | tr '\n' ' ' | sed 's/ $//')"

out=$($P -i $X "$url" write 10 1 0x77 2>&1); rc=$?
check_eq "an unregistered initiator's write is refused (busy, exit 7)" 7 $rc
check "... with RESERVATION CONFLICT in words" grep -q "RESERVATION CONFLICT" <<<"$out"
check_eq "... and nothing reached the disk" "uniform 0x00" "$($P -i $X "$url" read 10 1)"
check_eq "an unregistered initiator may still read under WERO" "uniform 0x00" "$($P -i $X "$url" read 0 1)"
check_eq "a registered nexus writes" "uniform 0x42" "$($P -i $B "$url" register $KB + write 11 1 0x42 + read 11 1)"

# B runs a guarded writer (the vmm's path: qb_loop, async writes, guard).
$P -i $B -k $KB "$url" writeloop 1000 400 50 >"$scratch/b.out" 2>"$scratch/b.err" &
bpid=$!
at_exit "kill $bpid 2>/dev/null"
for ((i = 0; i < 100; i++)); do grep -q '^ack 5$' "$scratch/b.out" && break; sleep 0.1; done
check "B's guarded writer is writing" grep -q '^ack 5$' "$scratch/b.out"

out=$($P -i $A "$url" register $KA + preempt $KA $KB abort 2>&1)
check_eq "A preempts B: tgt lacks PREEMPT AND ABORT, the plain PREEMPT runs" "preempt" "$out"
check_eq "B's key is gone" "$KA" "$($P -i $X "$url" keys | sort -u | tr '\n' ' ' | sed 's/ $//')"
check_eq "the reservation stays WERO, now held by A" "$KA WERO" "$($P -i $X "$url" reservation)"

for ((i = 0; i < 100; i++)); do kill -0 $bpid 2>/dev/null || break; sleep 0.1; done
wait $bpid; rc=$?
check_eq "B's writer stops with 'fenced' (exit 5)" 5 $rc
check "B's guard reported the fence" grep -q '^fenced ' "$scratch/b.out"
failed=$(sed -n 's/^fail \([0-9]*\) fenced$/\1/p' "$scratch/b.out")
acked=$(grep -c '^ack' "$scratch/b.out")
check_eq "the write that met the fence was the one after the last ack" "$acked" "$failed"
writes=$(sed -n 's/^stats writes=\([0-9]*\) .*/\1/p' "$scratch/b.out")
check_eq "B completed no write beyond those acknowledged" "$acked" "$writes"
check_eq "the refused block stayed unwritten" "uniform 0x00" "$($P -i $X "$url" read $((1000 + failed)) 1)"
check "the block before it holds B's last acknowledged record" \
	grep -q "havm seq 0*$((acked - 1))" <(dd if="$(tgtd_lun_file 1 1)" bs=512 skip=$((1000 + acked - 1)) count=1 status=none)

out=$($P -i $B "$url" check $KB 2>&1); rc=$?
check_eq "the blocking check on a fenced key says fenced (exit 5)" 5 $rc
check "... and says it does not re-register" grep -q "not re-registering" <<<"$out"
check_eq "... and B's key is still absent" "$KA" "$($P -i $X "$url" keys | sort -u | tr '\n' ' ' | sed 's/ $//')"
check_eq "the check on a live key re-registers this nexus" "registered" "$($P -i $A "$url" check $KA 2>&1)"
out=$($P -i $A "$url" register $KA + write 12 1 0x33 + read 12 1 2>&1)
check_eq "A still writes" "uniform 0x33" "$out"

$P -i $A "$url" register $KA + clear $KA
check_eq "CLEAR removes every key" "" "$($P -i $X "$url" keys)"
check_eq "... and the reservation" "none" "$($P -i $X "$url" reservation)"
out=$($P -i $X "$url" write 13 1 0x44 + read 13 1 2>&1)
check_eq "without a reservation anyone writes again" "uniform 0x44" "$out"
done_testing
