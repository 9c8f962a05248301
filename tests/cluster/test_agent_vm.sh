#!/usr/bin/env bash
# Our OCF agent in a real cluster: ocf:havm:VirtualServer runs the ticker
# guest under Pacemaker on 3 nodes (the VM's .vmc in a directory all nodes
# share). It starts on one node, its depth-0 and depth-10 monitors pass, a
# move stops it on the old node (poweroff) and starts it on the new one, and
# after a SIGKILL of the active node it comes back on a survivor. A sampler
# whose probe looks at the real vmm process (pidfile in the node's own /run
# plus a live process named vmm) must never see it on two nodes.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/cluster/lib/bed.sh"

missing=$(bed_requirements)
ticker=$HAVM_TOP/build/guests/ticker.bin
if [[ -n $missing ]]; then
	skip "VirtualServer in the cluster" "missing: $missing"
	done_testing
	exit
fi
for f in "$BED_BUILD/ocf/havm/VirtualServer" "$BED_BUILD/bin/vmm" "$BED_BUILD/bin/havm" "$ticker"; do
	if [[ ! -e $f ]]; then
		skip "VirtualServer in the cluster" "$f is not built"
		done_testing
		exit
	fi
done

bed_init
_bed_test_down() {
	((_tap_failed > 0)) && BED_KEEP_LOGS=$HAVM_TOP/build/test-logs/bed-$BED_ID
	bed_down
}
at_exit _bed_test_down
bed_watchdog 300 # whole-test bound; normal runs take about a sixth of it

# probe_vmm K RSC: node K really runs the VM: its own /run/havm holds a
# pidfile naming a live process called vmm, and K is not frozen.
probe_vmm() {
	local anchor pid
	anchor=$(bed_anchor "$1") || return 1
	pid=$(cut -d' ' -f1 "/proc/$anchor/root/run/havm/tick1/vmm.pid" 2>/dev/null) || return 1
	[[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == vmm ]] && ! bed_frozen "$1"
}
last_tick() { grep -o '^tick [0-9]*' "$store/serial.txt" 2>/dev/null | tail -1 | cut -d' ' -f2; }
ticking() { local a b; a=$(last_tick); sleep 1; b=$(last_tick); [[ -n $b && $b != "$a" ]]; }

t0=$(bed_now_ms)
if ! bed_up 3; then
	not_ok "bed with 3 nodes comes up"
	done_testing
	exit
fi
ok "bed with 3 nodes comes up"
check "bed_install_agents puts VirtualServer, vmm and havm in every node" bed_install_agents
check "Pacemaker shows n1 n2 n3 online" bed_wait_online 90
check "fence_dummy configured" bed_fencing_dummy 3

store=$BED_DIR/store
mkdir -p "$store"
cat >"$store/tick1.vmc" <<VMC
<vm name="tick1">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$ticker</image></boot>
  <serial port="com1" backend="file" path="$store/serial.txt"/>
</vm>
VMC
check_eq "crm_resource lists the agent" "VirtualServer" \
	"$(bed_crm 1 crm_resource --list-agents ocf:havm 2>/dev/null | grep -x VirtualServer)"
# Stickiness as admins set it: without it, clearing the move constraint or a
# new DC's transition may shuffle vm1 between healthy nodes, and the node-kill
# step below would kill a node that no longer runs it.
bed_crm 1 cibadmin --create -o resources --xml-text \
	"<primitive id=\"vm1\" class=\"ocf\" provider=\"havm\" type=\"VirtualServer\">
	  <instance_attributes id=\"vm1-ia\">
	    <nvpair id=\"vm1-config\" name=\"config\" value=\"$store/tick1.vmc\"/>
	    <nvpair id=\"vm1-policy\" name=\"stop_policy\" value=\"poweroff\"/>
	  </instance_attributes>
	  <meta_attributes id=\"vm1-meta\">
	    <nvpair id=\"vm1-stick\" name=\"resource-stickiness\" value=\"100\"/>
	  </meta_attributes>
	  <operations>
	    <op id=\"vm1-start\" name=\"start\" interval=\"0\" timeout=\"60s\"/>
	    <op id=\"vm1-stop\" name=\"stop\" interval=\"0\" timeout=\"60s\"/>
	    <op id=\"vm1-mon0\" name=\"monitor\" interval=\"3s\" timeout=\"20s\"/>
	    <op id=\"vm1-mon10\" name=\"monitor\" interval=\"7s\" timeout=\"20s\">
	      <instance_attributes id=\"vm1-mon10-ia\">
	        <nvpair id=\"vm1-mon10-level\" name=\"OCF_CHECK_LEVEL\" value=\"10\"/>
	      </instance_attributes>
	    </op>
	  </operations>
	 </primitive>"
first=$(bed_wait_where vm1 '!none' 90)
check "vm1 starts on one node" test -n "$first"
diag "timing: up, configured and vm1 started after $(($(bed_now_ms) - t0)) ms"
check "$first runs the vmm" probe_vmm "$first" vm1
check "the guest ticks" bed_poll 20 0.5 ticking
bed_sample_start vm1 probe_vmm 0.3
check_eq "havm isalive inside $first says running" "vm tick1: running" \
	"$(bed_exec "$first" havm isalive "$store/tick1.vmc" 2>&1)"
sleep 8 # both monitors ran at least once
mon=$(bed_exec 1 crm_mon -1 2>&1)
check "crm_mon shows vm1 started on $first" grep -q "vm1.*Started $first" <<<"$mon"
if grep -qi 'failed' <<<"$mon"; then
	not_ok "no failed actions after both monitors ran"
	sed 's/^/# /' <<<"$mon"
else
	ok "no failed actions after both monitors ran"
fi

# Planned move: stop (poweroff) on the old node, start on the new one.
to=n1
[[ $first == n1 ]] && to=n2
tm=$(bed_now_ms)
bed_crm 1 crm_resource --move -r vm1 -N "$to" >/dev/null 2>&1
moved=$(bed_wait_where vm1 "$to" 60)
check_eq "crm_resource --move takes vm1 to $to" "$to" "$moved"
diag "timing: move to $to took $(($(bed_now_ms) - tm)) ms"
check "$to runs the vmm" probe_vmm "$to" vm1
if probe_vmm "$first" vm1; then not_ok "$first no longer runs the vmm"; else ok "$first no longer runs the vmm"; fi
bed_crm 1 crm_resource --clear -r vm1 >/dev/null 2>&1

# Unplanned: the active node dies.
victim=$(bed_wait_where vm1 "!none" 30) # where it runs now
[[ -n $victim ]] || victim=$to
view=n1
[[ $victim == n1 ]] && view=n3
tk=$(bed_now_ms)
bed_kill_node "$victim"
survivor=$(bed_wait_where -n "$view" vm1 "!$victim" 90)
check "after SIGKILL of $victim, vm1 runs on a survivor ($survivor)" test -n "$survivor"
diag "timing: failover after node kill took $(($(bed_now_ms) - tk)) ms"
check "$survivor runs the vmm" bed_poll 20 0.5 probe_vmm "$survivor" vm1
check "the guest ticks again" bed_poll 30 0.5 ticking
bed_sample_stop
overlaps=$(bed_sample_overlaps vm1)
check_eq "the vmm never ran on two nodes at once (sampler)" "" "$overlaps"
done_testing
