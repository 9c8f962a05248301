#!/usr/bin/env bash
# `havm vhd create|info|check`: options, JSON, exit codes, bad input named
# by file and field, --repair of a bad tail footer, nothing written to an
# image that did not validate.
source "$(dirname "$0")/../lib/tap.sh"
cp "$HAVM_BIN/havm" "$scratch/"
havm=$scratch/havm
cd "$scratch" || exit 1
json() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

check "create dynamic 64M" "$havm" vhd create --size 64M d.vhd
check_eq "info --json: format" vhd-dynamic "$("$havm" vhd info --json d.vhd | json '["format"]')"
check_eq "info --json: block size" 2097152 "$("$havm" vhd info --json d.vhd | json '["block_size"]')"
check "create fixed --sparse --exact-size" "$havm" vhd create --type fixed --size 8M --sparse --exact-size f.vhd
check_eq "fixed file is size + 512" $((8 * 1048576 + 512)) "$(stat -c %s f.vhd)"
check "create differencing from --parent" "$havm" vhd create --parent d.vhd c.vhd
check_eq "info: differencing parent name" d.vhd "$("$havm" vhd info --json c.vhd | json '["parent_name"]')"
check_eq "check --json: clean" True "$("$havm" vhd check --json c.vhd | json '["clean"]')"

"$havm" vhd create --size 64M d.vhd 2>err; rc=$?
check_eq "create over an existing file: exit 9 (state)" 9 $rc
check "  and the message names the file" grep -q 'd.vhd: already exists' err
"$havm" vhd create --size 3000G big.vhd 2>err; rc=$?
check_eq "dynamic past 2040 GiB: exit 11 (unsupported)" 11 $rc
check "  with a clear message" grep -q '2040 GiB' err
check_fails "  and no file left" test -e big.vhd
"$havm" vhd create --size 1M --block-size 3M x.vhd 2>err; rc=$?
check_eq "bad block size: exit 2 (config)" 2 $rc
"$havm" vhd create --type dynamic x.vhd 2>/dev/null; rc=$?
check_eq "missing --size: exit 2" 2 $rc

# Bad tail footer: info falls back to the copy, check fails, --repair fixes.
cp d.vhd t.vhd
printf '\xff\xff\xff\xff' | dd of=t.vhd bs=1 seek=$(($(stat -c %s t.vhd) - 440)) conv=notrunc status=none
check_eq "bad tail footer: info reads the copy at 0" copy-at-0 "$("$havm" vhd info --json t.vhd | json '["footer_source"]')"
"$havm" vhd check t.vhd >out; rc=$?
check_eq "bad tail footer: check exit 3" 3 $rc
check "  check says so" grep -q 'footer at the end of the file is bad' out
check "check --repair" "$havm" vhd check --repair t.vhd
check "after repair: check clean" "$havm" vhd check t.vhd
check "after repair: identical to the original" cmp -s t.vhd d.vhd

# Both footers bad: a clear error and the file untouched.
cp d.vhd b.vhd
printf '\x01' | dd of=b.vhd bs=1 seek=100 conv=notrunc status=none
printf '\x01' | dd of=b.vhd bs=1 seek=$(($(stat -c %s b.vhd) - 412)) conv=notrunc status=none
sum=$(md5sum <b.vhd)
"$havm" vhd info b.vhd 2>err; rc=$?
check_eq "both footers bad: exit 3 (format)" 3 $rc
check "  message names file, offset and field" grep -q 'b.vhd: footer at offset [0-9]*: checksum' err
"$havm" vhd check --repair b.vhd >/dev/null 2>&1
check_eq "  --repair did not touch it" "$sum" "$(md5sum <b.vhd)"

# Truncated: BAT entry past the end.
cp d.vhd w.vhd
head -c 1048576 /dev/urandom >r.raw
"$HAVM_BIN/vhd_testtool" import r.raw w.vhd
truncate -s $(($(stat -c %s w.vhd) - 65536)) w.vhd
"$havm" vhd info w.vhd 2>err; rc=$?
check_eq "truncated image: exit 3" 3 $rc
check "  message names the field" grep -qE 'w.vhd: (BAT entry 0|footer)' err

# Missing parent.
mv d.vhd moved.vhd
"$havm" vhd check c.vhd >out 2>&1; rc=$?
check_eq "missing parent: check exit 3" 3 $rc
check "  names the parent" grep -q 'parent "d.vhd" not found' out
done_testing
