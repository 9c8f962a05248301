#!/usr/bin/env bash
# make bench: vmm save / restore / live-migration times beside QEMU TCG's in
# the same run (tests/bench/saverestore.py); the table goes to
# build/bench/saverestore.md. Needs build/bin/vmm and the test guests; the
# Linux rows need build/guest/linux (make guest-linux; BENCH_LINUX=0 skips).
set -eu
top=${HAVM_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
mkdir -p "$top/build/bench"
dir=$(mktemp -d "$top/build/bench/saverestore.XXXXXX")
trap 'rm -rf "$dir"' EXIT
{
	echo "# vmm save/restore/migrate vs QEMU $(qemu-system-i386 --version 2>/dev/null | head -1 | awk '{print $4}') TCG ($(nproc) CPUs, $(uname -r), $(date -u +%F), load $(cut -d' ' -f1 /proc/loadavg))"
	echo
	python3 "$top/tests/bench/saverestore.py" "$top" "$dir" --runs "${BENCH_RUNS:-3}" --sizes "${BENCH_SIZES:-64,256,1024}" \
		--linux "${BENCH_LINUX:-1}" --linux-runs "${BENCH_LINUX_RUNS:-1}"
} | tee "$top/build/bench/saverestore.md"
