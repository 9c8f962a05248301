#!/usr/bin/env bash
# The OCF agent as Pacemaker and ocf-tester see it: meta-data valid against
# resource-agents' 1.0 DTD (ocf-tester's xmllint check) and, when one is
# installed, the OCF 1.1 RNG; meta-data as an unprivileged user; exit codes
# and ocf-exit-reason lines; the broken-environment rules; and stop/monitor
# against a hung "vmm" (a copy of sleep named vmm that holds the VM's lock,
# with its pidfile, and never answers its socket). The real vmm is driven in
# test_lifecycle_vmm.sh.
source "$(dirname "$0")/../lib/tap.sh"
agent=$HAVM_BIN/VirtualServer
[[ -x $agent ]] || agent=$HAVM_TOP/build/bin/VirtualServer
check "agent binary exists" test -x "$agent"

"$agent" meta-data >"$scratch/md.xml"
check_eq "meta-data exits 0" 0 $?

dtd=
for d in /usr/share/resource-agents/ra-api-1.dtd /usr/lib/ocf/ra/*/ra-api-1.dtd; do
	[[ -f $d ]] && { dtd=$d; break; }
done
if [[ -z $dtd ]]; then
	skip "meta-data validates against ra-api-1.dtd" "no ra-api-1.dtd installed (resource-agents)"
else
	# As ocf-tester does: the DOCTYPE names ra-api-1.dtd, found beside the file.
	cp "$dtd" "$scratch/ra-api-1.dtd"
	out=$(cd "$scratch" && xmllint --noout --valid md.xml 2>&1)
	check_eq "meta-data validates against $dtd (xmllint --valid)" "" "$out"
	# A document with an element the DTD lacks must fail: the check bites.
	sed 's|<shortdesc lang="en">havm virtual machine</shortdesc>|&<bogus/>|' "$scratch/md.xml" >"$scratch/bad.xml"
	check_fails "xmllint rejects meta-data with an unknown element" \
		bash -c "cd '$scratch' && xmllint --noout --valid bad.xml 2>/dev/null"
fi
# resource-agents' RNG for agent meta-data (metadata.rng) covers OCF 1.1
# (content type="select", ...); older packages shipped it as ra-api*.rng.
rng=${HAVM_OCF_RNG:-}
for r in /usr/share/resource-agents/metadata.rng /usr/share/resource-agents/ra-api-1.1.rng \
	/usr/share/resource-agents/ra-api.rng; do
	[[ -z $rng && -f $r ]] && rng=$r
done
if [[ -n $rng ]]; then
	check "meta-data validates against the OCF 1.1 RNG ($rng)" xmllint --noout --relaxng "$rng" "$scratch/md.xml"
	sed 's|<shortdesc lang="en">havm virtual machine</shortdesc>|&<bogus/>|' "$scratch/md.xml" >"$scratch/bad-rng.xml"
	check_fails "the RNG rejects meta-data with an unknown element" \
		xmllint --noout --relaxng "$rng" "$scratch/bad-rng.xml"
else
	skip "meta-data validates against the OCF 1.1 RNG" "no resource-agents metadata.rng installed; set HAVM_OCF_RNG"
fi
check "meta-data has depth 0 and 10 monitors" \
	bash -c "grep -q 'name=\"monitor\" depth=\"0\"' '$scratch/md.xml' && grep -q 'name=\"monitor\" depth=\"10\"' '$scratch/md.xml'"
check "config is required and unique" grep -q '<parameter name="config" unique="1" required="1">' "$scratch/md.xml"
for p in store stop_policy rundir migrate_downtime migrate_passes; do
	check "parameter $p is described" grep -q "<parameter name=\"$p\"" "$scratch/md.xml"
done

if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
	out=$(cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups "$agent" meta-data 2>&1)
	check_eq "meta-data works as nobody and prints the same XML" "$(cat "$scratch/md.xml")" "$out"
else
	skip "meta-data as nobody" "needs root and setpriv"
fi

# Exit codes without any environment.
"$agent" >/dev/null 2>&1
check_eq "no action: OCF_ERR_ARGS" 2 $?
"$agent" frobnicate >/dev/null 2>"$scratch/err"
check_eq "unknown action: OCF_ERR_UNIMPLEMENTED" 3 $?
check "unknown action gives an exit reason" grep -q "^ocf-exit-reason:action 'frobnicate' is not implemented" "$scratch/err"
"$agent" usage >/dev/null
check_eq "usage: 0" 0 $?

export OCF_RESKEY_rundir=$scratch/run
run() { # expected-rc description action [env...]
	local want=$1 what=$2 action=$3
	shift 3
	env "$@" "$agent" "$action" >"$scratch/out" 2>"$scratch/err"
	local rc=$?
	check_eq "$what: rc $want" "$want" "$rc"
	((rc == want)) || sed 's/^/# /' "$scratch/err"
}
run 6 "validate-all without config" validate-all
check "... names the missing parameter" grep -q "^ocf-exit-reason:parameter 'config' is required" "$scratch/err"
run 0 "stop without config (broken environment)" stop
run 7 "probe without config" monitor OCF_RESKEY_CRM_meta_interval=0
run 1 "recurring monitor without config" monitor OCF_RESKEY_CRM_meta_interval=10000
run 5 "validate-all with a missing .vmc" validate-all OCF_RESKEY_config=$scratch/gone.vmc
check "... names the file" grep -q "gone.vmc: no such file on this node" "$scratch/err"
echo '<vm name="bad">' >"$scratch/bad.vmc"
run 6 "validate-all with malformed XML" validate-all OCF_RESKEY_config=$scratch/bad.vmc
echo '<vm name="bad2"><memory unit="TiB">1</memory><boot><image>x</image></boot></vm>' >"$scratch/bad2.vmc"
run 6 "validate-all with an invalid .vmc" validate-all OCF_RESKEY_config=$scratch/bad2.vmc
check "... names file, line and element" grep -q 'bad2.vmc:1: <memory>' "$scratch/err"
echo '<vm name="web1"><memory unit="MiB">4</memory><boot><image>web1.bin</image></boot></vm>' >"$scratch/web1.vmc"
export OCF_RESKEY_config=$scratch/web1.vmc
run 6 "validate-all with a bad stop_policy" validate-all OCF_RESKEY_stop_policy=hibernate
run 0 "validate-all with a good config and a vmm" validate-all HAVM_VMM=/bin/true
run 5 "validate-all without a vmm program" validate-all HAVM_VMM=$scratch/no-vmm
run 7 "probe of a VM that never ran" monitor OCF_RESKEY_CRM_meta_interval=0
run 0 "stop of a stopped VM" stop
run 1 "start under Pacemaker without corosync refuses (quorum gate)" start OCF_RESKEY_crm_feature_set=3.16.2
check "... and says why" grep -q "corosync is not running" "$scratch/err"

# A process posing as the running VM: "vmm" (a copy of sleep) holding the
# VM's lock through flock(1), and its pidfile "<pid> <starttime>".
mkdir -p "$scratch/bin" "$scratch/run/web1"
cp "$(command -v sleep)" "$scratch/bin/vmm"
flock "$scratch/run/web1/lock" "$scratch/bin/vmm" 60 &
fpid=$!
at_exit "kill $fpid 2>/dev/null"
vpid=
for ((i = 0; i < 50; i++)); do
	vpid=$(pgrep -P "$fpid" -x vmm) && break
	sleep 0.1
done
check "fake vmm started" test -n "$vpid"
at_exit "kill $vpid 2>/dev/null"
echo "$vpid $(awk '{ print $22 }' "/proc/$vpid/stat")" >"$scratch/run/web1/vmm.pid"
run 0 "probe finds the running VM" monitor OCF_RESKEY_CRM_meta_interval=0
mv "$scratch/web1.vmc" "$scratch/web1.vmc.away"
run 0 "probe finds it although the .vmc is unreadable" monitor OCF_RESKEY_CRM_meta_interval=0
run 1 "depth-10 monitor of a vmm that does not answer its socket: failed" monitor OCF_RESKEY_CRM_meta_interval=60000 OCF_CHECK_LEVEL=10
run 0 "start of the running VM is a no-op, even with the .vmc unreadable" start
mv "$scratch/web1.vmc.away" "$scratch/web1.vmc"
run 0 "stop terminates a VM whose vmm does not answer" stop OCF_RESKEY_CRM_meta_timeout=10000
check "... the vmm process is gone" bash -c "! kill -0 $vpid 2>/dev/null || grep -q '^State:.*Z' /proc/$vpid/status"
check "... its pidfile is removed" test ! -e "$scratch/run/web1/vmm.pid"
run 7 "probe after stop" monitor OCF_RESKEY_CRM_meta_interval=0
done_testing
