#!/usr/bin/env bash
# Crash safety of `havm vhd compact` and `havm vhd merge` (docs/vhd.md
# "Tools"): the tool is killed at fault point N (HAVM_FAULT_AT='*:N', every
# fault point counts: the tool's own steps and the block layer's allocation
# and flush steps) for N = 1, 2, ... until it finishes untouched.
#  compact: after every kill the image opens, `havm vhd check` is clean and
#           the guest view is unchanged (dynamic and differencing).
#  merge:   after every kill the child's chain (and the grandchild's) reads
#           unchanged; rerunning the merge (never with --force) finishes
#           with the parent holding exactly the child's view and checking
#           clean, and removes the merge marker.
source "$(dirname "$0")/../lib/tap.sh"
cp "$HAVM_BIN/havm" "$HAVM_BIN/vhd_testtool" "$scratch/"
havm=$scratch/havm tool=$scratch/vhd_testtool
cd "$scratch" || exit 1
MAXN=3000
view() { rm -f "$2"; "$havm" vhd convert --type raw "$1" "$2" >/dev/null; }
sum() { sha256sum "$1" | cut -d' ' -f1; }

# A 8 MiB disk in 256 KiB blocks: data, zero blocks, a partial block.
truncate -s 8M src.raw
dd if=/dev/urandom of=src.raw bs=64K count=20 conv=notrunc status=none
dd if=/dev/urandom of=src.raw bs=4K seek=1500 count=30 conv=notrunc status=none
"$havm" vhd convert --type dynamic --block-size 256K src.raw dyn.vhd >/dev/null
view dyn.vhd want.raw
cp want.raw zeroed.raw; dd if=/dev/zero of=zeroed.raw bs=256K count=2 conv=notrunc status=none
"$tool" import zeroed.raw dyn.vhd # two allocated blocks now all zero

compact_loop() { # name pristine (the parent, if any, lies beside it)
	local name=$1 pristine=$2 n rc crashes=0 failures=0 want
	view "$pristine" ref.raw; want=$(sum ref.raw)
	for ((n = 1; n <= MAXN; n++)); do
		cp --sparse=always "$pristine" img.vhd; rm -f img.vhd.compact.tmp
		HAVM_FAULT_AT="*:$n" "$havm" vhd compact img.vhd >/dev/null 2>err
		rc=$?
		if ((rc != 86 && rc != 0)); then
			not_ok "$name: compact failed at fault $n with status $rc: $(head -c 300 err)"
			return
		fi
		if ! "$havm" vhd check img.vhd >chk 2>&1; then
			failures=$((failures + 1)); diag "$name fault $n: $(grep -v ': info:' chk | head -2)"
		else
			rm -f out.raw; view img.vhd out.raw
			[[ $(sum out.raw) == "$want" ]] || { failures=$((failures + 1)); diag "$name fault $n: contents changed"; }
		fi
		((rc == 0)) && break
		crashes=$((crashes + 1))
	done
	check_eq "$name: compact finished within $MAXN fault points" 1 $((n <= MAXN))
	check_eq "$name: $crashes kills, image opens, checks clean, contents unchanged after each" 0 "$failures"
	((crashes > 10)) && ok "$name: fault points covered the copy and the rename ($crashes)" ||
		not_ok "$name: too few fault points hit ($crashes)"
	rm -f "$pristine.compact.tmp"
}
compact_loop "compact dynamic" dyn.vhd
b=$("$havm" vhd info img.vhd | awk '/allocated_blocks/ {print $2}')
check_eq "compact dynamic: the finished run dropped the two zero blocks" 4 "$b"

# Differencing over a parent: part rewritten with the parent's own bytes.
"$havm" vhd convert --type dynamic --block-size 256K src.raw base.vhd >/dev/null
"$havm" vhd create --parent base.vhd child.vhd
view base.vhd b.raw; cp b.raw c.raw
dd if=/dev/urandom of=c.raw bs=4K seek=700 count=100 conv=notrunc status=none
"$tool" import c.raw child.vhd
compact_loop "compact differencing" child.vhd

merge_loop() { # name (pristine: mbase.vhd, mchild.vhd, [mgrand.vhd] in p/)
	local name=$1 n rc rc2 crashes=0 failures=0 forced=0 wantc wantg=
	view p/mchild.vhd ref.raw; wantc=$(sum ref.raw)
	[[ -e p/mgrand.vhd ]] && { view p/mgrand.vhd refg.raw; wantg=$(sum refg.raw); }
	for ((n = 1; n <= MAXN; n++)); do
		rm -rf w; cp -r --sparse=always p w
		HAVM_FAULT_AT="*:$n" "$havm" vhd merge w/mchild.vhd >/dev/null 2>err
		rc=$?
		if ((rc != 86 && rc != 0)); then
			not_ok "$name: merge failed at fault $n with status $rc: $(head -c 300 err)"
			return
		fi
		if ((rc == 86)); then # the interrupted state still reads right
			if [[ -e w/mchild.vhd ]]; then
				rm -f o.raw; view w/mchild.vhd o.raw 2>/dev/null
				[[ $(sum o.raw) == "$wantc" ]] || { failures=$((failures + 1)); diag "$name fault $n: child view changed"; }
			fi
			if [[ -n $wantg ]]; then
				rm -f o.raw; view w/mgrand.vhd o.raw 2>/dev/null
				[[ $(sum o.raw) == "$wantg" ]] || { failures=$((failures + 1)); diag "$name fault $n: grandchild view changed"; }
			fi
			if [[ -e w/mchild.vhd ]]; then
				# Never --force: a grandchild re-pointed before the kill
				# names the parent now, and the merge marker must tell the
				# rerun it is its own work, not a sibling.
				rc2=0; "$havm" vhd merge w/mchild.vhd >/dev/null 2>err || rc2=$?
				if ((rc2 == 9)) && grep -q "other child" err; then
					forced=$((forced + 1)); diag "$name fault $n: rerun refused: $(head -c 200 err)"
				fi
				((rc2 == 0)) || { failures=$((failures + 1)); diag "$name fault $n: rerun: $(head -c 200 err)"; }
				[[ -e w/mbase.vhd.merge ]] && { failures=$((failures + 1)); diag "$name fault $n: marker left after the rerun"; }
			fi
		fi
		rm -f o.raw; view w/mbase.vhd o.raw
		[[ $(sum o.raw) == "$wantc" ]] || { failures=$((failures + 1)); diag "$name fault $n: parent differs after the rerun"; }
		"$havm" vhd check w/mbase.vhd >chk 2>&1 || { failures=$((failures + 1)); diag "$name fault $n: $(grep -v ': info:' chk | head -2)"; }
		if [[ -n $wantg ]]; then
			rm -f o.raw; view w/mgrand.vhd o.raw
			[[ $(sum o.raw) == "$wantg" ]] || { failures=$((failures + 1)); diag "$name fault $n: grandchild differs after the rerun"; }
		fi
		[[ -e w/mchild.vhd ]] && { failures=$((failures + 1)); diag "$name fault $n: child not deleted"; }
		((rc == 0)) && break
		crashes=$((crashes + 1))
	done
	check_eq "$name: merge finished within $MAXN fault points" 1 $((n <= MAXN))
	check_eq "$name: $crashes kills, each rerun gives the same parent, clean, child deleted" 0 "$failures"
	((crashes > 10)) && ok "$name: fault points covered the copy, the flush and the delete ($crashes)" ||
		not_ok "$name: too few fault points hit ($crashes)"
	check_eq "$name: no rerun refused the grandchild it had re-pointed (no --force needed)" 0 "$forced"
}
mkdir p
"$havm" vhd convert --type dynamic --block-size 256K src.raw p/mbase.vhd >/dev/null
"$havm" vhd create --parent p/mbase.vhd p/mchild.vhd
view p/mbase.vhd b.raw; cp b.raw c.raw
dd if=/dev/urandom of=c.raw bs=4K seek=300 count=200 conv=notrunc status=none
dd if=/dev/urandom of=c.raw bs=4K seek=1900 count=7 conv=notrunc status=none
"$tool" import c.raw p/mchild.vhd
merge_loop "merge"
"$havm" vhd create --parent p/mchild.vhd p/mgrand.vhd
cp c.raw g.raw; dd if=/dev/urandom of=g.raw bs=4K seek=100 count=9 conv=notrunc status=none
"$tool" import g.raw p/mgrand.vhd
merge_loop "merge with a grandchild"

# resize (dynamic, 256 KiB blocks, 8M -> 200M: the BAT outgrows its room,
# so blocks move first): after every kill the image opens and the old
# data reads back; the finished run checks clean.
view dyn.vhd rsref.raw
n=0 crashes=0 failures=0
for ((n = 1; n <= MAXN; n++)); do
	cp --sparse=always dyn.vhd img.vhd
	HAVM_FAULT_AT="*:$n" "$havm" vhd resize --size 200M img.vhd >/dev/null 2>err
	rc=$?
	((rc == 86 || rc == 0)) || { not_ok "resize failed at fault $n with status $rc: $(head -c 300 err)"; break; }
	view img.vhd o.raw || { failures=$((failures + 1)); diag "resize fault $n: does not open"; }
	cmp -s rsref.raw <(head -c "$(stat -c %s rsref.raw)" o.raw) ||
		{ failures=$((failures + 1)); diag "resize fault $n: old data changed"; }
	((rc == 0)) && break
	crashes=$((crashes + 1))
done
check_eq "resize: $crashes kills, the image opens and keeps its data after each" 0 "$failures"
check "resize: the finished run checks clean" bash -c "'$havm' vhd check img.vhd >/dev/null"
((crashes > 5)) && ok "resize: fault points covered block moves and metadata ($crashes)" ||
	not_ok "resize: too few fault points hit ($crashes)"
done_testing
