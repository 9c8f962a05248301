#!/usr/bin/env bash
# havm vhd mount: the disk as MOUNTPOINT/disk through FUSE. Reads match
# qemu-img's raw export; writes through the mount (unaligned too) land in
# the VHD, which checks clean and reads the same in qemu-img afterwards;
# --ro refuses writes; a differencing chain mounts too.
source "$(dirname "$0")/../lib/tap.sh"
cp "$HAVM_BIN/havm" "$scratch/"
havm=$scratch/havm
for t in qemu-img fusermount3; do
	command -v $t >/dev/null || { skip "mount" "$t missing (make deps)"; done_testing; exit; }
done
[[ -c /dev/fuse ]] || { skip "mount" "no /dev/fuse"; done_testing; exit; }
cd "$scratch" || exit 1
mnt=$scratch/mnt; mkdir -p "$mnt"
pid=
mount_img() { # image [--ro]
	"$havm" vhd mount -f "$@" "$mnt" 2>mount.err &
	pid=$!
	at_exit "fusermount3 -u '$mnt' 2>/dev/null; kill $pid 2>/dev/null"
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -e $mnt/disk ]] && return 0
		kill -0 $pid 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
umount_img() {
	fusermount3 -u "$mnt" && wait $pid
}

truncate -s 24M src.raw
dd if=/dev/urandom of=src.raw bs=1M count=3 conv=notrunc status=none
dd if=/dev/urandom of=src.raw bs=4K seek=4000 count=9 conv=notrunc status=none
qemu-img convert -O vpc src.raw d.vhd
check "mount a qemu-made dynamic VHD" mount_img d.vhd
qemu-img convert -O raw d.vhd ref.raw
check_eq "the file has the virtual size" "$(stat -c %s ref.raw)" "$(stat -c %s "$mnt/disk")"
check "reads equal qemu-img convert -O raw" cmp -s "$mnt/disk" ref.raw
head -c 70001 /dev/urandom >w.bin
dd if=w.bin of="$mnt/disk" bs=70001 seek=1 oflag=seek_bytes conv=notrunc,fsync status=none
check "write at an unaligned offset (fsync) succeeds" test $? -eq 0
dd if=w.bin of=ref.raw bs=70001 seek=1 oflag=seek_bytes conv=notrunc status=none
head -c 4096 /dev/urandom >w2.bin
dd if=w2.bin of="$mnt/disk" bs=4096 seek=5000 conv=notrunc status=none # a new block, flushed on release
dd if=w2.bin of=ref.raw bs=4096 seek=5000 conv=notrunc status=none
check "reads back through the mount" cmp -s "$mnt/disk" ref.raw
check "unmount (fusermount3 -u) ends the process cleanly" umount_img
"$havm" vhd check d.vhd >chk 2>&1; check_eq "havm vhd check exit" 0 $?
check "qemu-img reads what was written through the mount" qemu-img compare -q -f vpc -F raw d.vhd ref.raw

check "mount --ro" mount_img --ro d.vhd
rc=0; dd if=w2.bin of="$mnt/disk" bs=4096 conv=notrunc status=none 2>/dev/null || rc=$?
check_eq "--ro: writes refused" 1 $((rc != 0))
check "--ro: reads still match" cmp -s "$mnt/disk" ref.raw
check "unmount --ro" umount_img

"$havm" vhd create --parent d.vhd c.vhd >/dev/null
check "mount a differencing child" mount_img c.vhd
check "child reads as its parent" cmp -s "$mnt/disk" ref.raw
dd if=w.bin of="$mnt/disk" bs=4096 seek=100 conv=notrunc,fsync status=none
dd if=w.bin of=ref.raw bs=4096 seek=100 conv=notrunc status=none
check "unmount the child" umount_img
"$havm" vhd convert --type raw c.vhd c.raw >/dev/null
check "the child holds the writes; the chain reads right" cmp -s c.raw ref.raw
check "the child checks clean" bash -c "'$havm' vhd check c.vhd >/dev/null"
rc=0; "$havm" vhd mount -f missing.vhd "$mnt" 2>err || rc=$?
check_eq "a missing image: not found (exit 8)" 8 "$rc"
done_testing
