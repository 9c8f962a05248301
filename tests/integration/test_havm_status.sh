#!/usr/bin/env bash
# `havm status` and `havm list` with the real vmm and the ticker guest in a
# dir: store: what runs here, its vmm and guest counters, whether a saved
# state waits; list finds VMs by their store and by the runtime directory
# Online left (with the store it recorded), and never changes anything.
source "$(dirname "$0")/../lib/tap.sh"
havm=$HAVM_BIN/havm
vmm=$HAVM_BIN/vmm
ticker=$HAVM_TOP/build/guests/ticker.bin
if [[ ! -x $havm || ! -x $vmm || ! -f $ticker ]]; then
	skip "havm status and list" "havm, vmm or the ticker guest is not built"
	done_testing
	exit
fi
export HAVM_VMM=$vmm HAVM_RUNDIR=$scratch/run
store=$scratch/store
mkdir -p "$store"
for n in st1 st2; do
	cat >"$store/$n.vmc" <<VMC
<vm name="$n">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$ticker</image></boot>
  <serial port="com1" backend="file" path="$scratch/$n.txt"/>
</vm>
VMC
done
at_exit "for n in st1 st2; do p=\$(cut -d' ' -f1 '$HAVM_RUNDIR/'\$n/vmm.pid 2>/dev/null); [[ -n \$p ]] && kill -9 \$p 2>/dev/null; done"
jq_() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

out=$("$havm" list)
check_eq "list with nothing known: exit 0" 0 $?
check_eq "... only the header" 1 "$(wc -l <<<"$out")"
out=$("$havm" list --store "dir:$store" --json)
check_eq "list --store: both VMs of the store, stopped, no saved state" "st1 stopped none,st2 stopped none" \
	"$(jq_ '",".join("%s %s %s" % (v["vm"], v["status"], v["saved_state"]) for v in d["vms"])' <<<"$out")"

check_eq "online st1" "vm st1: online ok" "$("$havm" online --store "dir:$store" st1 2>&1)"
pid=$(cut -d' ' -f1 "$HAVM_RUNDIR/st1/vmm.pid")
sleep 0.5
out=$("$havm" status --store "dir:$store" st1 --json)
check_eq "status --json: exit 0" 0 $?
check_eq "... running, with the vmm's pid" "running $pid" "$(jq_ 'd["status"], d["pid"]' <<<"$out" | tr -d "(),'")"
check_eq "... the guest runs, cold boot" "running False" "$(jq_ 'd["state"], d["restored"]' <<<"$out" | tr -d "(),'")"
check "... it has executed instructions and guest time" \
	test "$(jq_ 'int(d["instructions"] > 0 and d["guest_time_ns"] > 0)' <<<"$out")" = 1
check_eq "... no saved state, where it would be" "none $store/st1.vsv" \
	"$(jq_ 'd["saved_state"], d["saved_state_path"]' <<<"$out" | tr -d "(),'")"
out=$("$havm" status --store "dir:$store" st1)
check "status (text): names the vmm pid" grep -q "vmm pid: *$pid" <<<"$out"
check "... and the guest's state" grep -q "guest: *running" <<<"$out"

out=$("$havm" list --json)
check_eq "list without --store finds st1 by its runtime directory, with its store" \
	"st1 running st1 dir:$store" \
	"$(jq_ '",".join("%s %s %s %s" % (v["vm"], v["status"], v["config"], v.get("store")) for v in d["vms"])' <<<"$out")"
out=$("$havm" list --store "dir:$store")
check "list --store (text): st1 running with its pid" grep -Eq "^st1 +running +$pid " <<<"$out"
check "... st2 stopped" grep -Eq "^st2 +stopped +- +none " <<<"$out"

check_eq "offline st1 (save)" "vm st1: offline ok" "$("$havm" offline --store "dir:$store" --stop-policy save st1 2>&1)"
out=$("$havm" status --store "dir:$store" st1 --json)
check_eq "status after the save: stopped, no pid, saved state present" "stopped None present" \
	"$(jq_ 'd["status"], d.get("pid"), d["saved_state"]' <<<"$out" | tr -d "(),'")"
out=$("$havm" list --json)
check_eq "list: st1 stopped with its saved state (found through the recorded store)" "st1 stopped present" \
	"$(jq_ '",".join("%s %s %s" % (v["vm"], v["status"], v["saved_state"]) for v in d["vms"])' <<<"$out")"
check "status and list changed nothing: the saved state is still there" test -f "$store/st1.vsv"

"$havm" status --store "dir:$scratch/nowhere" st1 >/dev/null 2>&1
check_eq "status of a VM in an empty store: exit 0 (stopped, nothing saved)" 0 $?
"$havm" list --store "iscsi://127.0.0.1:1/iqn.2024-01.none:x/0" >"$scratch/bad.out" 2>"$scratch/bad.err"
rc=$?
check "list with an unreachable store: an error exit" test $rc -ne 0
check "... saying which store" grep -q "127.0.0.1" "$scratch/bad.err"
"$havm" status >/dev/null 2>&1
check_eq "status without a VM: usage error (2)" 2 $?
done_testing
