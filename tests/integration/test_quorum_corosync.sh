#!/usr/bin/env bash
# The quorum gate against a real corosync: a single-node cluster on loopback
# in a private network and mount namespace (corosync's IPC sockets are
# abstract, so per netns; its pidfile lives in a private /run). `havm cluster`
# must read quorate=yes, the cluster name and the node id from the running
# corosync, the agent's start must then pass the quorum gate, and after
# corosync is stopped (by PID) the node must read stand-alone again; with
# quorum lost (expected_votes raised through cmap) online is refused.
# Skipped unless root with corosync installed.
source "$(dirname "$0")/../lib/tap.sh"
havm=$HAVM_BIN/havm
[[ -x $havm ]] || havm=$HAVM_TOP/build/bin/havm
agent=$HAVM_BIN/VirtualServer
[[ -x $agent ]] || agent=$HAVM_TOP/build/bin/VirtualServer

if [[ $(id -u) != 0 ]] || ! command -v corosync >/dev/null || ! command -v unshare >/dev/null; then
	skip "single-node corosync on loopback" "needs root, corosync and unshare"
	done_testing
	exit
fi

# Re-run inside private network + mount namespaces; the TAP output is ours.
if [[ -z ${HAVM_QUORUM_IN_NS:-} ]]; then
	export HAVM_QUORUM_IN_NS=1 HAVM_BIN HAVM_TOP
	exec unshare --net --mount --propagation private bash "$0" "$@"
fi

ip link set lo up
check "loopback is up in the private netns" bash -c "ip -o link show lo | grep -q 'UP'"
mount -t tmpfs tmpfs /run     # corosync's pidfile (/var/run/corosync.pid)
mount -t tmpfs tmpfs /dev/shm # libqb ring buffers

out=$("$havm" cluster --json 2>&1)
check_eq "before corosync: stand-alone" \
	'{"mode":"standalone","quorate":true,"quorum_provider":false,"nodeid":0,"cluster_name":""}' "$out"

mkdir -p "$scratch/state"
cat >"$scratch/corosync.conf" <<CONF
totem {
	version: 2
	cluster_name: havmq
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 2000
}
nodelist {
	node {
		name: n1
		nodeid: 7
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
check "corosync accepts the configuration (corosync -t)" corosync -t -c "$scratch/corosync.conf"
corosync -f -c "$scratch/corosync.conf" >"$scratch/corosync.log" 2>&1 &
cpid=$!
at_exit "kill $cpid 2>/dev/null; for i in \$(seq 50); do kill -0 $cpid 2>/dev/null || break; sleep 0.1; done; kill -9 $cpid 2>/dev/null"

# Wait (bounded, 30 s) until corosync answers and reports quorum.
for ((i = 0; i < 150; i++)); do
	out=$("$havm" cluster --json 2>/dev/null)
	[[ $out == *'"quorate":true'*'"nodeid":7'* ]] && break
	kill -0 "$cpid" 2>/dev/null || break
	sleep 0.2
done
check_eq "with corosync: member, quorate, votequorum, node id 7, cluster havmq" \
	'{"mode":"member","quorate":true,"quorum_provider":true,"nodeid":7,"cluster_name":"havmq"}' "$out"
[[ $out == *'"mode":"member"'* ]] || sed 's/^/# /' "$scratch/corosync.log" | tail -20
text=$("$havm" cluster 2>&1)
check "text output names cluster, node and quorum" \
	bash -c "grep -q '^cluster: havmq$' <<<'$text' && grep -q '^nodeid: 7$' <<<'$text' && grep -q '^quorate: yes$' <<<'$text'"

# Under Pacemaker (crm_feature_set set) the agent's start now passes the
# quorum gate and gets as far as the vmm, here one that exits at once.
echo '<vm name="web1"><memory unit="MiB">4</memory><boot><image>w.bin</image></boot></vm>' >"$scratch/web1.vmc"
HAVM_VMM=/bin/false OCF_RESKEY_config=$scratch/web1.vmc OCF_RESKEY_rundir=$scratch/run \
	OCF_RESKEY_crm_feature_set=3.16.2 "$agent" start >/dev/null 2>"$scratch/agent.err"
check_eq "agent start under Pacemaker passes the quorum gate (fails only at the vmm, rc 1)" 1 $?
check "... and says so" grep -q "vmm exited with status 1 before it ran" "$scratch/agent.err"

# Lose quorum: one vote of an expected two (set at run time through cmap).
if command -v corosync-cmapctl >/dev/null; then
	corosync-cmapctl -s quorum.expected_votes u32 2 >/dev/null
	for ((i = 0; i < 50; i++)); do
		out=$("$havm" cluster --json 2>/dev/null)
		[[ $out == *'"quorate":false'* ]] && break
		sleep 0.2
	done
	check_eq "expected_votes 2: member without quorum" \
		'{"mode":"member","quorate":false,"quorum_provider":true,"nodeid":7,"cluster_name":"havmq"}' "$out"
	"$havm" online --rundir "$scratch/run2" "$scratch/web1.vmc" >/dev/null 2>"$scratch/online.err"
	check_eq "havm online without quorum exits 6 (noquorum)" 6 $?
	check "... naming node and cluster" \
		grep -q "refused: node 7 of cluster 'havmq' is in a partition without quorum" "$scratch/online.err"
	check "... and creates no runtime directory" test ! -e "$scratch/run2"
	OCF_RESKEY_config=$scratch/web1.vmc OCF_RESKEY_rundir=$scratch/run \
		"$agent" start >/dev/null 2>"$scratch/agent.err"
	check_eq "agent start without quorum: OCF_ERR_GENERIC" 1 $?
	check "... with the reason" grep -q "^ocf-exit-reason:.*partition without quorum" "$scratch/agent.err"
else
	skip "losing quorum" "corosync-cmapctl missing"
fi

kill "$cpid"
for ((i = 0; i < 100; i++)); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
check "corosync stopped by PID" bash -c "! kill -0 $cpid 2>/dev/null"
wait "$cpid" 2>/dev/null
out=$("$havm" cluster --json 2>&1)
check_eq "after corosync stopped: stand-alone again" \
	'{"mode":"standalone","quorate":true,"quorum_provider":false,"nodeid":0,"cluster_name":""}' "$out"
OCF_RESKEY_config=$scratch/web1.vmc OCF_RESKEY_rundir=$scratch/run OCF_RESKEY_crm_feature_set=3.16.2 \
	"$agent" start >/dev/null 2>"$scratch/agent.err"
check_eq "agent start under Pacemaker without corosync is refused (rc 1)" 1 $?
done_testing
