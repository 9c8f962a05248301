#!/usr/bin/env bash
# A VHD on a LUN store vs a VHD file, side by side in one run: the same
# fresh dynamic VHD (havm vhd create) as a file on the filesystem that also
# backs the tgtd LUN, as an object of a file: store (an image file holding
# the GPT: the region code path without iSCSI), and as an object of an
# iscsi:// store on that tgtd (aio LUN, loopback). bench_store_vhd drives
# each through the block layer vmm uses, one request at a time (virtio-blk
# serves requests synchronously on the vCPU thread). Rounds alternate the
# three; the table shows medians. Writes build/bench/store_vhd.md.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
B=$HAVM_TOP/build/bench/bench_store_vhd
havm=$HAVM_TOP/build/bin/havm
SECS=${BENCH_SECONDS:-3} ROUNDS=${BENCH_ROUNDS:-3} SIZE_MB=${BENCH_VHD_MB:-256}
tgtd_start || exit 1
tgtd_target 1 iqn.2024-01.bench:store && tgtd_lun 1 1 $((SIZE_MB * 2 + 64)) aio && tgtd_bind 1 ALL
lun=$(tgtd_url 1 1)
img=$scratch/store.img
truncate -s $((SIZE_MB * 2 + 64))M "$img"
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# fresh KIND: a new empty dynamic VHD for KIND (file, image, lun).
fresh() {
	rm -f "$scratch/d.vhd"
	"$havm" vhd create -t dynamic -s ${SIZE_MB}M "$scratch/d.vhd" >/dev/null 2>&1 || return 1
	case $1 in
	file) return 0 ;;
	image) "$havm" store format --force "file:$img" >/dev/null && "$havm" store import "file:$img" "$scratch/d.vhd" d.vhd >/dev/null ;;
	lun) "$havm" store format --force "$lun" >/dev/null && "$havm" store import "$lun" "$scratch/d.vhd" d.vhd >/dev/null ;;
	esac
}
run() { # KIND -> bench lines
	fresh "$1" || { echo "fresh $1 failed" >&2; return 1; }
	case $1 in
	file) "$B" "$scratch/d.vhd" "$SECS" ;;
	image) "$B" --store "file:$img" d.vhd "$SECS" ;;
	lun) "$B" --store "$lun" d.vhd "$SECS" ;;
	esac
}
declare -A mb iops
for ((r = 0; r < ROUNDS; r++)); do
	for k in file image lun; do
		while read -r ph m i; do
			mb[$k.$ph]+="$m " iops[$k.$ph]+="$i "
		done < <(run "$k")
	done
done
out=$HAVM_TOP/build/bench/store_vhd.md
{
	echo "Dynamic VHD of $SIZE_MB MiB through vmm's block layer, one request at a time, $SECS s per phase, median of $ROUNDS alternating rounds ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg) at the end). LUN: tgtd aio on loopback, backing file on the same filesystem as the VHD file and the image."
	echo
	echo "| phase | VHD file MB/s | IOPS | file: store MB/s | IOPS | iscsi:// store MB/s | IOPS |"
	echo "|---|---|---|---|---|---|---|"
	for ph in seq-write-64k seq-read-64k rand-write-4k rand-read-4k; do
		row="| $ph"
		for k in file image lun; do
			row+=" | $(tr ' ' '\n' <<<"${mb[$k.$ph]}" | grep . | median) | $(tr ' ' '\n' <<<"${iops[$k.$ph]}" | grep . | median)"
		done
		echo "$row |"
	done
} >"$out"
cat "$out"
