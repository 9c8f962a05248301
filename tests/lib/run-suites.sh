#!/usr/bin/env bash
# Runs test suites and prints one closing line "N passed, N failed".
# Every test program speaks TAP ("ok N - name" / "not ok N - name" /
# "ok N - name # SKIP reason"); cmocka binaries are switched to TAP through
# CMOCKA_MESSAGE_OUTPUT. A program that exits non-zero without reporting a
# failing case counts as one failure, so a crash never passes silently.
#   run-suites.sh [--unit "progs"] [--integration "scripts"] [--cluster "scripts"]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
logdir=$top/build/test-logs
mkdir -p "$logdir"
export CMOCKA_MESSAGE_OUTPUT=TAP
export HAVM_TOP=$top
export HAVM_BIN=$top/build/asan/bin
export PATH=$HAVM_BIN:$PATH
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0 skipped=0
failures=()

run_one() { # kind path
	local kind=$1 prog=$2 name log rc out
	name=$(basename "$prog")
	log=$logdir/$kind-$name.log
	printf '%-12s %-48s ' "$kind" "$name"
	"$prog" >"$log" 2>&1 </dev/null
	rc=$?
	local p f s
	p=$(grep -cE '^ok [0-9]+' "$log" | tr -d ' ')
	s=$(grep -cE '^ok [0-9]+.*# (SKIP|skip)' "$log" | tr -d ' ')
	f=$(grep -cE '^not ok [0-9]+' "$log" | tr -d ' ')
	p=$((p - s))
	if ((rc != 0 && f == 0)); then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	if ((f > 0)); then
		echo "FAIL ($p passed, $f failed) — $log"
		failures+=("$log")
		grep -E '^not ok' "$log" | head -5 | sed 's/^/    /'
	else
		if ((s > 0)); then echo "ok ($p passed, $s skipped)"; else echo "ok ($p passed)"; fi
	fi
}

while (($#)); do
	case $1 in
	--unit) kind=unit ;;
	--integration) kind=integration ;;
	--cluster) kind=cluster ;;
	*) echo "run-suites.sh: unknown option $1" >&2; exit 2 ;;
	esac
	for t in $2; do
		if [[ $kind == cluster ]] && [[ $(id -u) != 0 ]]; then
			echo "cluster      $(basename "$t"): skipped (needs root for network namespaces)"
			skipped=$((skipped + 1))
			continue
		fi
		run_one "$kind" "$t"
	done
	shift 2
done

((skipped > 0)) && echo "$skipped skipped (see the log lines above)"
((${#failures[@]})) && printf 'failed logs:\n' && printf '  %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
((failed == 0))
