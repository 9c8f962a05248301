#!/usr/bin/env bash
# `make install` honours DESTDIR/PREFIX and puts every program where the
# cluster stack looks: the OCF agent under <OCF_ROOT>/resource.d/havm/ and the
# fence agent beside the other fence agents.
source "$(dirname "$0")/../lib/tap.sh"
cd "$HAVM_TOP"
dest=$scratch/root
make -s install DESTDIR="$dest" >"$scratch/install.log" 2>&1
check "make install DESTDIR succeeds" test $? -eq 0
check "OCF agent installed under resource.d/havm" test -x "$dest/usr/lib/ocf/resource.d/havm/VirtualServer"
check "fence agent installed in sbin like fence-agents" test -x "$dest/usr/sbin/fence_havm"
check "vmm and havm installed" test -x "$dest/usr/sbin/vmm" -a -x "$dest/usr/sbin/havm"
fence_dir=$(dirname "$(command -v fence_scsi 2>/dev/null || echo /usr/sbin/fence_scsi)")
check_eq "fence agent directory matches where fence-agents lives" "/usr/sbin" "$fence_dir"

# Pacemaker's OCF path is compiled in (/usr/lib/ocf/resource.d), so "after a
# real install" is checked in a private mount namespace where the installed
# tree is bind-mounted over /usr/lib/ocf; the host stays untouched.
if ! command -v crm_resource >/dev/null; then
	skip "crm_resource --list-agents" "pacemaker-cli-utils not installed"
elif [[ $(id -u) != 0 ]] || ! command -v unshare >/dev/null; then
	skip "crm_resource --list-agents" "needs root for a private mount namespace"
else
	out=$(unshare --mount --propagation private sh -c \
		'mount --bind "$1/usr/lib/ocf" /usr/lib/ocf && crm_resource --list-agents ocf:havm' sh "$dest" 2>&1)
	check_eq "crm_resource --list-agents ocf:havm finds VirtualServer" "VirtualServer" "$out"
	out=$(unshare --mount --propagation private sh -c \
		'mount --bind "$1/usr/lib/ocf" /usr/lib/ocf && crm_resource --show-metadata ocf:havm:VirtualServer' sh "$dest" 2>&1)
	check "crm_resource --show-metadata returns the agent's XML" grep -q '<resource-agent name="VirtualServer"' <<<"$out"
fi

make -s install DESTDIR="$scratch/p" PREFIX=/opt/havm >/dev/null 2>&1
check "PREFIX moves the programs" test -x "$scratch/p/opt/havm/sbin/havm"
check "PREFIX moves the OCF root" test -x "$scratch/p/opt/havm/lib/ocf/resource.d/havm/VirtualServer"
done_testing
