# A private tgtd (tgt's user-space iSCSI target) for one test: source it after
# tests/lib/tap.sh, then
#
#   tgtd_start                       # own IPC socket in $scratch, own -C port,
#                                    # portal on 127.0.0.1:<free port>
#   tgtd_target 1 iqn.2024-01.test:disk0
#   tgtd_lun 1 1 64                  # LUN 1 of tid 1: a sparse 64 MiB file
#   tgtd_bind 1 ALL                  # IP ACL (or: tgtd_bind_name 1 iqn...)
#   tgtd_chap 1 user secret          # optional: require CHAP on tid 1
#   url=$(tgtd_url 1 1 [user secret])
#   tgtd_sids 1 [initiator-iqn]      # session ids (TSIH) of the target
#   tgtd_drop 1 SID                  # fault: drop that session's connection
#
# tgtd ignores SIGTERM, so tgtd_stop (registered with at_exit) deletes every
# target, then the system, and SIGKILLs the PID if it is still there after a
# bounded wait. Everything here talks to 127.0.0.1 only.
# Variables set: TGTD_PID, TGTD_PORT (portal), TGTD_CTL (-C), TGTD_DIR.

# A TCP port nobody listens on (bounded search in the dynamic range).
tgtd_free_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

tgtd_adm() {
	TGT_IPC_SOCKET=$TGTD_DIR/sock tgtadm -C "$TGTD_CTL" --lld iscsi "$@"
}

tgtd_start() {
	command -v tgtd >/dev/null || { echo "tgtd_start: tgtd not installed (apt-get install tgt)" >&2; return 1; }
	TGTD_DIR=$scratch/tgtd
	mkdir -p "$TGTD_DIR"
	TGTD_PORT=$(tgtd_free_port) || { echo "tgtd_start: no free port" >&2; return 1; }
	# The control "port" only names the IPC socket file ($TGTD_DIR/sock.N);
	# a private directory already keeps instances apart.
	TGTD_CTL=$((TGTD_PORT % 1000 + 1))
	TGT_IPC_SOCKET=$TGTD_DIR/sock tgtd -f -C "$TGTD_CTL" \
		--iscsi "portal=127.0.0.1:$TGTD_PORT" >"$TGTD_DIR/tgtd.log" 2>&1 &
	TGTD_PID=$!
	at_exit tgtd_stop
	local i
	for ((i = 0; i < 100; i++)); do
		if tgtd_adm --op show --mode sys >/dev/null 2>&1 &&
			ss -Htln "sport = :$TGTD_PORT" | grep -q .; then
			return 0
		fi
		kill -0 "$TGTD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "tgtd_start: tgtd did not come up; log:" >&2
	cat "$TGTD_DIR/tgtd.log" >&2
	return 1
}

tgtd_stop() {
	[[ -n ${TGTD_PID:-} ]] || return 0
	if kill -0 "$TGTD_PID" 2>/dev/null; then
		local tid i
		for tid in $(tgtd_adm --op show --mode target 2>/dev/null | sed -n 's/^Target \([0-9]*\):.*/\1/p'); do
			tgtd_adm --op delete --mode target --tid "$tid" --force >/dev/null 2>&1
		done
		tgtd_adm --op delete --mode system >/dev/null 2>&1
		for ((i = 0; i < 30; i++)); do
			kill -0 "$TGTD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$TGTD_PID" 2>/dev/null
	fi
	wait "$TGTD_PID" 2>/dev/null
	TGTD_PID=
}

# tgtd_target TID IQN
tgtd_target() { tgtd_adm --op new --mode target --tid "$1" -T "$2"; }

# tgtd_lun TID LUN SIZE_MIB [bstype] — backing file $TGTD_DIR/t<TID>l<LUN>.img
tgtd_lun() {
	local f=$TGTD_DIR/t$1l$2.img
	truncate -s "${3}M" "$f" &&
		tgtd_adm --op new --mode logicalunit --tid "$1" --lun "$2" -b "$f" --bstype "${4:-rdwr}"
}
tgtd_lun_file() { echo "$TGTD_DIR/t$1l$2.img"; }

# tgtd_bind TID ADDR|ALL — IP ACL; tgtd_bind_name TID IQN — initiator-name ACL
tgtd_bind() { tgtd_adm --op bind --mode target --tid "$1" -I "$2"; }
tgtd_bind_name() { tgtd_adm --op bind --mode target --tid "$1" --initiator-name "$2"; }

# tgtd_chap TID USER PASSWORD — the target then refuses logins without CHAP
tgtd_chap() {
	tgtd_adm --op new --mode account --user "$2" --password "$3" &&
		tgtd_adm --op bind --mode account --tid "$1" --user "$2"
}

# tgtd_url TID LUN [USER PASSWORD]
tgtd_url() {
	local iqn auth=
	iqn=$(tgtd_adm --op show --mode target | sed -n "s/^Target $1: \(.*\)$/\1/p")
	[[ -n ${3:-} ]] && auth="$3%$4@"
	echo "iscsi://${auth}127.0.0.1:$TGTD_PORT/$iqn/$2"
}

# tgtd_sids TID [INITIATOR] — one session id per line, optionally only the
# sessions of one initiator name
tgtd_sids() {
	tgtd_adm --op show --mode target | awk -v tid="$1" -v ini="${2:-}" '
		/^Target [0-9]+:/ { t = ($2 == tid ":") }
		t && /I_T nexus:/ { sid = $3 }
		t && /Initiator:/ && sid != "" { if (ini == "" || $2 == ini) print sid; sid = "" }'
}

# tgtd_drop TID SID — drop the session's connection from the target side
# (what a failed switch port looks like; libiscsi then reconnects)
tgtd_drop() { tgtd_adm --op delete --mode conn --tid "$1" --sid "$2" --cid 0; }
