#!/usr/bin/env bash
# Downloads the Debian i386 packages the Linux test guest is built from, by
# package name, into DIR: the kernel behind the linux-image-686 meta-package
# (its ABI number drifts, so it is resolved here, never written down) and
# busybox-static:i386. Nothing downloaded is committed; DIR is under build/.
#   fetch-debs.sh DIR
# Needs the i386 architecture in dpkg (`make deps` adds it). When the package
# index does not know the packages yet, runs apt-get update first (as root).
set -euo pipefail
dir=${1:?usage: fetch-debs.sh DIR}
meta=linux-image-686:i386
busybox=busybox-static:i386

die() { echo "fetch-debs: $*" >&2; exit 1; }
as_root() { if (($(id -u) == 0)); then "$@"; else sudo "$@"; fi; }

if ! dpkg --print-foreign-architectures | grep -qx i386; then
	echo "fetch-debs: adding the i386 architecture to dpkg" >&2
	as_root dpkg --add-architecture i386 || die "cannot add the i386 architecture; run 'make deps' as root"
fi

# A bookworm-security i386 index sometimes fails with "File has unexpected
# size" while the mirror syncs; the packages we need come from the main
# archive, so a partial update is retried and then accepted.
known() { apt-cache show "$meta" "$busybox" >/dev/null 2>&1; }
if ! known; then
	for try in 1 2 3; do
		as_root apt-get update -qq && break
		echo "fetch-debs: apt-get update failed (try $try of 3)" >&2
		sleep 2
	done
	known || die "the package index has no $meta or $busybox after apt-get update"
fi

# linux-image-686 depends on exactly one linux-image-<abi>-686 package.
kernel=$(apt-cache depends "$meta" | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
[[ -n $kernel ]] || die "cannot resolve the kernel package behind $meta"
case $kernel in *:i386) ;; *) kernel=$kernel:i386 ;; esac

mkdir -p "$dir"
cd "$dir"
rm -f ./*.deb
for try in 1 2 3; do
	# apt-get as root warns that the download is unsandboxed; harmless here.
	{ apt-get download -q "$kernel" "$busybox" 2>&1 || true; } |
		{ grep -v '^W: Download is performed unsandboxed' || true; } >&2
	n=$(find . -maxdepth 1 -name '*.deb' | wc -l)
	((n == 2)) && break
	echo "fetch-debs: apt-get download incomplete (try $try of 3)" >&2
	rm -f ./*.deb
	sleep 2
done
((n == 2)) || die "could not download $kernel and $busybox"
for f in ./*.deb; do dpkg-deb --info "$f" >/dev/null || die "$f is not a valid .deb"; done
echo "fetch-debs: $kernel $busybox -> $dir" >&2
