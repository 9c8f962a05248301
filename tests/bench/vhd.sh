#!/usr/bin/env bash
# make bench: VHD I/O and conversion, havm beside qemu-img in the same run
# on copies of the same files; the table goes to build/bench/vhd.md.
#
# I/O: 4 KiB requests at queue depth 1, COUNT of them, sequential (step
# 4 KiB) or strided (step 2 MiB + 36 KiB: every request lands in another
# 2 MiB block, wrapping over the disk; qemu-img bench has no random mode,
# so both tools use this same scattered pattern). First touch = on a fresh
# image, rewrite = the same requests again, read = the same offsets.
# Durability: a flush every 64 requests and at the end for both tools —
# ours blk_flush (fdatasync x3 when metadata changed, page cache), qemu
# --flush-interval=64 with -t none (O_DIRECT; its allocation also does 3
# synchronous metadata writes per new block) and with -t writeback (page
# cache, like ours).
set -eu
# VHD_BENCH_ONLY=convert skips the I/O table.
top=${HAVM_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
havm=$top/build/bin/havm bench=$top/build/bench/bench_vhd
command -v qemu-img >/dev/null || { echo "qemu-img missing (make deps)"; exit 1; }
dir=$(mktemp -d "$top/build/bench/vhd.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
exec > >(tee "$top/build/bench/vhd.md")
COUNT=${VHD_BENCH_COUNT:-4096} SIZE=256M FLUSH=64 RUNS=${VHD_BENCH_RUNS:-3}
med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
STRIDE=$((2097152 + 36864))

qemu_t() { # qemu-img bench args...: its own "Run completed in N seconds"
	qemu-img bench -f vpc -d 1 -s 4096 -c "$COUNT" "$@" | sed -n 's/Run completed in \([0-9.]*\) seconds./\1/p'
}
ours_t() { "$bench" -s 4096 -c "$COUNT" "$@"; }
fresh() { rm -f img.vhd; cp --sparse=always "pristine-$1.vhd" img.vhd; }

# Images made by havm (CHS-exact sizes so qemu 7.2 agrees on the size).
"$havm" vhd create --type fixed --sparse --size $SIZE pristine-fixed.vhd >/dev/null
"$havm" vhd create --type dynamic --size $SIZE pristine-dynamic.vhd >/dev/null
"$havm" vhd create --type dynamic --size $SIZE base.vhd >/dev/null
qemu-img bench -f vpc -w -c 8192 -s 16384 -S 32768 -t writeback base.vhd >/dev/null # parent data: every other 16 KiB
"$havm" vhd create --parent base.vhd pristine-diff.vhd >/dev/null

row() { # label ours qemu-none qemu-wb
	awk -v l="$1" -v a="$2" -v b="$3" -v c="$4" \
		'BEGIN { printf "| %s | %.3f | %.3f | %.3f | %.1fx | %.1fx |\n", l, a, b, c, b / a, c / a }'
}

if [[ ${VHD_BENCH_ONLY:-} != convert ]]; then
echo "# VHD I/O: havm block layer vs qemu-img bench ($(nproc) CPUs, $(uname -r), $(date -u +%F), $(qemu-img --version | head -1))"
echo
echo "4 KiB x $COUNT requests, QD1, flush every $FLUSH and at the end; median of $RUNS rounds (seconds; speedup = qemu / havm)."
echo
echo "| case | havm | qemu -t none | qemu -t writeback | vs none | vs writeback |"
echo "|---|---|---|---|---|---|"
for type in fixed dynamic diff; do
	for pat in seq stride; do
		step=4096; [[ $pat == stride ]] && step=$STRIDE
		# Median of RUNS rounds; each round: fresh image, first touch,
		# rewrite, read, for each tool in turn.
		A1=() A2=() A3=() B1=() B2=() B3=() C1=() C2=() C3=()
		for ((r = 0; r < RUNS; r++)); do
			fresh $type; A1+=("$(ours_t -w -S $step -F $FLUSH img.vhd)")
			A2+=("$(ours_t -w -S $step -F $FLUSH img.vhd)"); A3+=("$(ours_t -S $step img.vhd)")
			fresh $type; B1+=("$(qemu_t -w -S $step -t none --flush-interval=$FLUSH img.vhd)")
			B2+=("$(qemu_t -w -S $step -t none --flush-interval=$FLUSH img.vhd)"); B3+=("$(qemu_t -S $step -t none img.vhd)")
			fresh $type; C1+=("$(qemu_t -w -S $step -t writeback --flush-interval=$FLUSH img.vhd)")
			C2+=("$(qemu_t -w -S $step -t writeback --flush-interval=$FLUSH img.vhd)"); C3+=("$(qemu_t -S $step -t writeback img.vhd)")
		done
		a1=$(med "${A1[@]}") a2=$(med "${A2[@]}") a3=$(med "${A3[@]}")
		b1=$(med "${B1[@]}") b2=$(med "${B2[@]}") b3=$(med "${B3[@]}")
		c1=$(med "${C1[@]}") c2=$(med "${C2[@]}") c3=$(med "${C3[@]}")
		row "$type $pat write, first touch" "$a1" "$b1" "$c1"
		row "$type $pat write, rewrite" "$a2" "$b2" "$c2"
		row "$type $pat read" "$a3" "$b3" "$c3"
	done
done
echo
fi
# Conversion: 512 MiB raw, every other 2 MiB random (half zeros).
/usr/bin/python3 - <<'EOF'
import os
with open("src.raw", "wb") as f:
    for i in range(256):
        f.write(os.urandom(2 << 20) if i % 2 == 0 else bytes(2 << 20))
EOF
tm() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}'; }
# Rounds interleave the tools (each round runs every command once, output
# removed and `sync` before each), so a burst of load from the other
# engineers' jobs hits all columns alike; each cell is the median.
conv=(
	"h.vhd $havm vhd convert --type dynamic src.raw h.vhd"
	"q.vhd qemu-img convert -O vpc src.raw q.vhd"
	"qw.vhd qemu-img convert -t writeback -O vpc src.raw qw.vhd"
	"qn.vhd qemu-img convert -t none -T none -O vpc src.raw qn.vhd"
	"h.raw $havm vhd convert --type raw h.vhd h.raw"
	"q.raw qemu-img convert -f vpc -O raw q.vhd q.raw"
	"qw.raw qemu-img convert -t writeback -f vpc -O raw q.vhd qw.raw"
	"qn.raw qemu-img convert -t none -T none -f vpc -O raw q.vhd qn.raw"
)
declare -A T; declare -a M
sync
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 0; r < RUNS; r++)); do
	for ((i = 0; i < ${#conv[@]}; i++)); do
		read -r out cmd <<<"${conv[i]}"
		rm -f "$out"; sync
		# shellcheck disable=SC2086 # the command line splits on purpose
		T[$i]+="$(tm $cmd) "
	done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
for ((i = 0; i < ${#conv[@]}; i++)); do
	# shellcheck disable=SC2086
	M[i]=$(med ${T[$i]}); echo "runs: ${conv[i]#* }: ${T[$i]}" >&2
done
h1=${M[0]} q1=${M[1]} w1=${M[2]} n1=${M[3]} h2=${M[4]} q2=${M[5]} w2=${M[6]} n2=${M[7]}
echo "Conversion of a 512 MiB raw image, half zeros; median of $RUNS interleaved rounds, wall time including process start (seconds; file sizes: havm $(stat -c %s h.vhd), qemu $(stat -c %s q.vhd)); load average $load0 before, $load1 after."
echo
echo "| conversion | havm (flush at end) | qemu default (no flush) | qemu -t writeback | qemu -t none -T none |"
echo "|---|---|---|---|---|"
echo "| raw -> dynamic | $h1 | $q1 | $w1 | $n1 |"
echo "| dynamic -> raw | $h2 | $q2 | $w2 | $n2 |"
cmp -s <(head -c 536870912 h.raw) src.raw || echo "WARNING: havm round trip differs"
