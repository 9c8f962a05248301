#!/usr/bin/env bash
# Self-fencing of a VM run from a LUN store (`vmm run --store iscsi://...`),
# against a real tgtd, as for iscsi:// disks (test_vmm_selffence.sh): vmm
# registers its sessions under this node's PR key ($HAVM_PR_KEY); the
# recorder guest writes its VHD object every 100 ms.
#  - a checkpoint into the store works under node A's WERO reservation (the
#    .vsv writer's own session registers under the key too);
#  - node B preempts A's key: the vmm stops within a bounded time with exit
#    23 (fenced) and the LUN receives no write after the preempt (backing
#    file compared byte for byte);
#  - a vmm started again with the removed key refuses to run (exit 5) and
#    writes nothing;
#  - through the lifecycle (pr_key, store=iscsi://): an idle guest is
#    reported fenced by IsAlive (exit 5) once the key is preempted, stop
#    writes nothing, and a start on the fenced node is refused;
#  - the store's LUN carries vmm's I/O deadline: a frozen target stops the
#    VM (exit 24, storage lost).
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
vmm=$HAVM_BIN/vmm
havm=$HAVM_BIN/havm
P=$HAVM_BIN/lun_probe
recorder=$HAVM_TOP/build/guests/recorder.bin
if [[ ! -x $vmm || ! -x $P || ! -f $recorder ]] || ! command -v tgtd >/dev/null; then
	skip "vmm self-fencing on a LUN store" "vmm, lun_probe, the recorder guest or tgtd is missing"
	done_testing
	exit
fi
tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:vmstore && tgtd_lun 1 1 64 && tgtd_bind 1 ALL
url=$(tgtd_url 1 1)
lunfile=$(tgtd_lun_file 1 1)
A=iqn.2024-01.test:node-a-fence B=iqn.2024-01.test:node-b
KA=ab130001 KB=ab130002
keys() { $P -i iqn.2024-01.test:observer "$url" keys | sort -u | tr '\n' ' ' | sed 's/ $//'; }

"$havm" store format "$url" >/dev/null
"$havm" vhd create -t dynamic -s 8M "$scratch/rec.vhd" >/dev/null 2>&1
cat >"$scratch/rec1.vmc" <<VMC
<vm name="rec1">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$recorder</image></boot>
  <disk store="rec1.vhd" format="vhd"/>
  <serial port="com1" backend="file" path="$scratch/serial.txt"/>
</vm>
VMC
"$havm" store import "$url" "$scratch/rec.vhd" rec1.vhd >/dev/null &&
	"$havm" store import "$url" "$scratch/rec1.vmc" >/dev/null
check "a store with rec1.vmc and rec1.vhd on the LUN" test $? -eq 0

# Unfence (what fence_havm on does): both nodes register, A takes WERO.
$P -i $A "$url" register $KA + reserve $KA 5 >/dev/null
check "node A's key is registered with a WERO reservation" test $? -eq 0
$P -i $B "$url" register $KB >/dev/null

HAVM_PR_KEY=$KA "$vmm" run --store "$url" rec1.vmc --control "$scratch/ctl.sock" \
	>"$scratch/vmm.out" 2>"$scratch/vmm.err" </dev/null &
pid=$!
at_exit "kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null"
for ((i = 0; i < 300; i++)); do grep -q '^ack 5 ' "$scratch/serial.txt" 2>/dev/null && break; sleep 0.1; done
check "the recorder writes its VHD object on the LUN (record 5 acknowledged)" grep -q '^ack 5 ' "$scratch/serial.txt"
check "... with the registration guard on the store's LUN" grep -q "store .*: registration guard on, key $KA" "$scratch/vmm.err"
check_eq "... and vmm's nexus registered under A's key" "$KA $KB" "$(keys)"

r=$(printf '%s\n' '{"cmd":"checkpoint","path":"rec1.vsv"}' | socat -t 60 - "UNIX-CONNECT:$scratch/ctl.sock")
check "a checkpoint into the store under WERO: ok (the writer's session registered)" grep -q '"ok":true' <<<"$r"
check "... rec1.vsv is an object" grep -q '"name":"rec1.vsv"' <<<"$("$havm" store ls --json "$url" | tr -d ' \n')"

# Fence node A from node B.
out=$($P -i $B "$url" register $KB + preempt $KB $KA 2>&1)
check_eq "node B preempts A's key" "preempt" "$out"
cp "$lunfile" "$scratch/after-preempt.img"
t0=$(date +%s%N)
for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "the vmm stopped by itself with exit status 23 (fenced)" 23 "$rc"
diag "vmm ended ${ms} ms after the preempt"
check "... within 15 s" test "$ms" -lt 15000
check "... logged at ERR" grep -q 'err.*vm rec1: FENCED: this node.s reservation key is gone' "$scratch/vmm.err"
sleep 1
check "the LUN received no write after the preempt" cmp -s "$lunfile" "$scratch/after-preempt.img"
check_eq "A's key is gone, B's remains" "$KB" "$(keys)"

HAVM_PR_KEY=$KA timeout 30 "$vmm" run --store "$url" rec1.vmc >"$scratch/vmm2.out" 2>"$scratch/vmm2.err" </dev/null
check_eq "vmm with the removed key refuses to run: exit 5 (fenced)" 5 $?
check "... naming the key" grep -qi "$KA" "$scratch/vmm2.err"
check "... and wrote nothing" cmp -s "$lunfile" "$scratch/after-preempt.img"
check_eq "... and never registered the key again" "$KB" "$(keys)"

# --- the lifecycle: IsAlive checks the store's LUN for this node's key ------------
# The ticker with a store disk it never touches: an idle guest, so only
# IsAlive's own check can notice the fence.
ticker=$HAVM_TOP/build/guests/ticker.bin
cat >"$scratch/tk1.vmc" <<VMC
<vm name="tk1">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$ticker</image></boot>
  <disk store="rec1.vhd" format="vhd"/>
  <serial port="com1" backend="file" path="$scratch/tk.txt"/>
</vm>
VMC
$P -i $A "$url" register $KA >/dev/null # unfence A again
HAVM_PR_KEY=$KA "$havm" store import "$url" "$scratch/tk1.vmc" >/dev/null
check "havm store import under WERO with HAVM_PR_KEY (the CLI registers its session)" test $? -eq 0
export HAVM_VMM=$vmm
rd=$scratch/run
at_exit "p=\$(cut -d' ' -f1 '$rd/tk1/vmm.pid' 2>/dev/null); [[ -n \$p ]] && kill -9 \$p 2>/dev/null"
hv() { "$havm" "$1" tk1 --store "$url" --rundir "$rd" --pr-key $KA "${@:2}"; }
out=$(hv online 2>&1)
check_eq "havm online --pr-key with store=iscsi://: the VM runs" "vm tk1: online ok" "$out"
check_eq "havm isalive: running (key registered on the store's LUN)" "vm tk1: running" "$(hv isalive 2>&1)"
$P -i $B "$url" register $KB + preempt $KB $KA >/dev/null
cp "$lunfile" "$scratch/after-preempt2.img"
hv isalive >/dev/null 2>"$scratch/isalive.err"
check_eq "havm isalive after the preempt: exit 5 (fenced)" 5 $?
check "... naming the key and the store's LUN" grep -q "key $KA is no longer registered on iscsi://.*fenced by another node" "$scratch/isalive.err"
tpid=$(cut -d' ' -f1 "$rd/tk1/vmm.pid")
hv offline --stop-policy poweroff >/dev/null 2>&1
check_eq "havm offline (poweroff) of the fenced VM: 0" 0 $?
check "... the vmm is gone" bash -c "! kill -0 $tpid 2>/dev/null || grep -q '^State:.*Z' /proc/$tpid/status"
check "... and the LUN received nothing after the preempt" cmp -s "$lunfile" "$scratch/after-preempt2.img"
out=$(hv online 2>&1)
check "havm online on the fenced node: refused (fenced)" grep -qi "fenced\|not registered\|$KA" <<<"$out"
check "... nothing runs" test ! -e "$rd/tk1/vmm.pid"

# --- a lost storage path: the store's LUN carries vmm's I/O deadline --------------
tgtd_lun 1 2 64
url2="$(tgtd_url 1 2)?io_deadline=3"
"$havm" store format "$url2" >/dev/null &&
	"$havm" store import "$url2" "$scratch/rec.vhd" rec1.vhd >/dev/null &&
	"$havm" store import "$url2" "$scratch/rec1.vmc" >/dev/null
check "a second store (io_deadline=3 in its URL)" test $? -eq 0
at_exit "kill -CONT $TGTD_PID 2>/dev/null"
rm -f "$scratch/serial.txt"
"$vmm" run --store "$url2" rec1.vmc --control "$scratch/ctl2.sock" >"$scratch/vmm3.out" 2>"$scratch/vmm3.err" </dev/null &
pid3=$!
at_exit "kill -9 $pid3 2>/dev/null; wait $pid3 2>/dev/null"
for ((i = 0; i < 300; i++)); do grep -q '^ack 5 ' "$scratch/serial.txt" 2>/dev/null && break; sleep 0.1; done
check "the recorder writes its VHD object" grep -q '^ack 5 ' "$scratch/serial.txt"
kill -STOP "$TGTD_PID"
t0=$(date +%s%N)
for ((i = 0; i < 300; i++)); do kill -0 "$pid3" 2>/dev/null || break; sleep 0.1; done
wait "$pid3"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "$TGTD_PID"
check_eq "target frozen: the vmm stopped by itself with exit status 24 (storage lost)" 24 "$rc"
diag "vmm ended ${ms} ms after the target froze (io_deadline 3 s)"
check "... within the deadline plus 5 s" test "$ms" -lt 8000
check "... the VM's end says why" grep -q 'ended (storage-lost: disk .* did not complete I/O within 3 s (io_deadline).*), exit status 24' "$scratch/vmm3.err"
done_testing
