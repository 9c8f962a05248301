#!/usr/bin/env bash
# fence_havm with its identity from a real corosync: one corosync 3 node
# ("n2" of a two-node nodelist, cluster "rtest") and a tgtd run inside a
# private network/mount/uts namespace this test creates; keys come from cmap
# (cluster name, nodelist position, this node's id) exactly as fence_scsi's.
if [[ -z ${HAVM_IN_NS:-} ]]; then
	source "$(dirname "$0")/../lib/tap.sh"
	if [[ $(id -u) != 0 ]] || ! command -v corosync >/dev/null || ! command -v unshare >/dev/null; then
		skip "corosync cmap identity" "needs root, corosync and unshare"
		done_testing
		exit 0
	fi
	# Re-run this script inside fresh namespaces; everything it starts dies
	# with them (and is stopped by PID inside first).
	HAVM_IN_NS=1 exec unshare --net --mount --uts --propagation private "$BASH" "$0" "$@"
fi
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
F=$HAVM_BIN/fence_havm P=$HAVM_BIN/lun_probe
ip link set lo up
hostname n2
mkdir -p "$scratch"/{etc,lib,run,shm}
mount -t tmpfs tmpfs /dev/shm
mount --bind "$scratch/etc" /etc/corosync
mount --bind "$scratch/lib" /var/lib/corosync
mount --bind "$scratch/run" /run
cat >/etc/corosync/corosync.conf <<'CONF'
totem {
	version: 2
	cluster_name: rtest
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
	node {
		name: n2
		nodeid: 2
		ring0_addr: 127.0.0.2
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
	state_dir: /var/lib/corosync
}
CONF
corosync -f >"$scratch/corosync.log" 2>&1 &
cpid=$!
at_exit "kill $cpid 2>/dev/null; wait $cpid 2>/dev/null"
for ((i = 0; i < 100; i++)); do corosync-cmapctl runtime.votequorum.this_node_id >/dev/null 2>&1 && break; sleep 0.1; done
check_eq "corosync runs in the namespace as node id 2" "runtime.votequorum.this_node_id (u32) = 2" \
	"$(corosync-cmapctl runtime.votequorum.this_node_id 2>&1)"

tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:d1 && tgtd_lun 1 1 8 && tgtd_bind 1 ALL
url=$(tgtd_url 1 1)
K1=af1f0000 K2=af1f0001

check_eq "list derives both keys from cmap (fence_scsi 'id' keys)" "n1,$K1 n2,$K2" \
	"$($F -o list -d "$url" | tr '\n' ' ' | sed 's/ $//')"
check_eq "key_value=hash uses md5 of the node name" "n1,af1fc825" \
	"$($F -o list -d "$url" --key-value=hash | head -1)"
check_eq "on n2 (this node) registers $K2" "Success: Powered ON|$K2" \
	"$($F -o on -d "$url" -n n2 -i iqn.2024-01.test:n2)|$($P "$url" keys | tr '\n' ' ' | sed 's/ $//')"
$F -o on -d "$url" -n n1 -i iqn.2024-01.test:n1 >/dev/null
out=$($F -o off -d "$url" -n n2 2>&1); rc=$?
check "this node (n2 from cmap) refuses to fence itself" test $rc -eq 1 -a -n "$(grep 'You can not fence yourself' <<<"$out")"
out=$($F -o off -d "$url" -n n1 -i iqn.2024-01.test:n2 2>&1); rc=$?
check_eq "off n1, with this node's key taken from cmap" "Success: Powered OFF|0" "$out|$rc"
check_eq "only n2's key is left" "$K2" "$($P "$url" keys | sort -u | tr '\n' ' ' | sed 's/ $//')"
check_eq "the vmm side (lun_probe -k cmap) derives this node's key from cmap" "key=$K2" \
	"$($P -k cmap "$url" info | sed -n 's/^key=/key=/p')"
out=$($P -k cmap -i iqn.2024-01.test:n2-vmm "$url" write 100 1 0x21 + read 100 1 2>/dev/null)
check_eq "... and its guard registers that key's new nexus, so it writes" "uniform 0x21" "$out"
out=$($F -o status -d "$url" -n n9 2>&1); rc=$?
check "an unknown node name is refused with the nodelist in the message" \
	test $rc -eq 1 -a -n "$(grep "'n9' is not in the nodelist of cluster 'rtest'" <<<"$out")"
done_testing
