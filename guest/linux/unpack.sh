#!/usr/bin/env bash
# Unpacks the fetched .debs into ROOT and regenerates modules.dep there (the
# kernel package ships no modules.dep: depmod makes it at install time).
#   unpack.sh DEBDIR ROOT
set -euo pipefail
debs=${1:?usage: unpack.sh DEBDIR ROOT}
root=${2:?usage: unpack.sh DEBDIR ROOT}
die() { echo "unpack: $*" >&2; exit 1; }
depmod=$(PATH=$PATH:/usr/sbin:/sbin command -v depmod) || die "depmod not found (package kmod; run 'make deps')"

rm -rf "$root"
mkdir -p "$root"
shopt -s nullglob
files=("$debs"/*.deb)
((${#files[@]} == 2)) || die "expected 2 .debs in $debs, found ${#files[@]}"
for f in "${files[@]}"; do dpkg-deb -x "$f" "$root"; done
kvers=("$root"/lib/modules/*)
((${#kvers[@]} == 1)) || die "expected one kernel under $root/lib/modules, found ${#kvers[@]}"
kver=$(basename "${kvers[0]}")
vmlinuz=$root/boot/vmlinuz-$kver
[[ -f $vmlinuz ]] || die "$vmlinuz missing from the kernel package"
[[ -x $root/bin/busybox ]] || die "$root/bin/busybox missing from busybox-static"
"$depmod" -b "$root" "$kver"
echo "$kver" >"$root/kernel-version"
echo "unpack: kernel $kver, busybox -> $root" >&2
