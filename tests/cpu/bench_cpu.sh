#!/usr/bin/env bash
# make bench: guest MIPS of the CPU interpreter, side by side with QEMU TCG
# when qemu-system-i386 is installed; table in build/bench/cpu.md.
set -eu
top=${HAVM_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
if command -v qemu-system-i386 >/dev/null; then
	export QEMU=$(command -v qemu-system-i386)
fi
"$top/build/bench/cpu_bench" "$top/build/bench/cpu.md"
