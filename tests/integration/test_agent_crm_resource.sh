#!/usr/bin/env bash
# The agent as Pacemaker's own tool runs it: `crm_resource --force-start`,
# `--force-check`, `--force-check=10` and `--force-stop` bypass the cluster
# and run ocf:havm:VirtualServer on this node through Pacemaker's services
# library (its environment: OCF_RESKEY_crm_feature_set, CRM_meta_timeout,
# OCF_CHECK_LEVEL), against the real vmm and the ticker guest. The resource
# comes from a CIB file (CIB_file), the agent from a bind mount over
# /usr/lib/ocf, corosync is a single node on loopback: all in private
# network and mount namespaces, so the host stays untouched. Skipped unless
# root with crm_resource, corosync and unshare.
source "$(dirname "$0")/../lib/tap.sh"
agent=$HAVM_BIN/VirtualServer
vmm=$HAVM_BIN/vmm
ticker=$HAVM_TOP/build/guests/ticker.bin
if [[ $(id -u) != 0 ]] || ! command -v crm_resource >/dev/null || ! command -v corosync >/dev/null ||
	! command -v unshare >/dev/null; then
	skip "crm_resource --force-* with the real agent" "needs root, crm_resource, corosync and unshare"
	done_testing
	exit
fi
if [[ ! -x $agent || ! -x $vmm || ! -f $ticker ]]; then
	skip "crm_resource --force-* with the real agent" "VirtualServer, vmm or the ticker guest is not built"
	done_testing
	exit
fi
if [[ -z ${HAVM_CRMRES_IN_NS:-} ]]; then
	export HAVM_CRMRES_IN_NS=1 HAVM_BIN HAVM_TOP
	exec unshare --net --mount --propagation private bash "$0" "$@"
fi

ip link set lo up
mount -t tmpfs tmpfs /run     # corosync's pidfile
mount -t tmpfs tmpfs /dev/shm # libqb ring buffers
mkdir -p "$scratch/ocf/resource.d/havm"
cp "$agent" "$scratch/ocf/resource.d/havm/VirtualServer"
mount --bind "$scratch/ocf" /usr/lib/ocf
check "crm_resource sees the agent" bash -c "crm_resource --list-agents ocf:havm | grep -qx VirtualServer"

export HAVM_VMM=$vmm
store=$scratch/store rd=$scratch/run/tick1
mkdir -p "$store"
cat >"$store/tick1.vmc" <<VMC
<vm name="tick1">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$ticker</image></boot>
  <serial port="com1" backend="file" path="$scratch/serial.txt"/>
</vm>
VMC
at_exit "p=\$(cut -d' ' -f1 '$rd/vmm.pid' 2>/dev/null); [[ -n \$p ]] && kill -9 \$p 2>/dev/null"
cat >"$scratch/cib.xml" <<CIB
<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="opts">
        <nvpair id="opts-stonith" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
      <primitive id="tick1" class="ocf" provider="havm" type="VirtualServer">
        <instance_attributes id="tick1-ia">
          <nvpair id="tick1-config" name="config" value="$store/tick1.vmc"/>
          <nvpair id="tick1-rundir" name="rundir" value="$scratch/run"/>
          <nvpair id="tick1-policy" name="stop_policy" value="save"/>
        </instance_attributes>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>
CIB
export CIB_file=$scratch/cib.xml
crm() { # crm_resource OPTION...: output in $scratch/crm.out, returns its status
	crm_resource -r tick1 "$@" >"$scratch/crm.out" 2>&1
}
vmm_pid() { cut -d' ' -f1 "$rd/vmm.pid" 2>/dev/null; }
last_tick() { grep -o '^tick [0-9]*' "$scratch/serial.txt" 2>/dev/null | tail -1 | cut -d' ' -f2; }
wait_ticks() { # n: wait (bounded, 30 s) until the guest printed tick n
	local i t
	for ((i = 0; i < 300; i++)); do
		t=$(last_tick)
		[[ -n $t ]] && ((t >= $1)) && return 0
		sleep 0.1
	done
	return 1
}
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
show() { sed 's/^/# /' "$scratch/crm.out"; }

# Pacemaker's services library sets crm_feature_set, so the quorum gate
# applies: without corosync this node is not a member, and start is refused.
crm --force-start
rc=$?
check "--force-start without corosync is refused" test "$rc" -ne 0
check "... with the agent's reason" grep -q "corosync is not running" "$scratch/crm.out"
check "... and no vmm was started" test ! -e "$rd/vmm.pid"

mkdir -p "$scratch/state"
cat >"$scratch/corosync.conf" <<CONF
totem {
	version: 2
	cluster_name: havmcrm
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 2000
}
nodelist {
	node {
		name: n1
		nodeid: 1
		ring0_addr: 127.0.0.1
	}
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_stderr: yes
	to_logfile: no
	to_syslog: no
}
system {
	sched_rr: no
	state_dir: $scratch/state
}
CONF
corosync -f -c "$scratch/corosync.conf" >"$scratch/corosync.log" 2>&1 &
cpid=$!
at_exit "kill $cpid 2>/dev/null; for i in \$(seq 50); do kill -0 $cpid 2>/dev/null || break; sleep 0.1; done; kill -9 $cpid 2>/dev/null"
for ((i = 0; i < 150; i++)); do
	corosync-quorumtool -s 2>/dev/null | grep -q 'Quorate: *Yes' && break
	kill -0 "$cpid" 2>/dev/null || break
	sleep 0.2
done
check "single-node corosync is quorate" bash -c "corosync-quorumtool -s | grep -q 'Quorate: *Yes'"

crm --force-check
check_eq "--force-check of a VM that never ran: not running (7)" 7 $?
crm --force-start
rc=$?
check_eq "--force-start: 0" 0 "$rc"
((rc == 0)) || show
check "... reported ok" grep -q "returned 0 (ok)" "$scratch/crm.out"
pid=$(vmm_pid)
check "... a vmm runs" bash -c "[[ -n '$pid' ]] && [[ \$(cat /proc/$pid/comm) == vmm ]]"
check "... and the guest ticks" wait_ticks 3
crm --force-start
check_eq "a second --force-start is a no-op: 0" 0 $?
check_eq "... the same vmm" "$pid" "$(vmm_pid)"
crm --force-check
check_eq "--force-check: running (0)" 0 $?
crm --force-check=10
rc=$?
check_eq "--force-check=10 (OCF_CHECK_LEVEL=10, asks the vmm): running (0)" 0 "$rc"
((rc == 0)) || show
# The depth-10 check must really reach the vmm: a stopped vmm still passes
# the depth-0 process check but does not answer its control socket.
kill -STOP "$pid"
crm --force-check
check_eq "vmm stopped (SIGSTOP): --force-check (depth 0) still 0" 0 $?
crm --force-check=10 --timeout 5000
rc=$?
check_eq "... --force-check=10 fails (1): the vmm does not answer" 1 "$rc"
kill -CONT "$pid"
crm --force-check=10
check_eq "vmm continued: --force-check=10 is 0 again" 0 $?

t_before=$(last_tick)
crm --force-stop
rc=$?
check_eq "--force-stop (stop_policy save): 0" 0 "$rc"
((rc == 0)) || show
check "... the vmm is gone" gone "$pid"
check "... its pidfile is removed" test ! -e "$rd/vmm.pid"
check "... the state is saved beside the .vmc" test -s "$store/tick1.vsv"
crm --force-check
check_eq "--force-check after stop: not running (7)" 7 $?
crm --force-stop
check_eq "a second --force-stop: 0" 0 $?
mv "$scratch/serial.txt" "$scratch/serial.before"
crm --force-start
check_eq "--force-start again: 0 (resumes the saved state)" 0 $?
check "... the guest ticks on" wait_ticks $((t_before + 3))
# A resumed guest continues its count; a cold boot would print its banner
# again and restart the count.
check_eq "... without rebooting (no 'ticker: start' since)" 0 "$(grep -c '^ticker: start' "$scratch/serial.txt")"
first=$(grep -o '^tick [0-9]*' "$scratch/serial.txt" | head -1 | cut -d' ' -f2)
check "... its first tick ($first) continues the count before the stop ($t_before)" \
	test "${first:-0}" -ge "$t_before"
sed -i 's/name="stop_policy" value="save"/name="stop_policy" value="poweroff"/' "$scratch/cib.xml"
crm --force-stop
check_eq "--force-stop (stop_policy poweroff): 0" 0 $?
check "... the vmm is gone" test ! -e "$rd/vmm.pid"
crm --force-check
check_eq "... and --force-check says not running (7)" 7 $?
done_testing
