#!/usr/bin/env bash
# vmm + virtio-blk-pci end to end: the disk guest finds the PCI function,
# reads sector 0, writes and flushes sector 1 and reads it back, on a raw
# file and on a dynamic VHD made by qemu-img; the host checks the bytes (and
# qemu-img and libvhdi read the VHD afterwards).
source "$(dirname "$0")/../lib/tap.sh"
vmm=$HAVM_BIN/vmm
guest=$HAVM_TOP/build/guests/disk.bin

if [[ ! -x $vmm || ! -f $guest ]]; then
	skip "vmm disk tests" "vmm or build/guests/disk.bin is not built (make check-build)"
	done_testing
	exit
fi

run_guest() { # image format [readonly]
	cat >"$scratch/disk.vmc" <<EOV
<vm name="disk"><memory>4</memory><boot><image>$guest</image></boot>
<disk path="$1" format="$2" readonly="${3:-no}"/><serial port="com1" backend="stdio"/></vm>
EOV
	timeout 60 "$vmm" run "$scratch/disk.vmc" >"$scratch/out" 2>"$scratch/err" </dev/null
}

# --- raw --------------------------------------------------------------------------
printf 'hello from sector zero\0' >"$scratch/raw.img"
truncate -s 1M "$scratch/raw.img"
run_guest "$scratch/raw.img" raw
check_eq "raw: guest ends with HLT (exit 20)" 20 "$?"
check "raw: capacity seen by the guest" grep -q '^disk: capacity 2048 sectors' "$scratch/out"
check "raw: guest read sector 0" grep -q '^disk: sector 0 says: hello from sector zero' "$scratch/out"
check "raw: write, flush and read back succeed" \
	bash -c "grep -q '^disk: write sector 1 ok' '$scratch/out' && grep -q '^disk: flush ok' '$scratch/out' && grep -q '^disk: verify ok' '$scratch/out'"
check "raw: out-of-range read fails with IOERR" grep -q '^disk: read past the end ok' "$scratch/out"
check_eq "raw: the host file holds the guest's sector 1" "written by the disk guest" \
	"$(dd if="$scratch/raw.img" bs=512 skip=1 count=1 2>/dev/null | tr -d '\0')"

# --- read-only ----------------------------------------------------------------------
printf 'hello from sector zero\0' >"$scratch/ro.img"
truncate -s 1M "$scratch/ro.img"
run_guest "$scratch/ro.img" raw yes
check "read-only: the write is refused" grep -q '^disk: write sector 1 failed' "$scratch/out"
check_eq "read-only: the file is unchanged" "" "$(dd if="$scratch/ro.img" bs=512 skip=1 count=1 2>/dev/null | tr -d '\0')"

# --- dynamic VHD made by qemu-img ---------------------------------------------------------
if command -v qemu-img >/dev/null; then
	printf 'hello from sector zero\0' >"$scratch/d.raw"
	truncate -s 8M "$scratch/d.raw"
	qemu-img convert -f raw -O vpc -o subformat=dynamic "$scratch/d.raw" "$scratch/d2.vhd"
	run_guest "$scratch/d2.vhd" vhd
	check_eq "vhd: guest ends with HLT (exit 20)" 20 "$?"
	check "vhd: guest read sector 0 through the VHD" grep -q '^disk: sector 0 says: hello from sector zero' "$scratch/out"
	check "vhd: verify ok" grep -q '^disk: verify ok' "$scratch/out"
	if command -v vhdiinfo >/dev/null; then
		check "vhd: libvhdi still opens the image" bash -c "vhdiinfo '$scratch/d2.vhd' >/dev/null"
	fi
	qemu-img convert -f vpc -O raw "$scratch/d2.vhd" "$scratch/after.raw"
	check_eq "vhd: qemu-img reads the guest's sector 1" "written by the disk guest" \
		"$(dd if="$scratch/after.raw" bs=512 skip=1 count=1 2>/dev/null | tr -d '\0')"
	run_guest "$scratch/raw.img" vhd
	check_eq "format vhd on a raw file: exit 2 (config)" 2 "$?"
	check "format vhd on a raw file: message names the file" grep -q 'has no VHD footer' "$scratch/err"
else
	skip "vhd disk" "qemu-img not installed"
fi

done_testing
