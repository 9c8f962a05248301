#!/usr/bin/env bash
# Builds the Linux test guest's initramfs (cpio newc, gzip) from an unpacked
# ROOT (unpack.sh): busybox, /init generated from init.in, and the kernel
# modules named in MODULES_LIST plus everything they depend on, loaded in
# dependency order.
#   mkinitrd.sh ROOT INIT_IN MODULES_LIST OUT
set -euo pipefail
root=${1:?usage: mkinitrd.sh ROOT INIT_IN MODULES_LIST OUT}
init_in=${2:?} list=${3:?} out=${4:?}
die() { echo "mkinitrd: $*" >&2; exit 1; }

kver=$(cat "$root/kernel-version") || die "$root/kernel-version missing (run unpack.sh)"
moddir=lib/modules/$kver
dep=$root/$moddir/modules.dep
[[ -f $dep ]] || die "$dep missing (run unpack.sh)"

# Module name -> its modules.dep line. Names compare with '-' as '_' like
# modprobe does.
wanted=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' -e 's/-/_/g' "$list")
[[ -n $wanted ]] || die "$list names no modules"
# Emit "ndeps path" for every wanted module and each of its dependencies.
# modules.dep lists a module's full transitive dependency set, so each
# dependency's own set is strictly smaller: sorting by set size (then path,
# for a stable order) loads every module after all of its dependencies.
order=$(awk -v wanted="$wanted" '
	BEGIN { n = split(wanted, w, "\n"); for (i = 1; i <= n; i++) want[w[i]] = 1 }
	{
		path = $1; sub(/:$/, "", path)
		name = path; sub(/.*\//, "", name); sub(/\.ko(\.[a-z]+)?$/, "", name); gsub(/-/, "_", name)
		ndeps[path] = NF - 1
		for (i = 2; i <= NF; i++) deps[path, i - 1] = $i
		byname[name] = path
	}
	END {
		for (m in want) {
			if (!(m in byname)) { print "missing " m; continue }
			p = byname[m]; sel[p] = 1
			for (i = 1; i <= ndeps[p]; i++) sel[deps[p, i]] = 1
		}
		for (p in sel) print ndeps[p], p
	}' "$dep" | sort -k1,1n -k2,2)
missing=$(awk '$1 == "missing" { print $2 }' <<<"$order")
[[ -z $missing ]] || die "modules not in $dep: $(echo $missing)"

stage=$out.stage
rm -rf "$stage"
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,root,"$moddir"}
cp "$root/bin/busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
loads=""
while read -r _ path; do
	mkdir -p "$stage/$moddir/$(dirname "$path")"
	cp "$root/$moddir/$path" "$stage/$moddir/$path"
	loads+="load /$moddir/$path"$'\n'
done <<<"$order"
cp "$root/$moddir/modules.dep" "$root/$moddir/modules.alias" "$stage/$moddir/" 2>/dev/null || true
# Replace the @MODULES@ line of the template with the load lines.
awk -v loads="$loads" '$0 == "@MODULES@" { printf "%s", loads; next } { print }' "$init_in" >"$stage/init"
grep -q '^load /' "$stage/init" || die "$init_in has no @MODULES@ line"
chmod 0755 "$stage/init"

# The kernel's built-in initramfs already provides /dev/console, so no device
# node (which would need root) is created here. Owner root, fixed mtimes and
# sorted names make the archive reproducible.
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -9 -n >"$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$stage"
echo "mkinitrd: $out ($(stat -c %s "$out") bytes, $(grep -c '^load /' <<<"$loads") modules, kernel $kver)" >&2
