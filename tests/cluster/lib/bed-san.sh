# The bed's SAN: one tgtd in netns rt-$BED_ID-san on the switch, address
# BED_NET.BED_SAN_HOST, portal port 3260, one target whose LUNs are sparse
# files under $BED_DIR/san. Sourced by bed.sh.
#
# tgtd ignores SIGTERM; teardown SIGKILLs it by PID (its state is in memory
# only, so nothing is lost that a test could want).

: "${BED_SAN_IQN:=iqn.2026-11.org.havm:bed.san}"
: "${BED_SAN_CPORT:=7}" # tgtd/tgtadm control port; the socket path is per bed anyway

# bed_san_up: start the SAN (idempotent). Sets BED_SAN_IP, BED_SAN_PORTAL,
# BED_SAN_URL (iscsi://ip:3260/iqn; append /<lun>).
bed_san_up() {
	local ns=rt-$BED_ID-san d=$BED_DIR/san pid
	BED_SAN_IP=$BED_NET.$BED_SAN_HOST
	BED_SAN_PORTAL=$BED_SAN_IP:3260
	BED_SAN_URL=iscsi://$BED_SAN_PORTAL/$BED_SAN_IQN
	export BED_SAN_IP BED_SAN_PORTAL BED_SAN_URL BED_SAN_IQN
	if [[ -f $d/tgtd.pid ]] && kill -0 "$(<"$d/tgtd.pid")" 2>/dev/null; then return 0; fi
	mkdir -p "$d"
	if ! ip netns list | grep -q "^$ns\b"; then
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		ip -n "$BED_SW" link add psan type veth peer name eth0 netns "$ns" || return 1
		ip -n "$BED_SW" link set psan master br0 up
		ip -n "$ns" addr add "$BED_SAN_IP/24" dev eth0
		ip -n "$ns" link set eth0 up
	fi
	TGT_IPC_SOCKET=$d/sock ip netns exec "$ns" \
		tgtd -f -C "$BED_SAN_CPORT" --iscsi "portal=$BED_SAN_PORTAL" \
		</dev/null >>"$d/tgtd.log" 2>&1 &
	pid=$!
	disown "$pid"
	_bed_record "$pid" tgtd san
	echo "$pid" >"$d/tgtd.pid"
	bed_poll 10 0.1 bed_san_tgtadm --op show --mode sys >/dev/null 2>&1 ||
		{ bed_die "tgtd did not answer (see $d/tgtd.log)"; return 1; }
	bed_san_tgtadm --op new --mode target --tid 1 -T "$BED_SAN_IQN" || return 1
	bed_san_tgtadm --op bind --mode target --tid 1 -I ALL || return 1
	bed_log "SAN up at $BED_SAN_PORTAL ($BED_SAN_IQN)"
}

# bed_san_tgtadm args...: tgtadm against the bed's tgtd.
bed_san_tgtadm() {
	TGT_IPC_SOCKET=$BED_DIR/san/sock tgtadm -C "$BED_SAN_CPORT" --lld iscsi "$@"
}

# bed_san_lun NAME SIZE_MB: add a sparse file-backed LUN; prints its number.
bed_san_lun() {
	local name=$1 mb=$2 d=$BED_DIR/san lun
	[[ -e $d/$name.img ]] && { bed_die "LUN $name exists"; return 1; }
	lun=$(($(cat "$d/luns" 2>/dev/null || echo 0) + 1))
	truncate -s "${mb}M" "$d/$name.img" || return 1
	bed_san_tgtadm --op new --mode logicalunit --tid 1 --lun "$lun" \
		-b "$d/$name.img" --bstype rdwr >/dev/null || return 1
	echo "$lun" >"$d/luns"
	echo "$lun"
}

# bed_san_down: stop tgtd (SIGKILL by PID) and delete the SAN namespace.
bed_san_down() {
	local d=$BED_DIR/san
	[[ -f $d/tgtd.pid ]] && kill -KILL "$(<"$d/tgtd.pid")" 2>/dev/null
	rm -f "$d/tgtd.pid"
	_bed_del_netns_prefix "rt-$BED_ID-san"
}
