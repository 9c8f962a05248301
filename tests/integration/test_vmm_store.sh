#!/usr/bin/env bash
# A VM whose .vmc, .vhd and .vsv live in a store on a LUN (real tgtd, over
# iSCSI) and in a file: store (docs/store.md, docs/save-restore.md):
#  - `vmm run --store URL web1.vmc` boots the recorder guest from the store,
#    its disk store="web1.vhd" is the VHD object; records reach the disk;
#  - save writes web1.vsv into the store (atomic replace); a fresh vmm in
#    another working directory restores from it: the acks go on (no reboot,
#    guest ticks continue), later records land after the saved ones;
#  - the same .vsv over the disk that has moved on is refused (the write
#    generation: the partition GUID changed), nothing runs;
#  - a save killed mid-way (fault point crash) leaves the previous .vsv
#    usable: the ticker restores from it and counts on;
#  - a live pre-copy migration into the store, restored;
#  - the same on a dir: store;
#  - a store disk without --store is a clear config error.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
vmm=$HAVM_BIN/vmm
havm=$HAVM_BIN/havm
guests=$HAVM_TOP/build/guests

if [[ ! -x $vmm || ! -f $guests/recorder.bin || ! -f $guests/ticker.bin ]]; then
	skip "vmm store tests" "vmm or the test guests are not built (make check-build)"
	done_testing
	exit
fi
cp "$vmm" "$havm" "$scratch/" # immune to rebuilds mid-run
vmm=$scratch/vmm
havm=$scratch/havm

field() { grep -o "\"$1\":\"\\?[^,\"}]*" <<<"$2" | head -1 | sed 's/.*:"\?//'; }
wait_for() { local n=$(($1 * 10)); shift; while ((n-- > 0)); do "$@" && return 0; sleep 0.1; done; return 1; }
gone() { ! kill -0 "$1" 2>/dev/null; }
last_ack() { grep -o '^ack [0-9]*' "$1" | tail -1 | cut -d' ' -f2; }
first_ack() { grep -o '^ack [0-9]*' "$1" | head -1 | cut -d' ' -f2; }
ack_at_least() { local t; t=$(last_ack "$1"); [[ -n $t ]] && ((t >= $2)); }
last_tick() { grep -o '^tick [0-9]*' "$1" | tail -1 | cut -d' ' -f2; }
first_tick() { grep -o '^tick [0-9]*' "$1" | head -1 | cut -d' ' -f2; }
tick_at_least() { local t; t=$(last_tick "$1"); [[ -n $t ]] && ((t >= $2)); }

# start NAME URL CONFIG [vmm args...]: sets pid_NAME; serial NAME.out, log NAME.err.
start() {
	local name=$1 url=$2 cfg=$3
	shift 3
	"$vmm" run --store "$url" "$cfg" --control "$scratch/$name.sock" "$@" \
		>"$scratch/$name.out" 2>"$scratch/$name.err" </dev/null &
	local pid=$!
	printf -v "pid_$name" '%s' "$pid"
	at_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
}
ctl() { printf '%s\n' "$2" | socat -t 120 - "UNIX-CONNECT:$scratch/$1.sock"; }
quit() { ctl "$1" '{"cmd":"quit"}' >/dev/null; local p="pid_$1"; wait_for 10 gone "${!p}"; }

mkvmc() { # name image [disk xml]
	cat >"$scratch/$1.vmc" <<EOV
<vm name="$1"><memory unit="MiB">4</memory>
<boot><image load="0x100000">$2</image></boot>$3
<serial port="com1" backend="stdio"/></vm>
EOV
}

# scenario TAG URL: the whole flow on one store.
scenario() {
	local t=$1 url=$2
	$havm store format "$url" >/dev/null
	check "$t: store formatted" test $? -eq 0
	$havm vhd create -t dynamic -s 8M "$scratch/$t-rec.vhd" >/dev/null 2>&1
	mkvmc web1 "$guests/recorder.bin" '<disk store="web1.vhd" format="vhd"/>'
	mkvmc tick1 "$guests/ticker.bin"
	$havm store import "$url" "$scratch/$t-rec.vhd" web1.vhd >/dev/null &&
		$havm store import "$url" "$scratch/web1.vmc" >/dev/null &&
		$havm store import "$url" "$scratch/tick1.vmc" >/dev/null
	check "$t: .vmc and .vhd imported" test $? -eq 0

	# --- boot from the store -------------------------------------------------
	start "${t}a" "$url" web1.vmc
	local a=$scratch/${t}a.out
	check "$t: the recorder boots from the store and acks records" wait_for 60 ack_at_least "$a" 5
	check "$t: first boot of the disk" grep -q '^recorder: boot 1 next 0' "$a"
	local r
	r=$(ctl "${t}a" '{"cmd":"save","path":"web1.vsv"}')
	check_eq "$t: save into the store: ok" true "$(field ok "$r")"
	local saved
	saved=$(last_ack "$a")
	check_eq "$t: save: state off, reason saved" "off saved" \
		"$(r=$(ctl "${t}a" '{"cmd":"status"}'); echo "$(field state "$r") $(field stop_reason "$r")")"
	quit "${t}a"
	check "$t: the .vsv is an object of kind vsv" grep -q '"name":"web1.vsv","kind":"vsv"' \
		<<<"$($havm store ls --json "$url" | tr -d ' \n')"
	rm -f "$scratch/$t-first.vsv"
	$havm store export "$url" web1.vsv "$scratch/$t-first.vsv"
	check "$t: the saved .vsv verifies (havm vsv info --verify)" \
		bash -c "'$havm' vsv info --verify '$scratch/$t-first.vsv' >/dev/null"

	# --- restore in a fresh process elsewhere --------------------------------
	mkdir -p "$scratch/$t-elsewhere"
	pushd "$scratch/$t-elsewhere" >/dev/null || return
	start "${t}b" "$url" web1.vmc --restore web1.vsv
	popd >/dev/null || return
	local b=$scratch/${t}b.out
	check "$t: restored: the acks go on past the saved one" wait_for 60 ack_at_least "$b" $((saved + 3))
	check_eq "$t: restored: the first ack is the one after the saved one" $((saved + 1)) "$(first_ack "$b")"
	check_fails "$t: restored: no reboot (no boot line)" grep -q '^recorder: boot' "$b"
	check_eq "$t: status says restored" true "$(field restored "$(ctl "${t}b" '{"cmd":"status"}')")"
	# A checkpoint, then the guest writes on: the checkpoint is stale.
	r=$(ctl "${t}b" '{"cmd":"checkpoint","path":"ck.vsv"}')
	check_eq "$t: checkpoint into the store: ok" true "$(field ok "$r")"
	local ck=$(last_ack "$b")
	check "$t: ... the guest writes on after it" wait_for 30 ack_at_least "$b" $((ck + 2))
	quit "${t}b"
	# Records on the disk object: the saved ones and those written after the restore.
	$havm store export --raw "$url" web1.vhd "$scratch/$t-disk.raw"
	local last=$(last_ack "$b")
	check_eq "$t: the disk holds the last acked record, written by boot 1" "HAVMREC seq=$last boot=1" \
		"$(dd if="$scratch/$t-disk.raw" bs=512 skip=$((last + 1)) count=1 2>/dev/null | tr -d '\0' | head -1)"

	# --- the same .vsv over the moved-on disk is refused ---------------------
	"$vmm" run --store "$url" web1.vmc --restore web1.vsv >"$scratch/$t-stale.out" 2>"$scratch/$t-stale.err" </dev/null
	local rc=$?
	check_eq "$t: stale .vsv: refused with exit 9 (state)" 9 "$rc"
	check "$t: stale .vsv: the error says the disk moved on (its write generation)" \
		grep -q 'disk vda has moved on since the save' "$scratch/$t-stale.err"
	check_fails "$t: stale .vsv: nothing ran" grep -q '^ack' "$scratch/$t-stale.out"
	"$vmm" run --store "$url" web1.vmc --restore ck.vsv >"$scratch/$t-ck.out" 2>"$scratch/$t-ck.err" </dev/null
	check_eq "$t: a checkpoint whose disk was written after it: refused, exit 9" 9 "$?"
	check "$t: ... the disk moved on" grep -q 'disk vda has moved on since the save' "$scratch/$t-ck.err"

	# --- a save killed mid-way leaves the previous .vsv ------------------------
	start "${t}c" "$url" tick1.vmc
	check "$t: ticker from the store" wait_for 30 tick_at_least "$scratch/${t}c.out" 3
	r=$(ctl "${t}c" '{"cmd":"save","path":"tick1.vsv"}')
	check_eq "$t: ticker saved" true "$(field ok "$r")"
	local tsaved=$(last_tick "$scratch/${t}c.out")
	quit "${t}c"
	$havm store export "$url" tick1.vsv "$scratch/$t-tick-before.vsv"
	if [[ $HAVM_BIN == */asan/* ]]; then
		# LUN: the store's replace writes; dir: the vsv writer's own file.
		local fault=store.replace_write:2:crash
		[[ $url == dir:* ]] && fault=vsv.section_written:2:crash
		HAVM_FAULT_AT=$fault start "${t}d" "$url" tick1.vmc --restore tick1.vsv
		check "$t: ticker restored" wait_for 30 tick_at_least "$scratch/${t}d.out" $((tsaved + 2))
		local pd
		pd=$(pid_of "${t}d")
		ctl "${t}d" '{"cmd":"save","path":"tick1.vsv"}' >/dev/null
		check "$t: the vmm died in the middle of writing the new .vsv" wait_for 10 gone "$pd"
		kill -9 "$pd" 2>/dev/null; wait "$pd" 2>/dev/null
		rm -f "$scratch/$t-tick-after.vsv"
		$havm store export "$url" tick1.vsv "$scratch/$t-tick-after.vsv"
		check "$t: killed save: the previous .vsv is there, byte for byte" \
			cmp -s "$scratch/$t-tick-before.vsv" "$scratch/$t-tick-after.vsv"
		start "${t}e" "$url" tick1.vmc --restore tick1.vsv
		check "$t: killed save: the previous .vsv restores and counts on" \
			wait_for 30 tick_at_least "$scratch/${t}e.out" $((tsaved + 2))
		check_eq "$t: killed save: from the tick after the saved one" $((tsaved + 1)) \
			"$(first_tick "$scratch/${t}e.out")"
		quit "${t}e"
		[[ $url == file:* ]] && check "$t: sgdisk -v is clean after the killed save" \
			grep -q "No problems found" <<<"$(sgdisk -v "${url#file:}" 2>&1)"
		# Live pre-copy into the store while the guest runs (the .vsv
		# writer's own session beside the disk's), then restore it.
		start "${t}f" "$url" tick1.vmc --restore tick1.vsv
		wait_for 30 tick_at_least "$scratch/${t}f.out" $((tsaved + 2))
		r=$(ctl "${t}f" '{"cmd":"migrate","path":"tick1.vsv"}')
		check_eq "$t: migrate (pre-copy) into the store: ok" true "$(field ok "$r")"
		local mig=$(last_tick "$scratch/${t}f.out")
		quit "${t}f"
		start "${t}g" "$url" tick1.vmc --restore tick1.vsv
		check "$t: ... restored from the migrated .vsv, the ticker counts on" \
			wait_for 30 tick_at_least "$scratch/${t}g.out" $((mig + 2))
		check_eq "$t: ... from the tick after the migrated one" $((mig + 1)) "$(first_tick "$scratch/${t}g.out")"
		quit "${t}g"
	else
		skip "$t: killed save" "needs the ASan build with fault points"
	fi
}

pid_of() { local p="pid_$1"; echo "${!p}"; }

# --- file: store (an image file standing in for a LUN) -------------------------------
truncate -s 64M "$scratch/store.img"
scenario file "file:$scratch/store.img"

# --- dir: store (a directory: every object a file) --------------------------------------
scenario dir "dir:$scratch/dirstore"

# --- a LUN on a real tgtd -------------------------------------------------------------
if tgtd_start; then
	tgtd_target 1 iqn.2024-01.test:vmstore && tgtd_lun 1 1 64 && tgtd_bind 1 ALL
	scenario lun "$(tgtd_url 1 1)"
else
	not_ok "tgtd starts"
fi

# --- a store disk without --store -----------------------------------------------------
mkvmc nostore "$guests/recorder.bin" '<disk store="web1.vhd" format="vhd"/>'
out=$("$vmm" run "$scratch/nostore.vmc" 2>&1 </dev/null); rc=$?
check_eq "store disk without --store: exit 2 (config)" 2 "$rc"
check "... and the message says to use --store" grep -q -- '--store' <<<"$out"

done_testing
