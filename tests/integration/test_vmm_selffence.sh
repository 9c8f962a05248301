#!/usr/bin/env bash
# Self-fencing of a running VM whose disk is an iSCSI LUN (iscsi:// URL in the
# .vmc), against a real tgtd: vmm registers its I_T nexus under this node's PR
# key ($HAVM_PR_KEY) and arms the registration guard; the recorder guest
# writes a record every 100 ms. A second initiator (node B) then preempts the
# key, as fence_havm off / fence_scsi do:
#  - the vmm stops within a bounded time with exit status 23 (fenced), an
#    ERR line and its blackbox written;
#  - the LUN receives no write after the preempt (backing file compared
#    byte for byte from the moment the preempt returned);
#  - a vmm started again with the removed key refuses to run (exit 5,
#    fenced) and writes nothing;
#  - through the lifecycle and the agent (pr_key): an idle guest (the
#    ticker, which never touches its LUN disk) is reported fenced by IsAlive
#    (havm isalive exit 5, agent depth-10 monitor 1 with the reason) once its
#    key is preempted; stop still succeeds and nothing reaches the LUN; start
#    on the fenced node is refused (2, hard).
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
vmm=$HAVM_BIN/vmm
P=$HAVM_BIN/lun_probe
recorder=$HAVM_TOP/build/guests/recorder.bin
if [[ ! -x $vmm || ! -x $P || ! -f $recorder ]] || ! command -v tgtd >/dev/null; then
	skip "vmm self-fencing on an iSCSI disk" "vmm, lun_probe, the recorder guest or tgtd is missing"
	done_testing
	exit
fi
tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:vmdisk && tgtd_lun 1 1 16 && tgtd_bind 1 ALL
url=$(tgtd_url 1 1)
lunfile=$(tgtd_lun_file 1 1)
A=iqn.2024-01.test:node-a-fence B=iqn.2024-01.test:node-b
KA=ab120001 KB=ab120002

# Unfence (what fence_havm on does): both nodes register, A takes WERO.
$P -i $A "$url" register $KA + reserve $KA 5 >/dev/null
check "node A's key is registered with a WERO reservation" test $? -eq 0
$P -i $B "$url" register $KB >/dev/null

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
for ((i = 0; i < 300; i++)); do grep -q '^ack 5 ' "$scratch/serial.txt" 2>/dev/null && break; sleep 0.1; done
check "the recorder guest writes its LUN disk (record 5 acknowledged)" grep -q '^ack 5 ' "$scratch/serial.txt"
check "... with the registration guard on" grep -q "registration guard on, key $KA" "$scratch/vmm.err"
check_eq "... and vmm's nexus registered under A's key" "$KA $KB" \
	"$($P -i iqn.2024-01.test:observer "$url" keys | sort -u | tr '\n' ' ' | sed 's/ $//')"

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
check "... logged at ERR" grep -q 'err.*vm rec: FENCED: this node.s reservation key is gone' "$scratch/vmm.err"
check "... and as its end" grep -q 'ended (fenced: .*), exit status 23' "$scratch/vmm.err"
check "... its blackbox was written" test -s "$scratch/ctl.sock.blackbox"
sleep 1
check "the LUN received no write after the preempt" cmp -s "$lunfile" "$scratch/after-preempt.img"
check_eq "A's key is gone, B's remains" "$KB" "$($P -i iqn.2024-01.test:observer "$url" keys | sort -u | tr '\n' ' ' | sed 's/ $//')"

# A fenced node cannot start the VM again with its removed key.
HAVM_PR_KEY=$KA timeout 30 "$vmm" run "$scratch/rec.vmc" >"$scratch/vmm2.out" 2>"$scratch/vmm2.err" </dev/null
check_eq "vmm with the removed key refuses to run: exit 5 (fenced)" 5 $?
check "... saying the key is not registered" grep -qi "$KA" "$scratch/vmm2.err"
check "... and wrote nothing" cmp -s "$lunfile" "$scratch/after-preempt.img"
check_eq "... and never registered the key again" "$KB" "$($P -i iqn.2024-01.test:observer "$url" keys | sort -u | tr '\n' ' ' | sed 's/ $//')"

# --- the lifecycle and the agent ------------------------------------------------
havm=$HAVM_BIN/havm agent=$HAVM_BIN/VirtualServer ticker=$HAVM_TOP/build/guests/ticker.bin
export HAVM_VMM=$vmm
rd=$scratch/run
mkdir -p "$scratch/store"
cat >"$scratch/store/tk.vmc" <<VMC
<vm name="tk">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$ticker</image></boot>
  <disk path="$url" format="raw"/>
  <serial port="com1" backend="file" path="$scratch/tk.txt"/>
</vm>
VMC
at_exit "p=\$(cut -d' ' -f1 '$rd/tk/vmm.pid' 2>/dev/null); [[ -n \$p ]] && kill -9 \$p 2>/dev/null"
$P -i $A "$url" register $KA >/dev/null # unfence A again
out=$("$havm" online --rundir "$rd" --pr-key $KA "$scratch/store/tk.vmc" 2>&1)
check_eq "havm online --pr-key: the VM runs on its LUN disk" "vm tk: online ok" "$out"
check_eq "havm isalive: running (key registered)" "vm tk: running" \
	"$("$havm" isalive --rundir "$rd" --pr-key $KA "$scratch/store/tk.vmc" 2>&1)"
ag() {
	env OCF_RESKEY_config="$scratch/store/tk.vmc" OCF_RESKEY_rundir="$rd" OCF_RESKEY_pr_key=$KA \
		OCF_RESKEY_CRM_meta_timeout=20000 "$@" 2>>"$scratch/agent.log"
}
ag OCF_CHECK_LEVEL=10 OCF_RESKEY_CRM_meta_interval=60000 "$agent" monitor
check_eq "agent depth-10 monitor: 0" 0 $?
$P -i $B "$url" register $KB + preempt $KB $KA >/dev/null
cp "$lunfile" "$scratch/after-preempt2.img"
"$havm" isalive --rundir "$rd" --pr-key $KA "$scratch/store/tk.vmc" >/dev/null 2>"$scratch/isalive.err"
check_eq "havm isalive after the preempt: exit 5 (fenced)" 5 $?
check "... naming the key and the LUN" grep -q "key $KA is no longer registered on iscsi://.*fenced by another node" "$scratch/isalive.err"
ag OCF_CHECK_LEVEL=10 OCF_RESKEY_CRM_meta_interval=60000 "$agent" monitor
check_eq "agent depth-10 monitor of a fenced VM: 1 (OCF_ERR_GENERIC)" 1 $?
check "... with the reason" grep -q "^ocf-exit-reason:vm tk: this node's key $KA is no longer registered" "$scratch/agent.log"
tpid=$(cut -d' ' -f1 "$rd/tk/vmm.pid")
ag "$agent" stop
check_eq "agent stop of the fenced VM: 0" 0 $?
check "... the vmm is gone" bash -c "! kill -0 $tpid 2>/dev/null || grep -q '^State:.*Z' /proc/$tpid/status"
check "... its save's flush met the guard: the vmm stopped the VM as fenced" grep -q 'vm tk: FENCED: ' "$rd/tk/vmm.log"
check "... and the LUN received nothing after the preempt" cmp -s "$lunfile" "$scratch/after-preempt2.img"
ag "$agent" start
check_eq "agent start on the fenced node: 2 (OCF_ERR_ARGS, hard: ban the node)" 2 $?
check "... nothing runs" test ! -e "$rd/tk/vmm.pid"
done_testing
