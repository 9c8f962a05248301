#!/usr/bin/env bash
# The VM store on a real tgtd LUN (iscsi/store_gpt.c over iscsi/blk_iscsi.c):
# format, import a VHD made by `havm vhd create` and written by qemu-io, read
# it back through the block layer (export --raw) and compare with qemu-img's
# conversion of the original, let qemu-img read the VHD inside the region of
# the LUN's backing file (footer at the region's end), export, rm, df; sgdisk
# reads our GPT from the backing file with our names and type GUIDs; a .vsv
# replace over iSCSI killed at every step leaves the old or the new object.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
cp "$HAVM_BIN/havm" "$scratch/" # immune to rebuilds mid-run
havm=$scratch/havm
command -v sgdisk >/dev/null || { not_ok "sgdisk installed (apt-get install gdisk)"; done_testing; exit 1; }
tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:store && tgtd_lun 1 1 96 && tgtd_bind 1 ALL
url=$(tgtd_url 1 1)
img=$(tgtd_lun_file 1 1)
cd "$scratch" || exit 1

out=$($havm store ls "$url" 2>&1); rc=$?
check "an unformatted LUN is not a store (format exit 3) and says why" \
	test $rc -eq 3 -a -n "$(grep 'no valid GPT: primary: no "EFI PART" signature at LBA 1' <<<"$out")"
$havm store format "$url" >/dev/null
check "havm store format writes a GPT over iSCSI" test $? -eq 0
check "sgdisk verifies it on the backing file" grep -q "No problems found" <<<"$(sgdisk -v "$img" 2>&1)"

# A dynamic VHD with data in two blocks and a zero block between.
$havm vhd create -t dynamic -s 20M src.vhd >/dev/null 2>&1
qemu-io -f vpc -c 'write -P 0x5a 1M 512k' -c 'write -P 0x33 15M 4k' src.vhd >/dev/null
qemu-img convert -O raw src.vhd src.raw
$havm store import "$url" src.vhd web1.vhd
check "import of a VHD made by havm vhd create" test $? -eq 0
printf '<vm name="web1"/>\n' >web1.vmc
$havm store import "$url" web1.vmc
check "import of a .vmc (kind from the name)" test $? -eq 0

ls_json=$($havm store ls --json "$url")
got=$(python3 -c 'import json,sys; print(" ".join(o["name"] + ":" + o["kind"] for o in json.load(sys.stdin)))' <<<"$ls_json")
check_eq "ls --json lists both objects with their kinds" "web1.vhd:vhd web1.vmc:vmc" "$got"
read -r off size < <(python3 -c 'import json,sys; o=[x for x in json.load(sys.stdin) if x["name"]=="web1.vhd"][0]; print(o["offset"], o["size"])' <<<"$ls_json")

p=$(sgdisk -p "$img" 2>&1)
check "sgdisk -p lists web1.vhd" grep -qE "^ +[0-9]+ +[0-9]+ +[0-9]+ .* web1\.vhd$" <<<"$p"
check "sgdisk -p lists web1.vmc" grep -qE "^ +[0-9]+ +[0-9]+ +[0-9]+ .* web1\.vmc$" <<<"$p"
n=$(grep -nE ' web1\.vhd$' <<<"$p" | sed -E 's/^[0-9]+: +([0-9]+) .*/\1/')
check "sgdisk -i shows our VHD type GUID" grep -qi "Partition GUID code: B07A15D2-1D51-42D1-8F21-5A11637E50C8" \
	<<<"$(sgdisk -i "$n" "$img" 2>&1)"
start=$(sgdisk -i "$n" "$img" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
check_eq "the partition starts where ls says, on a 1 MiB boundary" "$off 0" "$((start * 512)) $((start % 2048))"
check "sgdisk -v finds no problems with objects in place" grep -q "No problems found" <<<"$(sgdisk -v "$img" 2>&1)"

$havm store export --raw "$url" web1.vhd back.raw
check "export --raw reads the region through blk_open_backend" test $? -eq 0
check "... and equals qemu-img convert of the original" cmp -s back.raw src.raw
qemu-img convert -O raw --image-opts \
	"driver=vpc,file.driver=raw,file.offset=$off,file.size=$size,file.file.driver=file,file.file.filename=$img" \
	region.raw 2>/dev/null
check "qemu-img reads the VHD inside the region (footer at the region's end) as the original" cmp -s region.raw src.raw
$havm store export "$url" web1.vhd back.vhd
check "export as a VHD file: qemu-img compare says identical" qemu-img compare -q src.vhd back.vhd
check_eq "the exported VHD is dynamic" "vpc" "$(qemu-img info --output=json back.vhd | python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])')"
$havm store export "$url" web1.vmc back.vmc
check "export of the .vmc is byte for byte" cmp -s back.vmc web1.vmc

$havm store child "$url" web1.vhd web1-snap.vhd
check "child: a differencing VHD over web1.vhd in its own region" test $? -eq 0
$havm store export --raw "$url" web1-snap.vhd snap.raw
check "... reads through to its parent object (export --raw equals the original)" cmp -s snap.raw src.raw
$havm store rm "$url" web1-snap.vhd

out=$($havm store import "$url" src.vhd web1.vhd 2>&1); rc=$?
check "importing over an existing VHD is refused (state, exit 9)" test $rc -eq 9 -a -n "$(grep "exists" <<<"$out")"
out=$($havm store export "$url" nope.vhd x 2>&1); rc=$?
check "exporting a missing object is notfound (exit 8)" test $rc -eq 8 -a ! -e x

df=$($havm store df --json "$url")
got=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["objects"], d["max_objects"], d["used"] + d["free"] == d["total"], d["largest_free"] <= d["free"])' <<<"$df")
check_eq "df --json: 2 objects of 128, used + free = total" "2 128 True True" "$got"
$havm store rm "$url" web1.vmc
check "rm" test $? -eq 0
check_fails "... the object is gone from ls" grep -q web1.vmc <<<"$($havm store ls "$url")"
check_fails "... and from sgdisk -p" grep -q web1.vmc <<<"$(sgdisk -p "$img" 2>&1)"
got=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["objects"])' <<<"$($havm store df --json "$url")")
check_eq "df counts one object" 1 "$got"

# .vsv replace over iSCSI, the writer killed at every step (HAVM_FAULT_AT=*:N;
# "*" also counts the fault points of the LUN code under the store).
head -c 700000 /dev/urandom >old.vsv
head -c 1500000 /dev/urandom >new.vsv
$havm store import "$url" old.vsv vm.vsv
old_n=0 new_n=0 bad=0 n=0
for ((n = 1; n <= 250; n++)); do
	HAVM_FAULT_AT="*:$n" $havm store import "$url" new.vsv vm.vsv 2>/dev/null
	rc=$?
	((rc == 0)) && break
	((rc == 86)) || { bad=1; diag "step $n: exit $rc"; break; }
	rm -f got.vsv
	$havm store export "$url" vm.vsv got.vsv 2>/dev/null || { bad=1; diag "step $n: store unreadable"; break; }
	if cmp -s got.vsv old.vsv; then old_n=$((old_n + 1));
	elif cmp -s got.vsv new.vsv; then new_n=$((new_n + 1));
	else bad=1; diag "step $n: vm.vsv is neither"; break; fi
	# The next read-write open repairs a half-written table copy; then
	# sgdisk must find both copies good again.
	$havm store import "$url" old.vsv vm.vsv 2>/dev/null || { bad=1; break; } # back to the old state
	sgdisk -v "$img" 2>&1 | grep -q "No problems found" || { bad=1; diag "step $n: sgdisk -v complains after repair"; }
done
diag "killed at $((n - 1)) steps: $old_n left the old .vsv, $new_n the new one"
check "a .vsv replace killed at every step leaves the old or the new object" test $bad -eq 0 -a $old_n -gt 0 -a $new_n -gt 0
rm -f got.vsv
$havm store export "$url" vm.vsv got.vsv
check "the finished replace holds the new .vsv" cmp -s got.vsv new.vsv

done_testing
