#!/usr/bin/env bash
# The Linux test guest (make guest-linux) is a correct payload: the files are
# what a direct-boot loader expects, /init loads the disk modules in
# dependency order, and QEMU (the oracle, before our own vmm can boot it)
# boots the bzImage + initrd to the HAVM-GUEST-READY marker with both disk
# kinds visible and a working shell on ttyS0. The QEMU part is skipped when
# qemu-system-i386 is missing.
source "$(dirname "$0")/../lib/tap.sh"
g=$HAVM_TOP/build/guest/linux
boot_timeout=${HAVM_GUEST_BOOT_TIMEOUT:-180}

for f in bzImage vmlinux initrd.img cmdline; do
	check "build/guest/linux/$f exists (make guest-linux)" test -s "$g/$f"
done
[[ -s $g/bzImage && -s $g/vmlinux && -s $g/initrd.img ]] || { done_testing; exit; }

check_eq "kernel command line" \
	"console=ttyS0 acpi=off nolapic noapic reboot=k panic=-1 cryptomgr.notests noisapnp" "$(cat "$g/cmdline")"
check_eq "bzImage carries the HdrS boot-protocol magic at 0x202" "HdrS" \
	"$(od -An -c -j $((0x202)) -N 4 "$g/bzImage" | tr -d ' ')"
hdr=$(readelf -h "$g/vmlinux" 2>&1)
check "vmlinux is an ELF32 i386 executable" grep -qE 'Class:[[:space:]]+ELF32' <<<"$hdr"
check "vmlinux machine is Intel 80386" grep -q 'Intel 80386' <<<"$hdr"
check_eq "vmlinux entry is the 32-bit boot entry 0x1000000" "0x1000000" \
	"$(awk '/Entry point address/ { print $4 }' <<<"$hdr")"

# The extractor rejects what is not an xz bzImage, naming the problem.
head -c 4096 /dev/zero >"$scratch/zero"
out=$("$HAVM_TOP/guest/linux/extract-vmlinux.sh" "$scratch/zero" "$scratch/x" 2>&1)
check "extract-vmlinux rejects a file without HdrS" grep -q "no 'HdrS' magic at offset 0x202" <<<"$out"
check "extract-vmlinux leaves no output for bad input" test ! -e "$scratch/x"

# /init inside the initramfs: every insmod comes after all of the module's
# dependencies, checked against the unpacked kernel's modules.dep.
mkdir -p "$scratch/initrd"
(cd "$scratch/initrd" && zcat "$g/initrd.img" | cpio --quiet -id 2>/dev/null)
check "initramfs has /init and busybox" test -x "$scratch/initrd/init" -a -f "$scratch/initrd/bin/busybox"
mapfile -t loads < <(awk '$1 == "load" { print $2 }' "$scratch/initrd/init")
kver=$(cat "$g/root/kernel-version")
dep=$g/root/lib/modules/$kver/modules.dep
bad=0 seen=" "
for m in "${loads[@]}"; do
	rel=${m#/lib/modules/$kver/}
	[[ -f $scratch/initrd$m ]] || { diag "missing $m"; bad=1; }
	for d in $(awk -v p="$rel:" '$1 == p { $1 = ""; print }' "$dep"); do
		[[ $seen == *" $d "* ]] || { diag "$rel loaded before its dependency $d"; bad=1; }
	done
	seen+="$rel "
done
check_eq "insmod order respects modules.dep" 0 "$bad"
for m in ata_piix sd_mod virtio_pci virtio_blk ext4 jbd2 libata scsi_mod virtio_ring; do
	check "/init loads $m" grep -qE "/$m\.ko$" <(printf '%s\n' "${loads[@]}")
done

qemu=$(command -v qemu-system-i386 || true)
if [[ -z $qemu ]]; then
	skip "boot in QEMU" "qemu-system-i386 not installed (apt-get install qemu-system-x86)"
	done_testing
	exit
fi

# Boot with one PIIX IDE disk and one virtio-blk disk; talk over a fifo.
truncate -s 8M "$scratch/ide.img" "$scratch/virtio.img"
mkfifo "$scratch/in"
exec 7<>"$scratch/in"
log=$scratch/console.log
: >"$log"
"$qemu" -nographic -no-reboot -m 256 -kernel "$g/bzImage" -initrd "$g/initrd.img" \
	-append "$(cat "$g/cmdline")" \
	-drive file="$scratch/ide.img",if=ide,format=raw \
	-drive file="$scratch/virtio.img",if=virtio,format=raw <&7 >"$log" 2>&1 &
qpid=$!
at_exit "kill $qpid 2>/dev/null; wait $qpid 2>/dev/null"

# wait_for PATTERN SECONDS: polls the console log, bounded.
wait_for() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		grep -qa -- "$1" "$log" && return 0
		kill -0 "$qpid" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
if wait_for HAVM-GUEST-READY "$boot_timeout"; then
	ok "guest reaches HAVM-GUEST-READY within ${boot_timeout}s"
else
	not_ok "guest reaches HAVM-GUEST-READY within ${boot_timeout}s"
	tail -20 "$log" | sed 's/^/# /'
	done_testing
	exit
fi
check "every module loaded (modules_failed=0)" grep -qa 'HAVM-GUEST-READY .*modules_failed=0' "$log"
disks=$(grep -a 'HAVM-GUEST-DISKS:' "$log" | tr -d '\r')
check "PIIX IDE disk is visible as sda" grep -qw sda <<<"$disks"
check "virtio-blk disk is visible as vda" grep -qw vda <<<"$disks"
printf 'cat /sys/block/vda/size; echo HAVM-SUM-$((40 + 2))\n' >&7
if wait_for HAVM-SUM-42 30; then ok "shell on ttyS0 runs commands"; else not_ok "shell on ttyS0 runs commands"; fi
check "guest sees the virtio disk's 16384 sectors" grep -qa '^16384' <(tr -d '\r' <"$log")
# reboot=k resets through the 8042; with -no-reboot QEMU then exits.
printf 'reboot -f\n' >&7
for ((i = 0; i < 150; i++)); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.2; done
check "reboot -f ends the VM" bash -c "! kill -0 $qpid 2>/dev/null"
done_testing
