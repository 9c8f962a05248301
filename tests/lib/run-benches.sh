#!/usr/bin/env bash
# make bench: runs each benchmark script in turn. Each script measures our
# tool and the reference tool (qemu-img, QEMU TCG, iscsi-perf) side by side in
# the same run and writes its table to build/bench/<name>.md; the tables are
# then copied by hand into docs/benchmarks.md with the machine they ran on.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$top/build/bench"
failed=0
for s in "$@"; do
	echo "== $(basename "$s")"
	if ! HAVM_TOP=$top "$s"; then
		echo "   FAILED"
		failed=$((failed + 1))
	fi
done
echo "tables: $top/build/bench/*.md"
((failed == 0))
