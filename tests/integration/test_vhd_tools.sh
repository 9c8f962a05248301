#!/usr/bin/env bash
# havm vhd convert|compact|merge|resize|undo against the oracles: qemu-img
# 7.2 (compare, convert) and pyvhdi (chains, sizes from original_size).
# Bad input gets a clear error and leaves the image byte-identical.
source "$(dirname "$0")/../lib/tap.sh"
cp "$HAVM_BIN/havm" "$HAVM_BIN/vhd_testtool" "$scratch/" # immune to rebuilds mid-run
havm=$scratch/havm tool=$scratch/vhd_testtool
for t in qemu-img vhdiinfo; do
	command -v $t >/dev/null || { skip "oracles" "$t missing (make deps)"; done_testing; exit; }
done
cd "$scratch" || exit 1
quiet() { "$@" >/dev/null; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
# The guest view through pyvhdi (block-aligned reads, reference note 2.2):
# pyvhdi_export IMG OUT [PARENT...] (parents nearest first).
pyvhdi_export() {
	/usr/bin/python3 - "$@" <<'EOF'
import sys, pyvhdi
img, out, parents = sys.argv[1], sys.argv[2], sys.argv[3:]
files = [pyvhdi.file() for _ in [img] + parents]
for f, p in zip(files, [img] + parents):
    f.open(p)
for child, parent in zip(files, files[1:]):
    child.set_parent(parent)
size, step = files[0].get_media_size(), 1 << 20
with open(out, "wb") as o:
    for off in range(0, size, step):
        o.write(files[0].read_buffer_at_offset(min(step, size - off), off))
EOF
}
# Random 4 KiB clusters (libvhdi reads partial bitmap bytes wrongly).
scribble() { # file count seed-ish
	local f=$1 n=$2 i blocks
	blocks=$(($(stat -c %s "$f") / 4096))
	for ((i = 0; i < n; i++)); do
		head -c 4096 /dev/urandom | dd of="$f" bs=4096 seek=$((RANDOM * 7919 % blocks)) conv=notrunc status=none
	done
}

# --- convert, every direction -------------------------------------------------
truncate -s 24M src.raw
dd if=/dev/urandom of=src.raw bs=1M count=3 conv=notrunc status=none
dd if=/dev/urandom of=src.raw bs=1M seek=16 count=2 conv=notrunc status=none
quiet "$havm" vhd convert --type dynamic src.raw dyn.vhd
check "raw -> dynamic: qemu-img compare" quiet qemu-img compare -f vpc -F raw dyn.vhd src.raw
nblk=$("$havm" vhd info dyn.vhd | awk '/allocated_blocks/ {print $2}')
check_eq "raw -> dynamic: zero blocks stay unallocated (3 MiB + 2 MiB of data)" 3 "$nblk"
quiet "$havm" vhd convert --type fixed dyn.vhd fix.vhd
check "dynamic -> fixed: qemu-img compare" quiet qemu-img compare -f vpc -F raw fix.vhd src.raw
quiet "$havm" vhd convert --type dynamic fix.vhd dyn2.vhd
check "fixed -> dynamic: qemu-img compare" quiet qemu-img compare -f vpc -F raw dyn2.vhd src.raw
quiet "$havm" vhd convert --type raw dyn2.vhd back.raw
check_eq "dynamic -> raw: same bytes as the source (size CHS-rounded)" "$(sum src.raw)" \
	"$(head -c 25165824 back.raw | sha256sum | cut -d' ' -f1)"
check_eq "dynamic -> raw: the zero runs are holes" 1 $(($(stat -c %b back.raw) * 512 < 7 * 1048576))
quiet "$havm" vhd convert --type raw fix.vhd back2.raw
check "fixed -> raw: identical" cmp -s back.raw back2.raw
quiet "$havm" vhd convert --type fixed src.raw fix2.vhd
check "raw -> fixed: qemu-img compare" quiet qemu-img compare -f vpc -F raw fix2.vhd src.raw
check "raw -> fixed: havm vhd check clean" quiet "$havm" vhd check fix2.vhd
# qemu-img's own output as input.
qemu-img convert -O vpc src.raw q.vhd
quiet "$havm" vhd convert --type raw q.vhd fromq.raw
check "qemu dynamic -> raw: identical to qemu's own export" \
	bash -c "qemu-img convert -O raw q.vhd qref.raw && cmp -s fromq.raw qref.raw"

# Differencing: flatten a three-level chain.
"$havm" vhd create --parent dyn.vhd mid.vhd
"$havm" vhd convert --type raw mid.vhd m.raw >/dev/null && scribble m.raw 40 && "$tool" import m.raw mid.vhd
"$havm" vhd create --parent mid.vhd top.vhd
cp m.raw t.raw && scribble t.raw 40 && "$tool" import t.raw top.vhd
quiet "$havm" vhd convert --type dynamic top.vhd flat.vhd
check "differencing -> dynamic flattens the chain (qemu-img compare)" quiet qemu-img compare -f vpc -F raw flat.vhd t.raw
pyvhdi_export top.vhd py.raw mid.vhd dyn.vhd
check "pyvhdi reads the chain as we wrote it" cmp -s py.raw t.raw
rc=0; "$havm" vhd convert --type fixed top.vhd flat.vhd 2>err || rc=$?
check_eq "convert refuses an existing DST (exit 9)" 9 "$rc"
check "... and says so" grep -q "already exists" err
rc=0; "$havm" vhd convert --type qcow2 src.raw x.vhd 2>err || rc=$?
check_eq "convert --type qcow2: usage error (exit 2)" 2 "$rc"
check "... and no file left" test ! -e x.vhd

# --- compact ------------------------------------------------------------------
cp dyn.vhd cmp.vhd
"$havm" vhd convert --type raw cmp.vhd c.raw >/dev/null
dd if=/dev/zero of=c.raw bs=1M seek=16 count=2 conv=notrunc status=none
"$tool" import c.raw cmp.vhd # the zeros overwrite allocated blocks
before=$("$havm" vhd info cmp.vhd | awk '/allocated_blocks/ {print $2}')
quiet "$havm" vhd compact cmp.vhd
after=$("$havm" vhd info cmp.vhd | awk '/allocated_blocks/ {print $2}')
check_eq "compact drops the all-zero block (blocks before -> after)" "3 -> 2" "$before -> $after"
check "compact: contents unchanged (qemu-img compare)" quiet qemu-img compare -f vpc -F raw cmp.vhd c.raw
check "compact: check clean" quiet "$havm" vhd check cmp.vhd
u1=$(vhdiinfo dyn.vhd | grep -i identifier | head -1); u2=$(vhdiinfo cmp.vhd | grep -i identifier | head -1)
check_eq "compact keeps the unique id (children still match)" "$u1" "$u2"
# Differencing: sectors rewritten with the parent's bytes are dropped.
"$havm" vhd convert --type raw mid.vhd mview.raw >/dev/null
"$havm" vhd create --parent mid.vhd same.vhd
"$tool" import mview.raw same.vhd
b1=$("$havm" vhd info same.vhd | awk '/allocated_blocks/ {print $2}')
quiet "$havm" vhd compact same.vhd
b2=$("$havm" vhd info same.vhd | awk '/allocated_blocks/ {print $2}')
check_eq "compact (differencing): blocks equal to the parent dropped" "0" "$b2"
diag "differencing child rewritten with its parent's data: $b1 -> $b2 blocks"
cp top.vhd top2.vhd; quiet "$havm" vhd compact top2.vhd
pyvhdi_export top2.vhd py2.raw mid.vhd dyn.vhd
check "compact (differencing): pyvhdi reads the same chain" cmp -s py2.raw t.raw
rm -f same.vhd top2.vhd
# Refusals: fixed, raw, saved state.
s0=$(sum fix.vhd); rc=0; "$havm" vhd compact fix.vhd 2>err || rc=$?
check_eq "compact of a fixed disk: unsupported (exit 11), file untouched" "11 $s0" "$rc $(sum fix.vhd)"
cp dyn.vhd saved.vhd
/usr/bin/python3 - saved.vhd <<'EOF'
import sys, struct
p = sys.argv[1]
def patch(b):
    b = bytearray(b); b[84] = 1; b[64:68] = b"\0\0\0\0"
    b[64:68] = struct.pack(">I", (~sum(b)) & 0xffffffff); return bytes(b)
with open(p, "r+b") as f:
    f.seek(0, 2); end = f.tell()
    f.seek(end - 512); foot = patch(f.read(512)); f.seek(end - 512); f.write(foot); f.seek(0); f.write(foot)
EOF
s0=$(sum saved.vhd); rc=0; "$havm" vhd compact saved.vhd 2>err || rc=$?
check_eq "compact with saved state 1: refused (exit 9), file untouched" "9 $s0" "$rc $(sum saved.vhd)"
check "... naming the saved state" grep -q "saved state is 1" err
rc=0; "$havm" vhd resize --size 64M saved.vhd 2>err || rc=$?
check_eq "resize with saved state 1: refused (exit 9)" "9 $s0" "$rc $(sum saved.vhd)"

# --- merge ---------------------------------------------------------------------
# Fresh UUIDs: byte copies of one image share its UUID, and the sibling
# rule (by UUID) would rightly count their children as siblings.
quiet "$havm" vhd convert --type dynamic src.raw mb.vhd
"$havm" vhd create --parent mb.vhd mc.vhd
cp src.raw mc.raw; scribble mc.raw 60; "$tool" import mc.raw mc.vhd
"$havm" vhd create --parent mc.vhd mg.vhd
cp mc.raw mg.raw; scribble mg.raw 30; "$tool" import mg.raw mg.vhd
"$havm" vhd create --parent mb.vhd sib.vhd
s0=$(sum mb.vhd); rc=0; "$havm" vhd merge mc.vhd 2>err || rc=$?
check_eq "merge refuses when the parent has another child (exit 9), parent untouched" "9 $s0" "$rc $(sum mb.vhd)"
check "... naming the sibling" grep -q "sib.vhd" err
rm sib.vhd
check "merge of the middle link succeeds" quiet "$havm" vhd merge mc.vhd
check "merge deletes the child" test ! -e mc.vhd
check "merged parent reads as the child did (qemu-img compare)" quiet qemu-img compare -f vpc -F raw mb.vhd mc.raw
"$havm" vhd convert --type raw mg.vhd g.raw >/dev/null
check "the grandchild now opens through the parent and reads the same" cmp -s mg.raw <(head -c "$(stat -c %s mg.raw)" g.raw)
check_eq "grandchild re-pointed: parent name" "mb.vhd" "$("$havm" vhd info mg.vhd | awk '/parent_name/ {print $2}')"
pyvhdi_export mg.vhd pyg.raw mb.vhd
check "pyvhdi (UUID-checked) reads the re-pointed chain" cmp -s pyg.raw g.raw
check "grandchild checks clean" quiet "$havm" vhd check mg.vhd
rc=0; "$havm" vhd merge mb.vhd 2>err || rc=$?
check_eq "merge of a dynamic disk: config error (exit 2)" 2 "$rc"
# --force merges despite siblings.
"$havm" vhd create --parent mb.vhd s1.vhd; "$havm" vhd create --parent mb.vhd s2.vhd
check "merge --force ignores siblings" quiet "$havm" vhd merge --force s1.vhd

# --- resize --------------------------------------------------------------------
# 256 KiB blocks: the BAT's room before the first block covers 128 MiB, so
# growing to 200M moves the first blocks out of its way.
quiet "$havm" vhd convert --type dynamic --block-size 256K src.raw rs.vhd
"$havm" vhd convert --type raw rs.vhd rs.raw >/dev/null
check "resize dynamic 24M -> 200M (BAT grows past the first block: blocks move)" quiet "$havm" vhd resize --size 200M rs.vhd
check "resize: check clean" quiet "$havm" vhd check rs.vhd
check_eq "resize: qemu-img sees the new size" 209764352 \
	"$(qemu-img info -f vpc --output=json rs.vhd | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')"
check_eq "resize: vhdiinfo (original_size) sees it too" 209764352 \
	"$(vhdiinfo rs.vhd | sed -n 's/.*Media size.*(\([0-9]*\) bytes).*/\1/p')"
"$havm" vhd convert --type raw rs.vhd rs2.raw >/dev/null
check "resize: old data intact" cmp -s rs.raw <(head -c "$(stat -c %s rs.raw)" rs2.raw)
check "resize: new space reads zero" cmp -s <(tail -c +$(($(stat -c %s rs.raw) + 1)) rs2.raw) \
	<(head -c $((209764352 - $(stat -c %s rs.raw))) /dev/zero)
cp fix.vhd rf.vhd
check "resize fixed 24M -> 64M" quiet "$havm" vhd resize --size 64M rf.vhd
check "resize fixed: qemu-img compare with the old data" quiet qemu-img compare -f vpc -F raw rf.vhd back.raw
check "resize fixed: check clean" quiet "$havm" vhd check rf.vhd
s0=$(sum rf.vhd); rc=0; "$havm" vhd resize --size 10M rf.vhd 2>err || rc=$?
check_eq "resize refuses to shrink (exit 11), file untouched" "11 $s0" "$rc $(sum rf.vhd)"
rc=0; "$havm" vhd resize --size 64M mg.vhd 2>err || rc=$?
check_eq "resize of a differencing disk: refused (exit 11)" 11 "$rc"

# --- undo disks ---------------------------------------------------------------
quiet "$havm" vhd convert --type dynamic src.raw base.vhd; sb=$(sum base.vhd)
check "undo create makes base.undo.vhd" quiet "$havm" vhd undo create base.vhd
check_eq "undo disk is a differencing child" vhd-differencing "$("$havm" vhd info base.undo.vhd | awk '/^format/ {print $2}')"
rc=0; "$havm" vhd undo create base.vhd 2>/dev/null || rc=$?
check_eq "a second undo create: refused (exit 9)" 9 "$rc"
cp src.raw u.raw; scribble u.raw 20; "$tool" import u.raw base.undo.vhd
check "undo discard" quiet "$havm" vhd undo discard base.vhd
check_eq "after discard: undo disk gone, base unchanged" "1 $sb" "$(test -e base.undo.vhd; echo $?) $(sum base.vhd)"
quiet "$havm" vhd undo create base.vhd; "$tool" import u.raw base.undo.vhd
check "undo commit" quiet "$havm" vhd undo commit base.vhd
check "after commit: base holds the writes, undo disk gone" \
	bash -c "qemu-img compare -q -f vpc -F raw base.vhd u.raw && test ! -e base.undo.vhd"
rc=0; "$havm" vhd undo commit base.vhd 2>err || rc=$?
check_eq "undo commit without an undo disk: not found (exit 8)" 8 "$rc"
quiet "$havm" vhd convert --type dynamic src.raw other.vhd; "$havm" vhd create --parent other.vhd base.undo.vhd
rc=0; "$havm" vhd undo discard base.vhd 2>err || rc=$?
check_eq "undo discard of a child of another disk: refused, file kept" "9 0" "$rc $(test -e base.undo.vhd; echo $?)"
done_testing
