#!/usr/bin/env bash
# Installs every package havm needs to build, test, benchmark and demo, with
# apt-get, non-interactively. Idempotent: already-installed packages are
# skipped, so a second run makes no network access.
set -euo pipefail
pkgs=(
	# build
	build-essential pkg-config gcc-multilib clang
	libqb-dev libxml2-dev libjson-c-dev libcmocka-dev libfuse3-dev fuse3
	libiscsi-dev libcmap-dev libquorum-dev libcpg-dev libcorosync-common-dev pacemaker-dev
	nettle-dev # md5 for fence_scsi-compatible PR keys (iscsi/pr_key.c)
	zlib1g-dev
	# lint
	clang-tidy cppcheck libxml2-utils
	# tests: iSCSI target and initiator tools, cluster stack, oracles
	tgt libiscsi-bin sg3-utils gdisk
	corosync pacemaker pacemaker-cli-utils crmsh resource-agents fence-agents
	qemu-utils python3-libvhdi libvhdi-utils libunicorn-dev
	iproute2 socat procps util-linux psmisc xz-utils cpio
	# Linux test guest (guest/linux): depmod for the kernel's modules.dep, QEMU as its oracle
	kmod qemu-system-x86
)
# The Linux test guest is built from Debian i386 packages (apt-get download).
need_update=0
if ! dpkg --print-foreign-architectures | grep -qx i386; then
	echo "deps: adding the i386 architecture (Linux test guest packages)"
	$( (($(id -u) == 0)) || echo sudo) dpkg --add-architecture i386
	need_update=1
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0 && need_update == 0)); then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
sudo=
(($(id -u) == 0)) || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
# A bookworm-security i386 index sometimes fails with "File has unexpected
# size" while the mirror syncs: retry, then go on with what was fetched.
for try in 1 2 3; do
	$sudo apt-get update -qq && break
	echo "deps: apt-get update failed (try $try of 3)"
	sleep 2
done
((${#missing[@]} == 0)) && exit 0
# Package scripts must not start daemons on the host; the tests start their own.
printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
$sudo chmod +x /usr/sbin/policy-rc.d
trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
