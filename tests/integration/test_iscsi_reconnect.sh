#!/usr/bin/env bash
# Path faults under a guarded writer.
# 1. A target-side session drop in the middle of back-to-back FUA writes: the
# writer reconnects (libiscsi), sees UNIT ATTENTION 29/xx, finds its key
# still registered, re-registers the new I_T nexus and replaces the stale
# one, and finishes; every acknowledged record is on the target's disk.
# 2. A frozen target: command timeout, reconnect, the same guard path.
# 3. A frozen target under an idle session: the NOP-Out keep-alive notices.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
P=$HAVM_BIN/lun_probe
tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:shared && tgtd_lun 1 1 16 && tgtd_bind 1 ALL
url=$(tgtd_url 1 1)
A=iqn.2024-01.test:node-a B=iqn.2024-01.test:node-b
KA=af1f0000 KB=af1f0001
N=1500
$P -i $A "$url" register $KA + reserve $KA 5

$P -i $B -k $KB "$url" writeloop 2000 $N 0 >"$scratch/b.out" 2>"$scratch/b.err" &
bpid=$!
at_exit "kill $bpid 2>/dev/null"
for ((i = 0; i < 100; i++)); do grep -q '^ack 50$' "$scratch/b.out" && break; sleep 0.1; done
sid=$(tgtd_sids 1 $B)
check "B's session is listed by tgtd" test -n "$sid"
tgtd_drop 1 "$sid"
check "tgtadm drops B's connection mid-write" test $? -eq 0
acked_at_drop=$(grep -c '^ack' "$scratch/b.out")
diag "dropped session $sid after $acked_at_drop acknowledged writes"

for ((i = 0; i < 600; i++)); do kill -0 $bpid 2>/dev/null || break; sleep 0.1; done
wait $bpid; rc=$?
check_eq "the writer finishes all $N writes" 0 $rc
check "the drop happened before the end" test "$acked_at_drop" -lt $N
check_eq "every write was acknowledged" $N "$(grep -c '^ack' "$scratch/b.out")"
stats=$(grep '^stats' "$scratch/b.out")
diag "$stats"
check "the guard ran a registration check" grep -q 'checks=[1-9]' <<<"$stats"
check "... and re-registered the new nexus" grep -q 'reregistered=[1-9]' <<<"$stats"
check_eq "B's key is registered once: the stale twin was preempted" 1 \
	"$($P -i $A "$url" keys | grep -c "^$KB$")"

# Every acknowledged record is on disk at its block (the backing file is the
# oracle): each 512-byte block holds 16 copies of "havm seq <20 digits>".
file=$(tgtd_lun_file 1 1)
dd if="$file" bs=512 skip=2000 count=$N status=none | tr -d '\0' | awk 'NR % 16 == 1' >"$scratch/disk"
sed -n 's/^ack \([0-9]*\)$/\1/p' "$scratch/b.out" | while read -r seq; do printf 'havm seq %020d\n' "$seq"; done >"$scratch/want"
check "the acknowledged list is not empty" test -s "$scratch/want"
missing=$(diff "$scratch/want" "$scratch/disk" | grep -c '^<')
check_eq "no acknowledged write is missing from the target's disk" 0 "$missing"
check_eq "the disk holds exactly the acknowledged records, in order" "" "$(diff "$scratch/want" "$scratch/disk")"

# A frozen target (SIGSTOP: the TCP connection stays up, nothing answers):
# the in-flight write times out after 2 s (-t 2), the LUN reconnects itself,
# and once the target thaws the write is re-issued and the writer goes on.
M=300
$P -t 2 -i $B -k $KB "$url" writeloop 5000 $M 20 >"$scratch/f.out" 2>"$scratch/f.err" &
fpid=$!
at_exit "kill $fpid 2>/dev/null"
for ((i = 0; i < 100; i++)); do grep -q '^ack 20$' "$scratch/f.out" && break; sleep 0.1; done
kill -STOP "$TGTD_PID"
sleep 5
kill -CONT "$TGTD_PID"
for ((i = 0; i < 600; i++)); do kill -0 $fpid 2>/dev/null || break; sleep 0.1; done
wait $fpid; rc=$?
check_eq "the writer survives a 5 s freeze of the target and finishes" 0 $rc
stats=$(grep '^stats' "$scratch/f.out")
diag "$stats"
check "the command timeout made the LUN reconnect" grep -q 'reconnects=[1-9]' <<<"$stats"
check "... and the guard re-registered the new nexus" grep -q 'reregistered=[1-9]' <<<"$stats"
dd if="$file" bs=512 skip=5000 count=$M status=none | tr -d '\0' | awk 'NR % 16 == 1' >"$scratch/disk2"
sed -n 's/^ack \([0-9]*\)$/\1/p' "$scratch/f.out" | while read -r seq; do printf 'havm seq %020d\n' "$seq"; done >"$scratch/want2"
check_eq "all $M records acknowledged and on disk in order" "$M|" "$(wc -l <"$scratch/want2")|$(diff "$scratch/want2" "$scratch/disk2")"

# An idle session on a frozen target: no command in flight and no command
# timeout (-t 0), so only the NOP-Out keep-alive (every second here, -n 1)
# can notice; after 3 unanswered NOPs the LUN reconnects by itself.
$P -t 0 -n 1 -i $B -k $KB "$url" writeloop 6000 2 9000 >"$scratch/n.out" 2>"$scratch/n.err" &
npid=$!
at_exit "kill $npid 2>/dev/null"
for ((i = 0; i < 100; i++)); do grep -q '^ack 0$' "$scratch/n.out" && break; sleep 0.1; done
kill -STOP "$TGTD_PID"
sleep 6
kill -CONT "$TGTD_PID"
for ((i = 0; i < 300; i++)); do kill -0 $npid 2>/dev/null || break; sleep 0.1; done
wait $npid; rc=$?
check_eq "the idle writer survives and writes its second record" "0|2" "$rc|$(grep -c '^ack' "$scratch/n.out")"
check "3 unanswered NOP-Outs were noticed" grep -q "3 NOP-Outs unanswered" "$scratch/n.err"
stats=$(grep '^stats' "$scratch/n.out")
diag "$stats"
check "... and made the LUN reconnect" grep -q 'reconnects=[1-9]' <<<"$stats"
done_testing
