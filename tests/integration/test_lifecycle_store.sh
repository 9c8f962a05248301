#!/usr/bin/env bash
# The lifecycle and the OCF agent with a VM in a LUN store (docs/lifecycle.md):
# the recorder guest's .vmc, .vhd and .vsv are objects of a GPT store, on a
# real tgtd LUN (store=iscsi://...) and in an image file (store=file:...).
#  - havm online boots it (vmm run --store), status/looksalive/isalive see it,
#    offline (save) writes <vm>.vsv into the store and the vmm ends;
#  - online resumes from it (acks go on, no reboot) and the object is renamed
#    <vm>.vsv.consumed (kind other) at once, so it is never restored twice;
#  - a .vsv over a disk that moved on is refused: set aside as
#    <vm>.vsv.refused and the VM boots afresh; migrate-out copies it live
#    into the store and online --restore-only resumes it; terminate kills it;
#  - the OCF agent with store=: start, monitor depth 0 and 10, stop (save),
#    start (restore), stop.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
agent=$HAVM_BIN/VirtualServer
havm=$HAVM_BIN/havm
vmm=$HAVM_BIN/vmm
rec=$HAVM_TOP/build/guests/recorder.bin
if [[ ! -x $agent || ! -x $havm || ! -x $vmm || ! -f $rec ]]; then
	skip "the lifecycle with a LUN store" "VirtualServer, havm, vmm or the recorder guest is not built"
	done_testing
	exit
fi
cp "$vmm" "$havm" "$agent" "$scratch/"
vmm=$scratch/vmm havm=$scratch/havm agent=$scratch/VirtualServer
export HAVM_VMM=$vmm

wait_for() { local n=$(($1 * 10)); shift; while ((n-- > 0)); do "$@" && return 0; sleep 0.1; done; return 1; }
gone() { [[ -z $1 ]] || ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
last_ack() { grep -o '^ack [0-9]*' "$1" 2>/dev/null | tail -1 | cut -d' ' -f2; }
first_ack() { grep -o '^ack [0-9]*' "$1" 2>/dev/null | head -1 | cut -d' ' -f2; }
ack_at_least() { local t; t=$(last_ack "$1"); [[ -n $t ]] && ((t >= $2)); }
objects() { "$havm" store ls --json "$1" | python3 -c 'import json,sys; print(" ".join(o["name"] + ":" + o["kind"] for o in json.load(sys.stdin)))'; }

# setup URL SERIAL: a store holding rec1.vmc and rec1.vhd.
setup() {
	local url=$1 serial=$2
	"$havm" store format --force "$url" >/dev/null
	rm -f "$scratch/rec.vhd"
	"$havm" vhd create -t dynamic -s 8M "$scratch/rec.vhd" >/dev/null 2>&1
	cat >"$scratch/rec1.vmc" <<VMC
<vm name="rec1">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$rec</image></boot>
  <disk store="rec1.vhd" format="vhd"/>
  <serial port="com1" backend="file" path="$serial"/>
</vm>
VMC
	"$havm" store import "$url" "$scratch/rec.vhd" rec1.vhd >/dev/null &&
		"$havm" store import "$url" "$scratch/rec1.vmc" >/dev/null
}

# --- havm online / offline / status over a file: store -----------------------------
truncate -s 64M "$scratch/store.img"
url=file:$scratch/store.img
run=$scratch/run-cli
ser=$scratch/cli-serial.txt
setup "$url" "$ser"
check "file: store with rec1.vmc and rec1.vhd" test $? -eq 0
at_exit "p=\$(cut -d' ' -f1 '$run/rec1/vmm.pid' 2>/dev/null); [[ -n \$p ]] && kill -9 \$p 2>/dev/null"
hv() { "$havm" "$1" rec1 --store "$url" --rundir "$run" "${@:2}"; }

out=$(hv online 2>&1)
check_eq "havm online (store=file:): 0" 0 $?
check "... the recorder booted from the store" wait_for 60 ack_at_least "$ser" 3
check "... first boot" grep -q '^recorder: boot 1 next 0' "$ser"
check_eq "havm looksalive: 0" 0 "$(hv looksalive >/dev/null 2>&1; echo $?)"
check_eq "havm isalive: 0" 0 "$(hv isalive >/dev/null 2>&1; echo $?)"
check "havm isalive --json says running" grep -q "\"status\":\"running\"" <<<"$(hv isalive --json 2>&1)"
pid=$(cut -d' ' -f1 "$run/rec1/vmm.pid")
check "... the vmm runs with --store" grep -q -- "--store" <<<"$(tr '\0' ' ' <"/proc/$pid/cmdline")"
hv offline >/dev/null 2>&1
check_eq "havm offline (save): 0" 0 $?
saved=$(last_ack "$ser")
check "... the vmm ended" gone "$pid"
check_eq "... the state is the object rec1.vsv" "rec1.vhd:vhd rec1.vmc:vmc rec1.vsv:vsv" "$(objects "$url")"
check_eq "havm looksalive after offline: 9" 9 "$(hv looksalive >/dev/null 2>&1; echo $?)"

out=$(hv online 2>&1)
check_eq "havm online with a saved state: 0" 0 $?
check "... the guest goes on" wait_for 60 ack_at_least "$ser" $((saved + 2))
check_eq "... from the ack after the saved one" $((saved + 1)) "$(first_ack "$ser")"
check_fails "... no reboot" grep -q '^recorder: boot' "$ser"
check_eq "... rec1.vsv consumed: renamed rec1.vsv.consumed (kind other)" \
	"rec1.vhd:vhd rec1.vmc:vmc rec1.vsv.consumed:other" "$(objects "$url")"

# A stale state: put the consumed .vsv back; the disk has moved on since.
hv offline --stop-policy poweroff >/dev/null 2>&1
"$havm" store export "$url" rec1.vsv.consumed "$scratch/old.vsv"
"$havm" store import "$url" "$scratch/old.vsv" rec1.vsv >/dev/null
out=$(hv online 2>&1)
check_eq "havm online over a stale .vsv: still 0" 0 $?
check "... booted afresh" wait_for 60 grep -q '^recorder: boot 2' "$ser"
check "... the .vsv was set aside as rec1.vsv.refused" grep -q 'rec1.vsv.refused:other' <<<"$(objects "$url")"
check_fails "... and no rec1.vsv is left" grep -q 'rec1.vsv:vsv' <<<"$(objects "$url")"
check "... (recording again)" wait_for 60 ack_at_least "$ser" 3
hv migrate-out >/dev/null 2>&1
check_eq "havm migrate-out (live copy into the store): 0" 0 $?
mig=$(last_ack "$ser")
check "... rec1.vsv written into the store" grep -q 'rec1.vsv:vsv' <<<"$(objects "$url")"
hv online --restore-only >/dev/null 2>&1
check_eq "havm online --restore-only: 0" 0 $?
check "... the guest goes on from the migrated state" wait_for 60 ack_at_least "$ser" $((mig + 2))
check_eq "... from the ack after the migrated one" $((mig + 1)) "$(first_ack "$ser")"
pid=$(cut -d' ' -f1 "$run/rec1/vmm.pid")
hv terminate >/dev/null 2>&1
check_eq "havm terminate: 0" 0 $?
check "... the vmm is gone" wait_for 10 gone "$pid"

# --- the OCF agent with store=iscsi:// ------------------------------------------------
if ! tgtd_start; then
	not_ok "tgtd starts"
	done_testing
	exit
fi
tgtd_target 1 iqn.2024-01.test:lcstore && tgtd_lun 1 1 64 && tgtd_bind 1 ALL
lurl=$(tgtd_url 1 1)
arun=$scratch/run-agent
aser=$scratch/agent-serial.txt
setup "$lurl" "$aser"
check "iscsi:// store with rec1.vmc and rec1.vhd" test $? -eq 0
at_exit "p=\$(cut -d' ' -f1 '$arun/rec1/vmm.pid' 2>/dev/null); [[ -n \$p ]] && kill -9 \$p 2>/dev/null"
ag() {
	local action=$1
	shift
	env OCF_RESKEY_config=rec1 OCF_RESKEY_store="$lurl" OCF_RESKEY_rundir="$arun" \
		OCF_RESKEY_CRM_meta_timeout=60000 OCF_RESOURCE_INSTANCE=rec1 "$@" \
		"$agent" "$action" 2>>"$scratch/agent.log"
}
ag monitor OCF_RESKEY_CRM_meta_interval=0
check_eq "agent: probe before start: 7" 7 $?
ag start
check_eq "agent start (store=iscsi://): 0" 0 $?
check "... the recorder runs from the LUN" wait_for 60 ack_at_least "$aser" 3
ag monitor OCF_RESKEY_CRM_meta_interval=10000
check_eq "agent monitor depth 0: 0" 0 $?
ag monitor OCF_RESKEY_CRM_meta_interval=10000 OCF_CHECK_LEVEL=10
check_eq "agent monitor depth 10: 0" 0 $?
ag stop
check_eq "agent stop (save): 0" 0 $?
saved=$(last_ack "$aser")
check "... rec1.vsv is in the LUN store" grep -q 'rec1.vsv:vsv' <<<"$(objects "$lurl")"
ag monitor OCF_RESKEY_CRM_meta_interval=0
check_eq "agent probe after stop: 7" 7 $?
ag start
check_eq "agent start with the saved state: 0" 0 $?
check "... logged as restored" grep -q 'vm rec1: online (restored)' "$scratch/agent.log"
check "... the guest goes on" wait_for 60 ack_at_least "$aser" $((saved + 2))
check_eq "... from the ack after the saved one" $((saved + 1)) "$(first_ack "$aser")"
check "... rec1.vsv consumed on the LUN" grep -q 'rec1.vsv.consumed:other' <<<"$(objects "$lurl")"
ag monitor OCF_RESKEY_CRM_meta_interval=10000 OCF_CHECK_LEVEL=10
check_eq "agent monitor depth 10 after the restore: 0" 0 $?
ag stop
check_eq "agent stop: 0" 0 $?

done_testing
