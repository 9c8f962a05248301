#!/usr/bin/env bash
# The cluster test bed itself, proven with Pacemaker's own agents: a 3-node
# corosync + Pacemaker cluster in namespaces, an ocf:pacemaker:Dummy resource
# moved, failed over after a node kill, kept single across a partition and a
# freeze, fencing through fence_dummy, the SAN reachable from the nodes, our
# programs visible only inside the nodes, and a teardown that leaves nothing.
# Failover timings go to the log as "# timing ..." lines.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/cluster/lib/bed.sh"

missing=$(bed_requirements)
for t in fence_dummy iscsi-readcapacity16; do
	command -v "$t" >/dev/null || missing+=" $t"
done
missing=${missing# }
if [[ -n $missing ]]; then
	skip "cluster test bed" "missing: $missing"
	done_testing
	exit
fi

# --- a crashed earlier run is cleaned up by the next one ---------------------
# A child shell builds a 1-node bed and is SIGKILLed without teardown.
stale_id=hv$((900000 + RANDOM))
{ bash -c 'source "$1"; bed_init "$2"; bed_up 1 >/dev/null 2>&1; kill -KILL $$' \
	sh "$HAVM_TOP/tests/cluster/lib/bed.sh" "$stale_id"; } >/dev/null 2>&1
stale_pids=$(awk '{print $1}' "/tmp/havm-bed-$stale_id/pids" 2>/dev/null | tr '\n' ' ')
check "a killed run leaves namespaces behind (precondition)" \
	bash -c "ip netns list | grep -q '^rt-$stale_id-'"

bed_init
# On failure keep the node logs next to the test log.
_bed_test_down() {
	((_tap_failed > 0)) && BED_KEEP_LOGS=$HAVM_TOP/build/test-logs/bed-$BED_ID
	bed_down
}
at_exit _bed_test_down
bed_watchdog 600 # whole-test bound; normal runs take about a third of it
diag "bed id $BED_ID, state in $BED_DIR, corosync token ${BED_TOKEN} ms"

check_eq "leftover namespaces of the killed run are removed" "" \
	"$(ip netns list | grep "^rt-$stale_id-")"
# shellcheck disable=SC2086
check "leftover processes of the killed run are gone" _bed_all_gone $stale_pids
check "leftover state directory is removed" test ! -e "/tmp/havm-bed-$stale_id"

# --- bring-up ------------------------------------------------------------------
t0=$(bed_now_ms)
if ! bed_up 3; then
	not_ok "bed_up 3 starts corosync and pacemaker on three nodes"
	done_testing
	exit
fi
ok "bed_up 3 starts corosync and pacemaker on three nodes"
for k in 1 2 3; do
	check "n$k is quorate with 3 votes" bed_wait_quorate "$k" 3 60
done
check "Pacemaker shows n1 n2 n3 online with a DC" bed_wait_online 90
diag "timing: cluster up (DC elected, all online) after $(($(bed_now_ms) - t0)) ms"
check_eq "each node has its own hostname" "n2" "$(bed_exec 2 hostname)"
check_eq "corosync sees three members from n3" "3" \
	"$(bed_exec 3 corosync-cmapctl -b runtime.members | grep -c 'status (str) = joined')"
shm_differs() { ! diff <(bed_exec 1 ls /dev/shm) <(bed_exec 2 ls /dev/shm) >/dev/null; }
check "each node has its own /dev/shm (n1 and n2 see different libqb buffers)" shm_differs
check "n1's /dev/shm holds corosync's libqb buffers" bash -c "ls /proc/$(bed_anchor 1)/root/dev/shm | grep -q '^qb-'"
check "the host's /var/lib/pacemaker/cib got no cib.xml" test ! -e /var/lib/pacemaker/cib/cib.xml

# --- smoke: a Dummy resource, planned move (fencing off) ---------------------------
bed_crm 1 cibadmin --create -o resources --xml-text \
	'<primitive id="d1" class="ocf" provider="pacemaker" type="Dummy">
	  <operations><op id="d1-mon" name="monitor" interval="2s" timeout="10s"/></operations>
	 </primitive>'
first=$(bed_wait_where d1 '!none' 30)
check "ocf:pacemaker:Dummy d1 starts on one node" test -n "$first"
bed_sample_start d1 bed_probe_dummy 0.2
target=n1
[[ $first == n1 ]] && target=n2
tm=$(bed_now_ms)
bed_crm 1 crm_resource --move -r d1 -N "$target" >/dev/null 2>&1
check_eq "crm_resource --move puts d1 on $target" "$target" "$(bed_wait_where d1 "$target" 30)"
diag "timing: planned move $first -> $target took $(($(bed_now_ms) - tm)) ms"
check "the Dummy state file is on $target only" bed_probe_dummy "$target" d1
bed_crm 1 crm_resource --clear -r d1 >/dev/null 2>&1
no_move_constraint() { ! bed_exec 1 cibadmin -Q -o constraints | grep -q cli-prefer-d1; }
check "crm_resource --clear removes the move constraint" no_move_constraint

# --- fencing with fence_dummy, node kill ----------------------------------------------
# The fence delay lets a partitioned node stop its resources before the
# majority (trusting fence_dummy) starts them again; see bed-fence.sh.
BED_FENCE_DELAY=3
check "fence_dummy device configured, stonith-enabled=true" bed_fencing_dummy
fence_device_runs() { bed_wait_where fence-dummy '!none' 30 >/dev/null; }
check "the fence-dummy device starts" fence_device_runs

victim=$(bed_where d1)
view=n1
[[ $victim == n1 ]] && view=n2
tk=$(bed_now_ms)
bed_kill_node "$victim"
check_eq "no process is left in the killed node's namespace" "" "$(ip netns pids "$(bed_ns "$victim")")"
survivor=$(bed_wait_where -n "$view" d1 "!$victim" 60)
check "after SIGKILL of $victim, d1 restarts on a survivor" test -n "$survivor"
check "$victim is fenced (fence_dummy, history on $view)" bed_wait_fenced -n "$view" "$victim" 30 $((tk / 1000))
check_eq "the survivors are quorate with 2 of 3 votes" "yes 2" "$(bed_quorum "$view")"
tf=$(bed_sample_wait d1 "$tk" "^ $survivor$" 2>/dev/null)
if [[ -n $tf ]] && [[ -n $survivor ]]; then
	diag "timing: node kill failover ($victim -> $survivor) $((tf - tk)) ms (token $BED_TOKEN ms, fence delay ${BED_FENCE_DELAY}s)"
fi
check "the killed node $victim restarts" bed_start_node "$victim"
check "after restarting $victim all three nodes are online" bed_wait_online 90

# --- partition -------------------------------------------------------------------------
victim=$(bed_where d1)
view=n1
[[ $victim == n1 ]] && view=n2
tp=$(bed_now_ms)
bed_partition "$victim"
check "the partitioned node $victim loses quorum" bed_wait_unquorate "$victim" 30
check_eq "the majority keeps quorum with 2 votes" "yes 2" "$(bed_quorum "$view")"
check_eq "no-quorum-policy=stop: $victim stops d1 in its own view" "" \
	"$(bed_wait_where -n "$victim" d1 "" 60)"
survivor=$(bed_wait_where -n "$view" d1 "!$victim" 60)
check "the majority runs one copy of d1 (on $survivor)" test -n "$survivor"
check "the majority fenced $victim" bed_wait_fenced -n "$view" "$victim" 30 $((tp / 1000))
ts=$(bed_sample_wait d1 "$tp" "^$" 2>/dev/null)
tf=$(bed_sample_wait d1 "$tp" "^ $survivor$" 2>/dev/null)
check "the sampler sees d1 stopped everywhere at some point after the cut" test -n "$ts"
[[ -n $ts ]] && diag "timing: partition: $victim stopped d1 after $((ts - tp)) ms"
[[ -n $tf ]] && diag "timing: partition failover to $survivor $((tf - tp)) ms"
bed_heal "$victim"
# A node that was (allegedly) fenced may rejoin or shut its stack down;
# either way a restart makes it a member again, as a reboot would.
if ! bed_wait_online 40; then
	bed_kill_node "$victim"
	bed_start_node "$victim"
fi
check "after healing the partition all three nodes are online" bed_wait_online 90
check_eq "d1 still runs on one node after the heal" "1" "$(bed_where -n "$view" d1 | wc -w)"

# --- freeze ------------------------------------------------------------------------------
# A freeze shorter than the token timeout goes unnoticed.
other=n3
[[ $(bed_where d1) == n3 ]] && other=n2
tq=$(date +%s)
bed_freeze "$other"
sleep 0.5
bed_thaw "$other"
check_eq "after a 0.5 s freeze of $other the cluster still has 3 votes" "yes 3" "$(bed_quorum 1)"
check_fails "a 0.5 s freeze does not get $other fenced" bed_fenced "$other" "$tq"

# A long freeze of the active node: the others fence it and take over. A
# real fence device would power it off; fence_dummy does not, so the test
# kills the frozen node itself (as the fence would have), then restarts it.
victim=$(bed_where d1)
view=n1
[[ $victim == n1 ]] && view=n2
tz=$(bed_now_ms)
bed_freeze "$victim"
check "bed_frozen reports $victim frozen" bed_frozen "$victim"
survivor=$(bed_wait_where -n "$view" d1 "!$victim" 60)
check "with $victim frozen (SIGSTOP), d1 runs on $survivor" test -n "$survivor"
check "the frozen node is fenced" bed_wait_fenced -n "$view" "$victim" 30 $((tz / 1000))
tf=$(bed_sample_wait d1 "$tz" "^ $survivor$" 2>/dev/null)
if [[ -n $tf ]]; then
	diag "timing: freeze failover $victim -> $survivor $((tf - tz)) ms"
else
	diag "no sample shows d1 on $survivor alone since the freeze:"
	awk -v t="$tz" '$1 >= t' "$BED_DIR/sample-d1.log" | head -40 | sed 's/^/#   /'
fi
bed_kill_node "$victim"
bed_start_node "$victim"
check "after the fenced node's restart all three nodes are online" bed_wait_online 90
bed_sample_stop

check_eq "d1 never ran on two nodes at once (sampler, $(wc -l <"$BED_DIR/sample-d1.log") samples)" "" \
	"$(bed_sample_overlaps d1)"
check_eq "d1 runs on exactly one node at the end" "1" "$(bed_sample_last d1 | wc -w)"

# --- planned node shutdown ---------------------------------------------------------------
# A clean stop (pacemakerd, then corosync) moves the resource away and gets
# nobody fenced.
victim=$(bed_where d1)
view=n1
[[ $victim == n1 ]] && view=n2
bed_sample_start d1 bed_probe_dummy 0.2
ts=$(bed_now_ms)
check "bed_stop_node $victim stops its stack cleanly" bed_stop_node "$victim"
diag "timing: clean stop of $victim took $(($(bed_now_ms) - ts)) ms"
survivor=$(bed_wait_where -n "$view" d1 "!$victim" 30)
check "d1 moved to $survivor during the shutdown" test -n "$survivor"
check_eq "the survivors see $victim offline without fencing it" "0" \
	"$(bed_fence_count -n "$view" "$victim" $((ts / 1000)))"
check_eq "the survivors keep quorum (expected votes stay 3)" "yes 2" "$(bed_quorum "$view")"
check "$victim starts again" bed_start_node "$victim"
check "all three nodes are online again" bed_wait_online 90
bed_sample_stop
check_eq "d1 never ran on two nodes during the shutdown" "" "$(bed_sample_overlaps d1)"

# --- SAN -------------------------------------------------------------------------------------
check "bed_san_up starts tgtd in its own namespace" bed_san_up
lun=$(bed_san_lun disk0 64)
check_eq "a 64 MiB file-backed LUN is added" "1" "$lun"
lun_size() { bed_exec "$1" timeout 10 iscsi-readcapacity16 -s "$BED_SAN_URL/1" 2>&1; }
check_eq "n1 reads the LUN's size over iSCSI" "67108864" "$(lun_size 1)"
bed_san_cut 2
check_fails "with its storage path cut, n2 cannot reach the SAN" eval 'lun_size 2 >/dev/null'
check_eq "n3 still reaches the SAN meanwhile" "67108864" "$(lun_size 3)"
bed_san_restore 2
check_eq "after restoring the path n2 reaches the SAN again" "67108864" "$(lun_size 2)"

# --- our programs inside the nodes only ------------------------------------------------------
printf '#!/bin/sh\necho bed-probe\n' >"$scratch/fence_bedprobe"
chmod +x "$scratch/fence_bedprobe"
check "bed_install_agents succeeds" bed_install_agents
check "bed_install_file adds a file under /usr/sbin" bed_install_file "$scratch/fence_bedprobe" /usr/sbin/fence_bedprobe
check_eq "n2 runs /usr/sbin/fence_bedprobe" "bed-probe" "$(bed_exec 2 /usr/sbin/fence_bedprobe)"
check "the host's /usr/sbin did not get it" test ! -e /usr/sbin/fence_bedprobe
check "n2 still has the system fence agents" bed_exec 2 test -x /usr/sbin/fence_dummy
if [[ -x $BED_BUILD/ocf/havm/VirtualServer ]]; then
	check_eq "Pacemaker on n1 lists ocf:havm:VirtualServer" "VirtualServer" \
		"$(bed_exec 1 crm_resource --list-agents ocf:havm 2>/dev/null)"
else
	skip "Pacemaker on n1 lists ocf:havm:VirtualServer" "build/ocf/havm/VirtualServer not built"
fi
check "the host has no /usr/lib/ocf/resource.d/havm" test ! -e /usr/lib/ocf/resource.d/havm
if [[ -x $BED_BUILD/bin/fence_havm ]]; then
	lists_fence_havm() { bed_exec 1 stonith_admin --list-installed | grep -qx fence_havm; }
	check "fenced on n1 lists fence_havm" lists_fence_havm
else
	skip "fenced on n1 lists fence_havm" "build/bin/fence_havm not built"
fi

# --- teardown ------------------------------------------------------------------------------------
pids=$(awk '{print $1}' "$BED_DIR/pids" | tr '\n' ' ')
id=$BED_ID
td=$(bed_now_ms)
((_tap_failed > 0)) && BED_KEEP_LOGS=$HAVM_TOP/build/test-logs/bed-$BED_ID
bed_down
diag "timing: teardown $(($(bed_now_ms) - td)) ms"
check_eq "bed_down leaves no namespace of the bed" "" "$(ip netns list | grep "^rt-$id-")"
# shellcheck disable=SC2086
check "bed_down leaves none of the recorded processes" _bed_all_gone $pids
check "bed_down removes the state directory" test ! -e "/tmp/havm-bed-$id"
check "bed_down is idempotent" bed_down
diag "timing: whole test $(($(bed_now_ms) - t0)) ms"
done_testing
