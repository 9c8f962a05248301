#!/usr/bin/env bash
# make bench: .vsv save/restore times for a 256 MiB guest (bench_vsv);
# the table goes to build/bench/vsv.md. Goal (issue 6): restore < 50 ms.
set -eu
top=${HAVM_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
dir=$(mktemp -d "$top/build/bench/vsv.XXXXXX")
trap 'rm -rf "$dir"' EXIT
{
	echo "# .vsv save/restore, 256 MiB guest ($(nproc) CPUs, $(uname -r), $(date -u +%F))"
	echo
	"$top/build/bench/bench_vsv" "$dir"
} | tee "$top/build/bench/vsv.md"
