#!/usr/bin/env bash
# Our VHD reader/writer against the Debian 12 oracles: qemu-img 7.2 (format
# vpc) both ways for fixed and dynamic disks at CHS-exact and other sizes,
# libvhdi (vhdiinfo, pyvhdi) for sizes and differencing chains.
# libvhdi pitfalls (reference note 2.2): chain writes are whole 4 KiB
# clusters (VHD_TESTTOOL_ALIGN=8) and pyvhdi reads are block-aligned.
source "$(dirname "$0")/../lib/tap.sh"
cp "$HAVM_BIN/havm" "$HAVM_BIN/vhd_testtool" "$scratch/" # immune to rebuilds mid-run
havm=$scratch/havm tool=$scratch/vhd_testtool
for t in qemu-img vhdiinfo; do
	command -v $t >/dev/null || { skip "oracles" "$t missing (make deps)"; done_testing; exit; }
done
export VHD_TESTTOOL_ALIGN=1
quiet() { "$@" >/dev/null; } # keeps the TAP line of check on stdout

our_size() { "$havm" vhd info --json "$1" | sed -n 's/.*"virtual_size":\([0-9]*\).*/\1/p' | head -1; }
qemu_size() { qemu-img info -f vpc --output=json "$1" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p'; }
vhdi_size() { vhdiinfo "$1" | sed -n 's/.*Media size.*(\([0-9]*\) bytes).*/\1/p'; }

# A sparse source image: random data in a few places, zeros elsewhere.
make_source() { # file size
	local f=$1 size=$2 off
	rm -f "$f"; truncate -s "$size" "$f"
	for off in 0 $((size / 3)) $((size / 2 + 4096)) $((size - 70000)); do
		((off < 0)) && continue
		head -c 65536 /dev/urandom | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
	done
	truncate -s "$size" "$f"
}

# Sizes: CHS-exact (2088960, 104865792 after rounding) and not (3 MiB + 512,
# 100 MiB, 1 GiB, 130 GiB past the CHS ceiling).
sizes="2088960 3146240 10M 100M 1G 130G"
for type in dynamic fixed; do
	for size in $sizes; do
		[[ $type == fixed && $size == 130G ]] && continue # 130 GiB of zeros: too slow
		img=$scratch/ours-$type-$size.vhd
		"$havm" vhd create --type $type --size $size --sparse "$img" >/dev/null ||
			{ not_ok "$type $size: create"; continue; }
		ours=$(our_size "$img")
		check_eq "$type $size: qemu-img 7.2 reads our size" "$ours" "$(qemu_size "$img")"
		check_eq "$type $size: libvhdi reads our size" "$ours" "$(vhdi_size "$img")"
		check "$type $size: our check is clean" quiet "$havm" vhd check "$img"
		[[ $size == 130G ]] && continue
		make_source "$scratch/src.raw" "$ours"
		"$tool" import "$scratch/src.raw" "$img" || { not_ok "$type $size: import"; continue; }
		qemu-img convert -f vpc -O raw "$img" "$scratch/q.raw"
		check "$type $size: our image -> qemu-img convert -O raw equals what we wrote" \
			cmp -s "$scratch/q.raw" "$scratch/src.raw"
		check "$type $size: qemu-img compare agrees" \
			qemu-img compare -q -f vpc -F raw "$img" "$scratch/src.raw"
		# The other way: qemu-img writes the VHD, we read it.
		qimg=$scratch/qemu-$type-$size.vhd
		qemu-img convert -f raw -O vpc -o subformat=$type "$scratch/src.raw" "$qimg"
		qemu-img convert -f vpc -O raw "$qimg" "$scratch/q2.raw"
		"$tool" export "$qimg" "$scratch/ours.raw"
		check "$type $size: qemu-img-created vpc read by us equals qemu's raw" \
			cmp -s "$scratch/ours.raw" "$scratch/q2.raw"
		rm -f "$scratch"/*.raw "$qimg" "$img"
	done
done

# qemu-img create (no convert): an empty image reads as zeros of the same size.
qemu-img create -q -f vpc -o subformat=dynamic "$scratch/qe.vhd" 100M
check_eq "qemu-img create 100M: same size" "$(qemu_size "$scratch/qe.vhd")" "$(our_size "$scratch/qe.vhd")"
check "qemu-img create 100M: our check is clean" quiet "$havm" vhd check "$scratch/qe.vhd"

# --exact-size: exact for libvhdi and the spec; qemu 7.2 sizes creator
# "havm" by CHS and reads it short (documented in docs/vhd.md).
"$havm" vhd create --size 100M --exact-size "$scratch/ex.vhd" >/dev/null
check_eq "--exact-size 100M: we read 104857600" 104857600 "$(our_size "$scratch/ex.vhd")"
check_eq "--exact-size 100M: libvhdi reads 104857600" 104857600 "$(vhdi_size "$scratch/ex.vhd")"
check_eq "--exact-size 100M: qemu 7.2 reads the CHS floor (why it is not the default)" 104761344 \
	"$(qemu_size "$scratch/ex.vhd")"

# Differencing chains against pyvhdi, byte for byte.
if /usr/bin/python3 -c 'import pyvhdi' 2>/dev/null; then
	export VHD_TESTTOOL_ALIGN=8
	for bs in 2M 64K; do
		d=$scratch/chain-$bs; mkdir -p "$d/sub"
		"$havm" vhd create --size 40M --block-size $bs "$d/base.vhd" >/dev/null
		make_source "$scratch/src.raw" "$(our_size "$d/base.vhd")"
		"$tool" import "$scratch/src.raw" "$d/base.vhd"
		"$havm" vhd create --parent "$d/base.vhd" "$d/sub/mid.vhd"
		"$tool" write "$d/sub/mid.vhd" 3 200 50 "$scratch/log1" >/dev/null
		"$havm" vhd create --parent "$d/sub/mid.vhd" "$d/top.vhd"
		"$tool" write "$d/top.vhd" 5 200 50 "$scratch/log2" >/dev/null
		"$tool" export "$d/top.vhd" "$scratch/ours.raw"
		bsz=$("$havm" vhd info --json "$d/top.vhd" | sed -n 's/.*"block_size":\([0-9]*\).*/\1/p')
		/usr/bin/python3 - "$d" "$scratch/py.raw" "$bsz" <<'PY'
import pyvhdi, sys
d, out, bs = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = [pyvhdi.file() for _ in range(3)]
for f, p in zip(files, ["/base.vhd", "/sub/mid.vhd", "/top.vhd"]):
    f.open(d + p)
files[1].set_parent(files[0]); files[2].set_parent(files[1])
top = files[2]; size = top.get_media_size()
with open(out, "wb") as o:
    for off in range(0, size, bs):
        o.write(top.read_buffer_at_offset(min(bs, size - off), off))
PY
		check "chain (block $bs, parent in another directory): pyvhdi reads what we read" \
			cmp -s "$scratch/py.raw" "$scratch/ours.raw"
		vhdiinfo "$d/top.vhd" >"$scratch/vi" 2>&1
		check "chain (block $bs): vhdiinfo shows the parent name" grep -q 'Parent filename.*mid.vhd' "$scratch/vi"
		check "chain (block $bs): top checks clean with its parent chain" quiet "$havm" vhd check "$d/top.vhd"
	done
else
	skip "pyvhdi chains" "python3-libvhdi missing"
fi
done_testing
