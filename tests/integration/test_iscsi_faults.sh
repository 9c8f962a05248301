#!/usr/bin/env bash
# The LUN engine's reaction to each path fault, made deterministic with fault
# points (HAVM_FAULT_AT, test builds): the N-th good completion is turned into
# RESERVATION CONFLICT, UNIT ATTENTION 29/00 or a command timeout. A guarded
# writer whose key is still registered checks, re-registers and goes on; the
# timeout reconnects; without a key a conflict is simply an error.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
P=$HAVM_BIN/lun_probe
tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:shared && tgtd_lun 1 1 16 && tgtd_bind 1 ALL
url=$(tgtd_url 1 1)
A=iqn.2024-01.test:node-a B=iqn.2024-01.test:node-b
KA=af1f0000 KB=af1f0001
$P -i $A "$url" register $KA + reserve $KA 5

run() { # fault: sets $rc and $stats
	HAVM_FAULT_AT=$1:10:fail $P -i $B -k $KB "$url" writeloop 7000 30 0 >"$scratch/$1.out" 2>"$scratch/$1.err"
	rc=$?
	stats=$(grep '^stats' "$scratch/$1.out")
	diag "$1: $stats"
}
run iscsi.conflict
check_eq "a CONFLICT on a registered node: all 30 writes complete" "0|30" "$rc|$(grep -c '^ack' "$scratch/iscsi.conflict.out")"
check "... after one registration check that re-registered" grep -q 'checks=1 reregistered=1' <<<"$stats"
run iscsi.ua29
check_eq "UNIT ATTENTION 29/00: all 30 writes complete" "0|30" "$rc|$(grep -c '^ack' "$scratch/iscsi.ua29.out")"
check "... after one registration check" grep -q 'checks=1 reregistered=1' <<<"$stats"
run iscsi.timeout
check_eq "a command timeout: all 30 writes complete" "0|30" "$rc|$(grep -c '^ack' "$scratch/iscsi.timeout.out")"
check "... after a reconnect and a retry" grep -q 'retries=1 .*reconnects=1' <<<"$stats"
check "... and the reconnect's UA 29/xx ran the guard" grep -q 'checks=[1-9] reregistered=[1-9]' <<<"$stats"

out=$(HAVM_FAULT_AT=iscsi.conflict:1:fail $P -i $B "$url" register $KB + write 7100 1 0x12 2>&1); rc=$?
check_eq "without a key (no guard) a CONFLICT is an error: busy, exit 7" 7 $rc
check "... reported as RESERVATION CONFLICT" grep -q "RESERVATION CONFLICT" <<<"$out"

# The guard with the key gone: preempt B first, then any conflict => fenced.
$P -i $A "$url" register $KA + preempt $KA $KB >/dev/null
out=$(HAVM_FAULT_AT=iscsi.ua29:1:fail $P -i $B -k $KB "$url" read 7000 1 + write 7000 1 0x13 2>&1); rc=$?
check_eq "after a UA, a node whose key is gone is fenced (exit 5)" 5 $rc
check "... and says so" grep -q "this node was fenced" <<<"$out"
check_eq "... and did not re-register" "$KA" "$($P -i $A "$url" keys | sort -u | tr '\n' ' ' | sed 's/ $//')"
done_testing
