#!/usr/bin/env bash
# havm vsv info on real .vsv files written by the vsv writer (the crash
# test binary's writer mode): text and JSON output, --verify, and the exit
# codes of every refusal (format 3, notfound 8, usage 2).
source "$(dirname "$0")/../lib/tap.sh"
havm=$HAVM_BIN/havm
writer=$HAVM_TOP/build/asan/tests/test_vsv_crash
f=$scratch/vm.vsv

check "writer makes a .vsv with 64 KiB of RAM" "$writer" writer "$f" 7 65536 0
out=$("$havm" vsv info "$f"); rc=$?
check_eq "info exits 0" 0 "$rc"
check "info names the disk and its generation" grep -q "disk *ide0 uuid 6a1f229e-0102-0304-0506-0708090a0b0c generation 5" <<<"$out"
json=$("$havm" vsv info --json --verify "$f")
check_eq "json: RAM size, sections, passes, verified" "65536 6 2 True" \
	"$(python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["ram_size"], len(o["sections"]), o["ram_passes"], o["page_data_verified"])' <<<"$json")"
check_eq "json: pass 0 covers every page" 16 \
	"$(python3 -c 'import json,sys; s=json.load(sys.stdin)["sections"][4]; print(s["data_pages"]+s["zero_pages"])' <<<"$json")"

# flip the last byte of page data (just before the last section's tail)
cp "$f" "$scratch/bad.vsv"
size=$(stat -c %s "$f")
off=$((size - 32 - 8 - 1))
printf '\x5a' | dd of="$scratch/bad.vsv" bs=1 seek=$off conv=notrunc status=none
"$havm" vsv info "$scratch/bad.vsv" >/dev/null; rc=$?
check_eq "corrupt page data: info (no page check) still exits 0" 0 "$rc"
err=$("$havm" vsv info --verify "$scratch/bad.vsv" 2>&1 >/dev/null); rc=$?
check_eq "corrupt page data: --verify exits 3 (format)" 3 "$rc"
check "message names the page data checksum" grep -q "page data checksum" <<<"$err"

head -c $((size - 100)) "$f" >"$scratch/short.vsv"
err=$("$havm" vsv info "$scratch/short.vsv" 2>&1); rc=$?
check_eq "truncated file exits 3" 3 "$rc"
check "message says truncated" grep -q "truncated or incomplete" <<<"$err"
"$havm" vsv info "$scratch/missing.vsv" 2>/dev/null; rc=$?
check_eq "missing file exits 8 (notfound)" 8 "$rc"
"$havm" vsv frobnicate 2>/dev/null; rc=$?
check_eq "unknown subcommand exits 2" 2 "$rc"
done_testing
