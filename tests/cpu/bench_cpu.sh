#!/usr/bin/env bash
# make bench: guest MIPS of the CPU interpreter; table in build/bench/cpu.md.
set -eu
top=${HAVM_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
"$top/build/bench/cpu_bench" "$top/build/bench/cpu.md"
