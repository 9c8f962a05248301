# TAP helpers for shell test scripts: source it, call ok/not_ok/skip or the
# check helpers, end with `done_testing`. Scripts run from any directory;
# $HAVM_TOP and $HAVM_BIN are set by tests/lib/run-suites.sh (defaults below).
: "${HAVM_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${HAVM_BIN:=$HAVM_TOP/build/asan/bin}"
export HAVM_TOP HAVM_BIN
_tap_n=0 _tap_failed=0
ok()     { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1)); echo "not ok $_tap_n - $*"; }
skip()   { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
diag()   { echo "# $*"; }
# check "description" command...: passes when the command exits 0
check()  { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# check_eq "description" expected actual
check_eq() { if [[ "$2" == "$3" ]]; then ok "$1"; else not_ok "$1"; diag "expected: $2"; diag "actual:   $3"; fi; }
# check_fails "description" command...: passes when the command exits non-zero
check_fails() { local d=$1; shift; if "$@"; then not_ok "$d"; else ok "$d"; fi; }
done_testing() { echo "1..$_tap_n"; ((_tap_failed == 0)); }
# Runs a program that speaks TAP itself and folds its results into this
# script's plan, then checks its exit status; the failure message shows the
# command line that reproduces it.
relay_tap() {
	local out rc line
	out=$("$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "${line#ok [0-9]* - }" ;;
		"not ok "*) not_ok "${line#not ok [0-9]* - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <<<"$out"
	check_eq "$(basename "$1") exit status (rerun: $*)" 0 "$rc"
}
# A scratch directory removed on exit; tests add their own cleanup with at_exit.
_tap_cleanups=()
at_exit() { _tap_cleanups+=("$*"); }
_tap_cleanup() { local i; for ((i = ${#_tap_cleanups[@]} - 1; i >= 0; i--)); do eval "${_tap_cleanups[i]}" || true; done; }
trap _tap_cleanup EXIT
scratch=$(mktemp -d /tmp/havm-test.XXXXXX)
at_exit "rm -rf '$scratch'"
