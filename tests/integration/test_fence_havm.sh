#!/usr/bin/env bash
# fence_havm end to end against a real tgtd: two "nodes" (n1, n2: different
# initiator names and keys) share two LUNs on two portals. Unfencing
# registers and reserves; off cuts n2 off (its guarded writer stops with
# "fenced"), status reports it, on restores access; self-fencing and fencing
# from a fenced node are refused; bad parameters fail like fencing.py's
# agents; the metadata validates and Pacemaker's tools read it.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
F=$HAVM_BIN/fence_havm P=$HAVM_BIN/lun_probe
tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:d1 && tgtd_lun 1 1 16 && tgtd_bind 1 ALL
tgtd_target 2 iqn.2024-01.test:d2 && tgtd_lun 2 1 16 && tgtd_bind 2 ALL
port2=$(tgtd_free_port)
tgtd_adm --op new --mode portal --param "portal=127.0.0.1:$port2"
u1=$(tgtd_url 1 1) u2=$(tgtd_url 2 1)
u2=${u2/:$TGTD_PORT\//:$port2/}
N1=iqn.2024-01.test:n1 N2=iqn.2024-01.test:n2 X=iqn.2024-01.test:observer
K1=af1f0000 K2=af1f0001 # fence_scsi keys of n1, n2 in cluster "rtest" (id method)
common="devices=$u1,$u2
cluster_name=rtest
nodes=n1,n2"
fence() { printf '%s\n%s\n' "$common" "$1" | $F 2>"$scratch/err"; }
keys() { $P -i $X "$1" keys | sort -u | tr '\n' ' ' | sed 's/ $//'; }

out=$(fence "action=on
plug=n1
local_node=n1
initiator=$N1"); rc=$?
check_eq "on (unfence) n1: exit 0" 0 $rc
check_eq "... prints Success: Powered ON" "Success: Powered ON" "$out"
check_eq "n1's key is on LUN 1" "$K1" "$(keys "$u1")"
check_eq "... and on LUN 2 (second portal)" "$K1" "$(keys "$u2")"
check_eq "n1 holds a WERO reservation on LUN 2" "$K1 WERO" "$($P -i $X "$u2" reservation)"
fence "action=on
plug=n2
local_node=n2
initiator=$N2" >/dev/null
check_eq "on n2 adds its key, the reservation stays n1's" "$K1 $K2|$K1 WERO" "$(keys "$u1")|$($P -i $X "$u1" reservation)"
out=$(fence "action=on
plug=n2
local_node=n2
initiator=$N2")
check_eq "unfencing again is idempotent" "Success: Powered ON|$K1 $K2" "$out|$(keys "$u1")"

out=$(fence "action=status
plug=n2"); rc=$?
check_eq "status n2: ON, exit 0" "Status: ON|0" "$out|$rc"
check_eq "list: node,key per line" "n1,$K1 n2,$K2" "$(fence "action=list" | tr '\n' ' ' | sed 's/ $//')"
check_eq "list-status adds ON/OFF" "n1,$K1,ON n2,$K2,ON" "$(fence "action=list-status" | tr '\n' ' ' | sed 's/ $//')"
check_eq "monitor: both LUNs reachable" 0 "$(fence "action=monitor" >/dev/null; echo $?)"

# n2's vmm: a guarded writer on LUN 1 (first write finds its nexus
# unregistered under WERO, the guard sees K2 registered and registers).
$P -i $N2-vmm -k $K2 "$u1" writeloop 3000 400 50 >"$scratch/n2.out" 2>"$scratch/n2.err" &
wpid=$!
at_exit "kill $wpid 2>/dev/null"
for ((i = 0; i < 100; i++)); do grep -q '^ack 5$' "$scratch/n2.out" && break; sleep 0.1; done
check "n2's writer writes while n2 is unfenced" grep -q '^ack 5$' "$scratch/n2.out"

out=$(fence "action=off
plug=n2
local_node=n1
initiator=$N1"); rc=$?
check_eq "off n2 from n1: Success: Powered OFF, exit 0" "Success: Powered OFF|0" "$out|$rc"
check_eq "n2's key is gone from LUN 1" "$K1" "$(keys "$u1")"
check_eq "... and from LUN 2" "$K1" "$(keys "$u2")"
check_eq "the WERO reservation is still in place" "WERO" "$($P -i $X "$u1" reservation | cut -d' ' -f2)"
for ((i = 0; i < 100; i++)); do kill -0 $wpid 2>/dev/null || break; sleep 0.1; done
wait $wpid; rc=$?
check_eq "n2's writer stops with 'fenced' (exit 5)" 5 $rc
check "... after its guard found K2 gone" grep -q '^fenced ' "$scratch/n2.out"
out=$($P -i $N2 "$u1" write 3500 1 0x66 2>&1); rc=$?
check "a new n2 session's write gets RESERVATION CONFLICT" test $rc -eq 7 -a -n "$(grep 'RESERVATION CONFLICT' <<<"$out")"
out=$($P -i $N2 "$u1" check $K2 2>&1); rc=$?
check_eq "n2's registration check says fenced (exit 5)" 5 $rc
out=$(fence "action=status
plug=n2"); rc=$?
check_eq "status n2: OFF, exit 2" "Status: OFF|2" "$out|$rc"
out=$(fence "action=off
plug=n2
local_node=n1"); rc=$?
check_eq "off again: Already OFF, exit 0" "Success: Already OFF|0" "$out|$rc"

out=$(fence "action=off
plug=n1
local_node=n2
initiator=$N2"); rc=$?
check_eq "the fenced node n2 cannot fence n1 (exit 1)" 1 $rc
check "... it says it is not registered" grep -q "is not registered, so it cannot fence others" "$scratch/err"
check_eq "... and n1's key stays" "$K1" "$(keys "$u1")"
out=$(fence "action=off
plug=n1
local_node=n1"); rc=$?
check_eq "self-fencing is refused (exit 1)" 1 $rc
check "... with fence_scsi's words" grep -q "You can not fence yourself" "$scratch/err"

out=$(fence "action=on
plug=n2
local_node=n2
initiator=$N2"); rc=$?
check_eq "on n2 restores its key" "Success: Powered ON|$K1 $K2" "$out|$(keys "$u1")"
out=$($P -i $N2-vmm -k $K2 "$u1" write 3500 1 0x66 + read 3500 1 2>"$scratch/w.err"); rc=$?
check_eq "n2's guarded writer writes again" "uniform 0x66|0" "$out|$rc"
check "... its guard registered the new nexus after one CONFLICT" grep -q "RESERVATION CONFLICT on WRITE(16): checking" "$scratch/w.err"

# The same through the command line, and the key given directly.
out=$($F -o status -d "$u1" -k $K1 2>&1); rc=$?
check_eq "command-line options: -o status -k KEY" "Status: ON|0" "$out|$rc"

# CHAP from login=/passwd= for URLs without credentials.
tgtd_target 3 iqn.2024-01.test:chap && tgtd_lun 3 1 8 && tgtd_bind 3 ALL && tgtd_chap 3 fencer pw-9z
u3=$(tgtd_url 3 1)
out=$(printf 'action=monitor\ndevices=%s\nlogin=fencer\npasswd=pw-9z\n' "$u3" | $F 2>&1); rc=$?
check_eq "login=/passwd= supply CHAP to a device URL" 0 $rc
out=$(printf 'action=monitor\ndevices=%s\nlogin=fencer\npasswd=nope\n' "$u3" | $F 2>&1); rc=$?
check "a wrong CHAP password fails monitor with 'authentication failure'" test $rc -eq 1 -a -n "$(grep -i 'authentication failure' <<<"$out")"
check "... and the password is not printed" test -z "$(grep -F nope <<<"$out")"

# Bad parameters: exit 1 (fencing.py's fail_usage) and a clear message.
bad() { # description, expected message, input
	out=$(printf '%s\n' "$3" | $F 2>&1); rc=$?
	check "$1: exit 1 and '$2'" test $rc -eq 1 -a -n "$(grep -F "$2" <<<"$out")"
}
bad "reboot is not offered" "Unrecognised action 'reboot'" "action=reboot
devices=$u1
plug=n2"
bad "no devices" "no devices" "action=off
plug=n2"
bad "a /dev path" "is not an iscsi:// URL" "action=off
devices=/dev/sdb
plug=n2"
bad "a bad URL names the part" "bad port" "action=off
devices=iscsi://127.0.0.1:0/iqn.2024-01.test:d1/1
plug=n2"
bad "no plug and no key" "nodename or key is required" "action=off
devices=$u1"
bad "key 0" "0 is not a valid reservation key" "action=status
devices=$u1
key=0"
bad "an unknown node" "'n7' is not in the nodelist" "$common
action=status
plug=n7"
bad "a non-numeric delay" "not a valid time in seconds" "action=off
devices=$u1
plug=n2
delay=soon"
bad "a missing LUN" "has no LUN 9" "action=status
devices=${u1%/1}/9
key=$K1"
bad "an unreachable portal" "Connection refused" "action=monitor
devices=iscsi://127.0.0.1:$(tgtd_free_port)/iqn.2024-01.test:d1/1"
out=$(printf 'action=validate-all\ndevices=%s\nplug=n2\n' "$u1" | $F 2>&1); rc=$?
check_eq "validate-all with good parameters: exit 0" 0 $rc
out=$(printf 'action=validate-all\ndevices=%s\n' "$u1" | $F 2>&1); rc=$?
check_eq "validate-all without a plug: exit 1" 1 $rc

$F -o metadata >"$scratch/md.xml"
check "metadata validates against fence-agents' metadata.rng" \
	sh -c 'xmllint --noout --relaxng /usr/share/cluster/relaxng/metadata.rng "$1" 2>/dev/null' sh "$scratch/md.xml"
check "unfencing is automatic and on the target" grep -q '<action name="on" on_target="1" automatic="1"/>' "$scratch/md.xml"

# Pacemaker looks in /usr/sbin. Check in a private mount namespace with the
# agent overlaid onto /usr/sbin, so the host is untouched.
if [[ $(id -u) != 0 ]] || ! command -v stonith_admin >/dev/null; then
	skip "stonith_admin --metadata" "needs root and pacemaker-cli-utils"
else
	mkdir -p "$scratch/sbin" && cp "$F" "$scratch/sbin/fence_havm"
	ns() { unshare --mount --propagation private sh -c \
		'mount -t overlay overlay -o lowerdir="$1":/usr/sbin /usr/sbin && shift && exec "$@"' sh "$scratch/sbin" "$@"; }
	out=$(ns stonith_admin --metadata --agent fence_havm 2>&1)
	check "stonith_admin --metadata --agent fence_havm shows the agent" grep -q '<resource-agent name="fence_havm"' <<<"$out"
	check "stonith_admin --list-installed lists fence_havm" grep -qx fence_havm <(ns stonith_admin --list-installed 2>/dev/null)
	if command -v crm >/dev/null; then
		out=$(ns crm ra info stonith:fence_havm 2>&1)
		check "crm ra info stonith:fence_havm shows the devices parameter" grep -q '^devices (string)' <<<"$out"
	else
		skip "crm ra info" "crmsh not installed"
	fi
fi
done_testing
