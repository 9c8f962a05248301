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
	# lint
	clang-tidy cppcheck libxml2-utils
	# tests: iSCSI target and initiator tools, cluster stack, oracles
	tgt libiscsi-bin sg3-utils
	corosync pacemaker pacemaker-cli-utils crmsh resource-agents fence-agents
	qemu-utils python3-libvhdi libvhdi-utils libunicorn-dev
	iproute2 socat procps util-linux psmisc xz-utils cpio
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
sudo=
(($(id -u) == 0)) || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Package scripts must not start daemons on the host; the tests start their own.
printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
$sudo chmod +x /usr/sbin/policy-rc.d
trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
