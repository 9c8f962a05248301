#!/usr/bin/env bash
# Crash safety of VHD allocation (docs/vhd.md "Allocation"): a writer doing
# seeded writes with a flush every few ops is killed at fault point N for
# N = 1, 2, ... until it finishes untouched. After every crash the image must
# open, `havm vhd check` must report it clean (leaked space allowed), and
# every write acknowledged by the last completed flush must read back
# (sectors written after it may hold the old or the new data, nothing else).
# Run for a dynamic disk and for a differencing disk over a filled parent.
source "$(dirname "$0")/../lib/tap.sh"
# Private copies: a rebuild elsewhere in the tree must not swap binaries
# under a long-running loop.
cp "$HAVM_BIN/havm" "$HAVM_BIN/vhd_testtool" "$scratch/"
havm=$scratch/havm tool=$scratch/vhd_testtool
OPS=40 EVERY=8 SEED=11 MAXN=2000

crash_loop() { # name pristine-image base(zero|parent)
	local name=$1 pristine=$2 base=$3 n rc crashes=0 failures=0
	for ((n = 1; n <= MAXN; n++)); do
		cp --sparse=always "$pristine" "$scratch/img.vhd"
		rm -f "$scratch/log"
		HAVM_FAULT_AT="*:$n" "$tool" write "$scratch/img.vhd" $SEED $OPS $EVERY "$scratch/log" \
			>/dev/null 2>"$scratch/err"
		rc=$?
		if ((rc != 86 && rc != 0)); then
			not_ok "$name: writer failed at fault $n with status $rc: $(head -c 300 "$scratch/err")"
			return
		fi
		if ! "$havm" vhd check "$scratch/img.vhd" >"$scratch/check" 2>&1; then
			failures=$((failures + 1))
			diag "$name fault $n: check: $(grep -v ': info:' "$scratch/check" | head -3)"
		elif ! "$tool" verify "$scratch/img.vhd" $SEED $OPS "$scratch/log" "$base" >/dev/null 2>"$scratch/verr"; then
			failures=$((failures + 1))
			diag "$name fault $n: verify: $(head -2 "$scratch/verr")"
		fi
		((rc == 0)) && break
		crashes=$((crashes + 1))
	done
	check_eq "$name: writer finished within $MAXN fault points" 1 $((n <= MAXN))
	check_eq "$name: $crashes crashes, image clean and acknowledged writes intact after each" 0 "$failures"
	((crashes > 20)) && ok "$name: fault points covered allocation and flush steps ($crashes)" ||
		not_ok "$name: too few fault points hit ($crashes)"
}

"$havm" vhd create --size 8M --block-size 256K "$scratch/dyn.vhd" >/dev/null
crash_loop dynamic "$scratch/dyn.vhd" zero

"$havm" vhd create --size 8M --block-size 256K "$scratch/parent.vhd" >/dev/null
"$tool" fill "$scratch/parent.vhd"
"$havm" vhd create --parent "$scratch/parent.vhd" "$scratch/child.vhd"
# The child's locators name parent.vhd beside it, so copies stay in $scratch.
crash_loop differencing "$scratch/child.vhd" parent

# An I/O error (not a crash) mid-flush poisons the device; the image on disk
# still checks clean and holds every acknowledged write.
cp --sparse=always "$scratch/dyn.vhd" "$scratch/img.vhd"; rm -f "$scratch/log"
HAVM_FAULT_AT="vhd.flush_bitmap:2:fail" "$tool" write "$scratch/img.vhd" $SEED $OPS $EVERY "$scratch/log" 2>/dev/null
check_eq "failed flush: the writer reports an I/O error" 3 $?
check "failed flush: image checks clean" "$havm" vhd check "$scratch/img.vhd"
check "failed flush: acknowledged writes intact" "$tool" verify "$scratch/img.vhd" $SEED $OPS "$scratch/log" zero
done_testing
