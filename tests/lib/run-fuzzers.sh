#!/usr/bin/env bash
# make fuzz: runs every libFuzzer target for SECONDS (default 60) on a copy of
# its seed corpus (tests/fuzz/corpus/<name>/), so new inputs never land in the
# tree unasked. Crashes are kept in build/fuzz/artifacts/<name>/.
#   run-fuzzers.sh [SECONDS] NAME...
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
[[ $secs =~ ^[0-9]+$ ]] || { echo "run-fuzzers.sh: seconds must be a number, got '$secs'" >&2; exit 2; }
shift
failed=0
for name in "$@"; do
	work=$top/build/fuzz/work/$name
	art=$top/build/fuzz/artifacts/$name/
	rm -rf "$work" && mkdir -p "$work" "$art"
	[[ -d $top/tests/fuzz/corpus/$name ]] && cp -r "$top/tests/fuzz/corpus/$name/." "$work/"
	echo "fuzz $name for ${secs}s"
	if "$top/build/fuzz/$name" -max_total_time="$secs" -artifact_prefix="$art" \
		"$work" >"$top/build/fuzz/$name.log" 2>&1; then
		echo "  ok: $(grep -E '^#[0-9]+.*(DONE|pulse)' "$top/build/fuzz/$name.log" | tail -1)"
	else
		echo "  FAILED: see $top/build/fuzz/$name.log and $art"
		failed=$((failed + 1))
	fi
done
((failed == 0))
