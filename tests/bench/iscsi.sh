#!/usr/bin/env bash
# The SAN path: sequential reads through havm's LUN engine (bench_lun: async
# in a qb_loop) and through libiscsi's own iscsi-perf, same tgtd (aio LUN on
# a sparse file), same queue depth and request size. The two alternate for
# ROUNDS rounds and the table shows medians, so background load hits both.
# Writes build/bench/iscsi.md.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
B=$HAVM_TOP/build/bench/bench_lun
SECS=${BENCH_SECONDS:-4} ROUNDS=${BENCH_ROUNDS:-3}
tgtd_start || exit 1
tgtd_target 1 iqn.2024-01.bench:disk && tgtd_lun 1 1 512 aio && tgtd_bind 1 ALL
url=$(tgtd_url 1 1)
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
out=$HAVM_TOP/build/bench/iscsi.md
{
	echo "Sequential reads, tgtd aio LUN on loopback, $SECS s per run, median of $ROUNDS alternating runs ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg) at start)."
	echo
	echo "| queue depth | request | havm bench_lun IOPS | MB/s | libiscsi iscsi-perf IOPS | MB/s |"
	echo "|---|---|---|---|---|---|"
} >"$out"
for cfg in "1 8" "16 64" "32 256"; do
	read -r qd blocks <<<"$cfg"
	h_iops=() h_mb=() p_iops=() p_mb=()
	for ((r = 0; r < ROUNDS; r++)); do
		line=$("$B" -i iqn.2024-01.bench:havm "$url" "$qd" "$blocks" "$SECS")
		h_iops+=("$(awk '{print $2}' <<<"$line")") h_mb+=("$(awk '{print $4}' <<<"$line")")
		# iscsi-perf runs until interrupted; its last line has the averages.
		perf=$(timeout -s INT "$SECS" iscsi-perf -i iqn.2024-01.bench:perf -m "$qd" -b "$blocks" "$url" 2>&1 |
			tr '\r' '\n' | grep 'iops average' | tail -1)
		p_iops+=("$(sed -n 's/.*iops average \([0-9]*\) (\([0-9]*\) MB\/s).*/\1/p' <<<"$perf")")
		p_mb+=("$(sed -n 's/.*iops average \([0-9]*\) (\([0-9]*\) MB\/s).*/\2/p' <<<"$perf")")
	done
	printf '| %s | %s KiB | %s | %s | %s | %s |\n' "$qd" $((blocks / 2)) \
		"$(printf '%s\n' "${h_iops[@]}" | median)" "$(printf '%s\n' "${h_mb[@]}" | median)" \
		"$(printf '%s\n' "${p_iops[@]}" | median)" "$(printf '%s\n' "${p_mb[@]}" | median)" >>"$out"
done
cat "$out"
