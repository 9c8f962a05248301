#!/usr/bin/env bash
# The VM store as a directory (dir:): the same havm store commands as on a
# LUN — format, import (VHD and .vmc), ls/df --json, export (VHD and raw,
# compared with qemu-img), rm, clear errors — and a .vsv replace killed at
# every step (HAVM_FAULT_AT=*:N) that leaves the old or the new file.
source "$(dirname "$0")/../lib/tap.sh"
cp "$HAVM_BIN/havm" "$scratch/" # immune to rebuilds mid-run
havm=$scratch/havm
cd "$scratch" || exit 1
url=dir:$scratch/store

out=$($havm store ls "$url" 2>&1); rc=$?
check "a missing directory is notfound (exit 8)" test $rc -eq 8 -a -n "$(grep 'store' <<<"$out")"
$havm store format "$url" >/dev/null
check "format creates the directory" test -d store

$havm vhd create -t dynamic -s 20M src.vhd >/dev/null 2>&1
qemu-io -f vpc -c 'write -P 0x5a 1M 512k' -c 'write -P 0x33 15M 4k' src.vhd >/dev/null
qemu-img convert -O raw src.vhd src.raw
$havm store import "$url" src.vhd web1.vhd
check "import of a VHD" test $? -eq 0
check "... is a dynamic VHD file qemu-img reads as the original" qemu-img compare -q src.vhd store/web1.vhd
printf '<vm name="web1"/>\n' >web1.vmc
$havm store import "$url" web1.vmc
check "import of a .vmc" cmp -s web1.vmc store/web1.vmc
touch store/.stray store/notes.txt
got=$(python3 -c 'import json,sys; print(" ".join(o["name"] + ":" + o["kind"] for o in json.load(sys.stdin)))' \
	<<<"$($havm store ls --json "$url")")
check_eq "ls --json: objects with kinds from their names; dot files hidden" \
	"notes.txt:other web1.vhd:vhd web1.vmc:vmc" "$got"
rm -f store/notes.txt

$havm store export --raw "$url" web1.vhd back.raw
check "export --raw equals qemu-img convert of the original" cmp -s back.raw src.raw
$havm store export "$url" web1.vhd back.vhd
check "export as VHD: qemu-img compare says identical" qemu-img compare -q src.vhd back.vhd
out=$($havm store export "$url" web1.vhd back.vhd 2>&1); rc=$?
check "export over an existing file is refused (state, exit 9)" test $rc -eq 9
out=$($havm store import "$url" web1.vmc ../evil.vmc 2>&1); rc=$?
check "a name with a path is refused (config, exit 2) and says why" \
	test $rc -eq 2 -a -n "$(grep "starts with '.'" <<<"$out")" -a ! -e evil.vmc
out=$($havm store import --kind vhd "$url" web1.vmc x.vmc 2>&1); rc=$?
check "a kind that does not match the name is refused (exit 2)" test $rc -eq 2 -a ! -e store/x.vmc

got=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["objects"], d["used"] == '"$(($(stat -c %s store/web1.vhd) + $(stat -c %s store/web1.vmc)))"', d["free"] > 0)' \
	<<<"$($havm store df --json "$url")")
check_eq "df --json: 2 objects, used = the files' sizes" "2 True True" "$got"
$havm store rm "$url" web1.vmc
check "rm removes the file" test ! -e store/web1.vmc
out=$($havm store rm "$url" web1.vmc 2>&1); rc=$?
check_eq "rm of a missing object is notfound (exit 8)" 8 $rc

head -c 300000 /dev/urandom >old.vsv
head -c 2500000 /dev/urandom >new.vsv
$havm store import "$url" old.vsv vm.vsv
old_n=0 new_n=0 bad=0 n=0
for ((n = 1; n <= 100; n++)); do
	HAVM_FAULT_AT="*:$n" $havm store import "$url" new.vsv vm.vsv 2>/dev/null
	rc=$?
	((rc == 0)) && break
	((rc == 86)) || { bad=1; diag "step $n: exit $rc"; break; }
	if cmp -s store/vm.vsv old.vsv; then old_n=$((old_n + 1));
	elif cmp -s store/vm.vsv new.vsv; then new_n=$((new_n + 1));
	else bad=1; diag "step $n: vm.vsv is neither"; break; fi
	cp old.vsv store/vm.vsv
done
diag "killed at $((n - 1)) steps: $old_n left the old .vsv, $new_n the new one"
check "a .vsv replace killed at every step leaves the old or the new file" test $bad -eq 0 -a $old_n -gt 0 -a $new_n -gt 0
check "the finished replace holds the new .vsv" cmp -s store/vm.vsv new.vsv
HAVM_FAULT_AT="*:1" $havm store import "$url" old.vsv vm.vsv 2>/dev/null
check "a writer killed after its first write leaves a stale temporary file" test -e store/.vm.vsv.tmp
got=$($havm store ls "$url" | awk 'NR > 1 { print $1 }' | tr '\n' ' ')
check_eq "... which is not an object" "vm.vsv web1.vhd " "$got"
check "... and the object is still the new .vsv" cmp -s store/vm.vsv new.vsv

done_testing
