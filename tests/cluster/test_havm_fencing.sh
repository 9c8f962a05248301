#!/usr/bin/env bash
# Our fence agent in a real cluster: fence_havm (SCSI-3 PR over libiscsi)
# against the bed's tgtd, configured with unfencing. A node is unfenced
# (registers its key) before it runs a resource; SIGKILL of the active node
# gets it fenced (key removed from the LUN) and the resource restarted on a
# survivor; the restarted node is unfenced again. Timings in "# timing:" lines.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/cluster/lib/bed.sh"

missing=$(bed_requirements)
agent=$BED_BUILD/bin/fence_havm
if [[ -n $missing ]]; then
	skip "fence_havm in the cluster" "missing: $missing"
	done_testing
	exit
fi
if [[ ! -x $agent ]] || ! "$agent" -o metadata 2>/dev/null | grep -q '<action name="on"'; then
	skip "fence_havm in the cluster" "$agent not built or without an 'on' action"
	done_testing
	exit
fi

bed_init
_bed_test_down() {
	((_tap_failed > 0)) && BED_KEEP_LOGS=$HAVM_TOP/build/test-logs/bed-$BED_ID
	bed_down
}
at_exit _bed_test_down
bed_watchdog 420 # whole-test bound; normal runs take about a third of it

t0=$(bed_now_ms)
if ! bed_up 3 || ! bed_san_up; then
	not_ok "bed with 3 nodes and a SAN comes up"
	done_testing
	exit
fi
ok "bed with 3 nodes and a SAN comes up"
lun=$(bed_san_lun shared0 64)
check "bed_install_agents puts fence_havm in every node" bed_install_agents
check_eq "fenced on n2 lists fence_havm" "fence_havm" \
	"$(bed_exec 2 stonith_admin --list-installed 2>/dev/null | grep -x fence_havm)"
check "Pacemaker shows n1 n2 n3 online" bed_wait_online 90
check "fence_havm device with provides=unfencing configured" bed_fencing_havm "$lun"

bed_crm 1 cibadmin --create -o resources --xml-text \
	'<primitive id="d1" class="ocf" provider="pacemaker" type="Dummy">
	  <operations><op id="d1-mon" name="monitor" interval="2s" timeout="10s"/></operations>
	 </primitive>'
active=$(bed_wait_where d1 '!none' 60)
check "d1 starts once its node is unfenced" test -n "$active"
check "$active was unfenced (history)" bed_wait_unfenced "$active" 30
check "$active's key is registered on the LUN" bed_havm_key_status "$active" "$lun"
diag "timing: up, fencing configured and d1 started after $(($(bed_now_ms) - t0)) ms"
bed_sample_start d1 bed_probe_dummy 0.2

victim=$active
view=n1
[[ $victim == n1 ]] && view=n2
tk=$(bed_now_ms)
bed_kill_node "$victim"
survivor=$(bed_wait_where -n "$view" d1 "!$victim" 60)
check "after SIGKILL of $victim, d1 restarts on a survivor" test -n "$survivor"
check "$victim is fenced by fence_havm (history on $view)" bed_wait_fenced -n "$view" "$victim" 30 $((tk / 1000))
bed_havm_key_status -n "$view" "$victim" "$lun"
check_eq "$victim's key is gone from the LUN (status off = 2)" "2" "$?"
bed_havm_key_status -n "$view" "$survivor" "$lun"
check_eq "$survivor's key is still registered" "0" "$?"
tf=$(bed_sample_wait d1 "$tk" "^ $survivor$" 2>/dev/null)
[[ -n $tf ]] && diag "timing: node kill failover with fence_havm ($victim -> $survivor) $((tf - tk)) ms"

tr=$(date +%s)
check "the fenced node $victim restarts" bed_start_node "$victim"
check "after the restart all three nodes are online" bed_wait_online 90
key_back() { bed_havm_key_status -n "$view" "$victim" "$lun"; }
check "the restarted $victim is unfenced again (history)" bed_wait_unfenced -n "$view" "$victim" 60 "$tr"
check "the restarted $victim's key is registered again" bed_poll 30 1 key_back
bed_sample_stop
check_eq "d1 never ran on two nodes at once" "" "$(bed_sample_overlaps d1)"

id=$BED_ID
((_tap_failed > 0)) && BED_KEEP_LOGS=$HAVM_TOP/build/test-logs/bed-$BED_ID
bed_down
check_eq "bed_down leaves no namespace of the bed" "" "$(ip netns list | grep "^rt-$id-")"
diag "timing: whole test $(($(bed_now_ms) - t0)) ms"
done_testing
