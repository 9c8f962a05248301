#!/usr/bin/env bash
# Extracts the ELF vmlinux from an xz-compressed x86 bzImage, so a VMM can
# load the kernel at its physical addresses and skip in-guest decompression.
#   extract-vmlinux.sh BZIMAGE OUT
# Boot protocol (Documentation/x86/boot.rst), all little-endian:
#   0x1f1 setup_sects (u8; 0 means 4)   0x202 "HdrS"   0x206 version (u16)
#   0x248 payload_offset (u32, from the start of the protected-mode code,
#         which begins at (setup_sects + 1) * 512)
#   0x24c payload_length (u32; the xz stream plus the 4-byte size the kernel
#         build appends, which xz --single-stream ignores)
set -euo pipefail
in=${1:?usage: extract-vmlinux.sh BZIMAGE OUT}
out=${2:?usage: extract-vmlinux.sh BZIMAGE OUT}

die() { echo "extract-vmlinux: $in: $*" >&2; exit 1; }
# u8/u16/u32 at an offset, as a decimal number
u() { od -An -t "u$1" -j "$2" -N "$1" "$in" | tr -d ' '; }
hex() { od -An -t x1 -j "$1" -N "$2" "$in" | tr -d ' \n'; }

[[ -r $in ]] || die "cannot read the file"
size=$(stat -c %s "$in")
((size >= 0x250)) || die "file is $size bytes, too short for a boot-protocol header (0x250)"
magic=$(od -An -c -j $((0x202)) -N 4 "$in" | tr -d ' ')
[[ $magic == HdrS ]] || die "no 'HdrS' magic at offset 0x202 (found '$magic'): not a bzImage"
version=$(u 2 $((0x206)))
((version >= 0x208)) || die "boot protocol $(printf '%#x' "$version") at 0x206 has no payload fields (need >= 0x208)"
setup_sects=$(u 1 $((0x1f1)))
((setup_sects == 0)) && setup_sects=4
payload_offset=$(u 4 $((0x248)))
payload_length=$(u 4 $((0x24c)))
start=$(((setup_sects + 1) * 512 + payload_offset))
((payload_length > 0 && start + payload_length <= size)) ||
	die "payload [$start, +$payload_length) from 0x248/0x24c lies outside the file ($size bytes)"
sig=$(hex "$start" 6)
[[ $sig == fd377a585a00 ]] ||
	die "payload at offset $start is not xz (magic $sig, expected fd377a585a00); only xz kernels are supported"

tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT
# dd reads exactly the payload: `tail | head -c` would SIGPIPE tail when head
# stops early, which pipefail turns into an intermittent build failure.
dd if="$in" bs=64K iflag=skip_bytes,count_bytes skip="$start" count="$payload_length" status=none |
	xz --decompress --single-stream --stdout >"$tmp" ||
	die "xz failed to decompress the payload at offset $start"
elf=$(od -An -t x1 -N 5 "$tmp" | tr -d ' \n')
[[ $elf == 7f454c4601 ]] || die "decompressed payload is not an ELF32 file (starts with $elf)"
mv "$tmp" "$out"
trap - EXIT
echo "extract-vmlinux: $in -> $out ($(stat -c %s "$out") bytes, payload at $start)" >&2
