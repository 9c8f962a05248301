#!/usr/bin/env bash
# iscsi/lun: connect, capacity, read/write/flush against a real tgtd, and
# clear errors for bad URLs, wrong CHAP, missing targets and LUNs.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
P=$HAVM_BIN/lun_probe
tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:disk0 && tgtd_lun 1 1 16 && tgtd_bind 1 ALL
tgtd_target 2 iqn.2024-01.test:chap && tgtd_lun 2 1 8 && tgtd_bind 2 ALL && tgtd_chap 2 alice s3cret-pw
url=$(tgtd_url 1 1)
ini=iqn.2024-01.test:host-a

out=$($P -i $ini "$url" info 2>&1)
check_eq "READ CAPACITY(16) gives the LUN's size" "blocks=32768 block_size=512 initiator=$ini" "$out"

$P -i $ini "$url" write 100 8 0x5a fua + flush 2>&1
check "an 8-block FUA write and a flush succeed" test $? -eq 0
out=$($P -i $ini "$url" read 100 8 2>&1)
check_eq "the blocks read back" "uniform 0x5a" "$out"
file=$(tgtd_lun_file 1 1)
got=$(dd if="$file" bs=512 skip=100 count=8 status=none | od -An -v -tx1 | tr -s ' \n' '\n' | sort -u | grep -v '^$')
check_eq "the target's backing file holds the written bytes" "5a" "$got"
out=$($P -i $ini "$url" read 99 1 2>&1)
check_eq "the block before the write is untouched" "uniform 0x00" "$out"

out=$($P -i $ini "$url" read 32767 2 2>&1); rc=$?
check_eq "a read past the end is refused before any I/O (config exit 2)" 2 $rc
check "... and says why" grep -q "read refused" <<<"$out"

out=$($P -i $ini "$url" closebusy 8 2>&1); rc=$?
check_eq "closing with 8 writes in flight completes each once with -ECANCELED" "submitted=8 callbacks=8 cancelled=8 ok=0|0" "$out|$rc"

# Bad URLs: the message names the part.
for case in "http://127.0.0.1/iqn.2024-01.test:disk0/1|scheme" \
	"iscsi://127.0.0.1:99999/iqn.2024-01.test:disk0/1|port" \
	"iscsi://127.0.0.1/disk0/1|target name" \
	"iscsi://127.0.0.1/iqn.2024-01.test:disk0/x|lun" \
	"iscsi://127.0.0.1/iqn.2024-01.test:disk0|lun" \
	"iscsi://%pw@127.0.0.1/iqn.2024-01.test:disk0/1|user" \
	"iscsi://fe80::1/iqn.2024-01.test:disk0/1|host"; do
	u=${case%|*} part=${case#*|}
	out=$($P "$u" info 2>&1); rc=$?
	check "bad URL '$u' exits 2 and names the $part" test $rc -eq 2 -a -n "$(grep -F "bad $part" <<<"$out")"
done

out=$($P -i $ini "${url%/1}/7" info 2>&1); rc=$?
check_eq "a missing LUN is 'notfound' (exit 8)" 8 $rc
check "... and the message names the LUN" grep -q "has no LUN 7" <<<"$out"
out=$($P -i $ini "${url%/1}/0" info 2>&1); rc=$?
check "LUN 0 (tgt's controller) is refused as not a disk" test $rc -eq 2 -a -n "$(grep 'not a disk' <<<"$out")"
out=$($P -i $ini "iscsi://127.0.0.1:$TGTD_PORT/iqn.2024-01.test:nosuch/1" info 2>&1); rc=$?
check "a missing target is 'notfound' with the target name" test $rc -eq 8 -a -n "$(grep 'iqn.2024-01.test:nosuch not found' <<<"$out")"
port=$(tgtd_free_port)
out=$($P -i $ini "iscsi://127.0.0.1:$port/iqn.2024-01.test:disk0/1" info 2>&1); rc=$?
check "an unreachable portal is an io error saying 'Connection refused'" test $rc -eq 4 -a -n "$(grep 'Connection refused' <<<"$out")"

# A dynamic VHD inside a LUN region through the block-layer backend
# (iscsi/blk_iscsi.c); qemu-img reads the region back as the oracle.
out=$($P -i $ini "$url" vhd 1048576 6291456 2>&1)
check_eq "a dynamic VHD is created, written and re-read in a LUN region" "vhd ok format=vhd-dynamic size=8390656" "$out"
dd if="$file" bs=1M skip=1 count=6 of="$scratch/region.vhd" status=none
if command -v qemu-img >/dev/null; then
	check "qemu-img reads the region as a VPC image" sh -c 'qemu-img info -f vpc "$1" >/dev/null' sh "$scratch/region.vhd"
	qemu-img convert -f vpc -O raw "$scratch/region.vhd" "$scratch/region.raw"
	check_eq "qemu-img sees sector 5000 written through iSCSI" " b2 b2 b2 b2" "$(od -An -tx1 -j $((5000 * 512)) -N 4 "$scratch/region.raw")"
	check_eq "... and sector 0" " a1 a1 a1 a1" "$(od -An -tx1 -N 4 "$scratch/region.raw")"
else
	skip "qemu-img oracle" "qemu-utils not installed"
fi
check_eq "the byte before the region is untouched" "uniform 0x00" "$($P -i $ini "$url" read 2047 1)"
out=$($P -i $ini "$url" vhd 1000 4096 2>&1); rc=$?
check "a misaligned region is refused (exit 2) with the reason" test $rc -eq 2 -a -n "$(grep 'aligned' <<<"$out")"

curl=$(tgtd_url 2 1)
out=$($P -i $ini "$curl" info 2>&1); rc=$?
check "CHAP target without credentials: login refused (exit 2)" test $rc -eq 2 -a -n "$(grep -i 'authentication failure' <<<"$out")"
out=$($P -i $ini "$(tgtd_url 2 1 alice wrong)" info 2>&1); rc=$?
check "wrong CHAP password: authentication failure" test $rc -eq 2 -a -n "$(grep -i 'authentication failure' <<<"$out")"
check "... and the password is not in the message" test -z "$(grep -F wrong <<<"$out")"
out=$($P -i $ini "$(tgtd_url 2 1 alice s3cret-pw)" write 0 1 0x11 + read 0 1 2>&1)
check_eq "right CHAP credentials: write and read work" "uniform 0x11" "$out"
done_testing
