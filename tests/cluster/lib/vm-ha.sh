# The recorder VM in the bed: shared by tests/cluster/test_vm_ha.sh and
# tests/cluster/demo.sh. Sourced after bed.sh.
#
# The VM (tests/guests/recorder.c) writes record N to sector N+1 of a raw
# disk in $VMHA_STORE (the host filesystem, which every node sees) and prints
# "ack N BOOT T" on COM1 once the write and the flush succeeded. COM1 is a
# unix socket in the *node's own* /run (a shared path would be unlinked by
# the old vmm when it exits after the new one started, as in a migration);
# one collector per node connects to it through the node's anchor
# (/proc/ANCHOR/root/run/...) and appends "<epoch ms> nK <line>" to
# $VMHA_SERIAL. Afterwards vmha_lost_records lists every acknowledged record
# that is not on the disk.

: "${VMHA_VM:=rec1}"
: "${VMHA_RSC:=vm1}"

# vmha_setup STOP_POLICY [LUN FILE]: the store directory, disk, .vmc and the
# Pacemaker resource (not started until Pacemaker places it). With LUN (a
# bed_san_lun number) and FILE (its backing file) the disk is that SAN LUN (iscsi:// URL, pr_key=cmap:
# the vmm registers under the node's fence_havm key and stops the VM when
# fenced) and VMHA_DISK is the LUN's backing file; else a raw file.
vmha_setup() {
	local policy=${1:-save} lun=${2:-} disk extra=""
	VMHA_STORE=$BED_DIR/store
	VMHA_SERIAL=$BED_DIR/serial-$VMHA_VM.log
	mkdir -p "$VMHA_STORE"
	: >"$VMHA_SERIAL"
	if [[ -n $lun ]]; then
		disk=$BED_SAN_URL/$lun
		VMHA_DISK=$3
		extra="<nvpair id=\"$VMHA_RSC-prkey\" name=\"pr_key\" value=\"cmap\"/>"
	else
		VMHA_DISK=$VMHA_STORE/$VMHA_VM.raw
		truncate -s 8M "$VMHA_DISK"
		disk=$VMHA_DISK
	fi
	cat >"$VMHA_STORE/$VMHA_VM.vmc" <<VMC
<vm name="$VMHA_VM">
  <memory unit="MiB">4</memory>
  <boot><image load="0x100000">$HAVM_TOP/build/guests/recorder.bin</image></boot>
  <disk path="$disk" format="raw"/>
  <serial port="com1" backend="socket" path="/run/$VMHA_VM.serial"/>
</vm>
VMC
	_vmha_primitive "$policy" "$extra"
}

# vmha_setup_linux STOP_POLICY [MEM_MIB=256]: the Linux variant of
# vmha_setup: Debian's 686 kernel with the demo initramfs
# (guest/linux/demo-init.in, `make guest-linux`) and a 32 MiB dynamic VHD
# in $VMHA_STORE. The guest makes ext2 on the blank disk and prints the same
# "ack SEQ BOOT T" lines as the recorder (T = its uptime in ms) once each
# record is synced to /records there; vmha_lost_records reads that file.
vmha_setup_linux() {
	local policy=${1:-save} mem=${2:-256} g=$HAVM_TOP/build/guest/linux
	VMHA_STORE=$BED_DIR/store
	VMHA_SERIAL=$BED_DIR/serial-$VMHA_VM.log
	VMHA_DISK=$VMHA_STORE/$VMHA_VM.vhd
	VMHA_KIND=linux
	mkdir -p "$VMHA_STORE"
	: >"$VMHA_SERIAL"
	"$BED_BUILD/bin/havm" vhd create --type dynamic --size 32M "$VMHA_DISK" >/dev/null || return 1
	cat >"$VMHA_STORE/$VMHA_VM.vmc" <<VMC
<vm name="$VMHA_VM">
  <memory unit="MiB">$mem</memory>
  <boot>
    <kernel>$g/vmlinux</kernel>
    <initrd>$g/demo-initrd.img</initrd>
    <cmdline>$(cat "$g/cmdline") quiet</cmdline>
  </boot>
  <disk path="$VMHA_DISK" format="vhd"/>
  <serial port="com1" backend="socket" path="/run/$VMHA_VM.serial"/>
</vm>
VMC
	_vmha_primitive "$policy" ""
}

# _vmha_primitive STOP_POLICY EXTRA_NVPAIRS: the Pacemaker resource of the
# VM in $VMHA_STORE (not started until Pacemaker places it).
_vmha_primitive() {
	local policy=$1 extra=$2
	bed_crm 1 cibadmin --create -o resources --xml-text \
		"<primitive id=\"$VMHA_RSC\" class=\"ocf\" provider=\"havm\" type=\"VirtualServer\">
	  <instance_attributes id=\"$VMHA_RSC-ia\">
	    <nvpair id=\"$VMHA_RSC-config\" name=\"config\" value=\"$VMHA_VM\"/>
	    <nvpair id=\"$VMHA_RSC-store\" name=\"store\" value=\"dir:$VMHA_STORE\"/>
	    <nvpair id=\"$VMHA_RSC-policy\" name=\"stop_policy\" value=\"$policy\"/>
	    $extra
	  </instance_attributes>
	  <meta_attributes id=\"$VMHA_RSC-meta\">
	    <nvpair id=\"$VMHA_RSC-stick\" name=\"resource-stickiness\" value=\"100\"/>
	  </meta_attributes>
	  <operations>
	    <op id=\"$VMHA_RSC-start\" name=\"start\" interval=\"0\" timeout=\"60s\"/>
	    <op id=\"$VMHA_RSC-stop\" name=\"stop\" interval=\"0\" timeout=\"60s\"/>
	    <op id=\"$VMHA_RSC-mon0\" name=\"monitor\" interval=\"3s\" timeout=\"20s\"/>
	    <op id=\"$VMHA_RSC-mon10\" name=\"monitor\" interval=\"5s\" timeout=\"20s\">
	      <instance_attributes id=\"$VMHA_RSC-mon10-ia\">
	        <nvpair id=\"$VMHA_RSC-mon10-level\" name=\"OCF_CHECK_LEVEL\" value=\"10\"/>
	      </instance_attributes>
	    </op>
	    <op id=\"$VMHA_RSC-mt\" name=\"migrate_to\" interval=\"0\" timeout=\"60s\"/>
	    <op id=\"$VMHA_RSC-mf\" name=\"migrate_from\" interval=\"0\" timeout=\"60s\"/>
	  </operations>
	 </primitive>"
}

# vmha_probe K RSC (a bed_sample_start probe): node K really runs the VM: its
# own /run/havm/VM/vmm.pid names a live process called vmm, K not frozen.
vmha_probe() {
	local anchor pid
	anchor=$(bed_anchor "$1") || return 1
	pid=$(cut -d' ' -f1 "/proc/$anchor/root/run/havm/$VMHA_VM/vmm.pid" 2>/dev/null) || return 1
	[[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == vmm ]] || return 1
	# The vmm itself must be able to run: a stopped (T/t), dying or zombie
	# process is not running the VM. Looking at the node's anchor instead
	# raced with bed_kill_node, which kills the anchor of a frozen node
	# before its (still stopped) vmm.
	local state
	state=$(sed -E 's/^[0-9]+ \(.*\) (.).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
	[[ $state != [TtZX] ]] && ! bed_frozen "$1" || return 1
	# In a live migration both vmm processes live for a while: the target's
	# waits (--incoming) until the source hands the guest over, the source's
	# quits just after. The vmm's own log says when its guest runs
	# ("running (") and when it handed it over ("migrated to").
	local log=/proc/$anchor/root/run/havm/$VMHA_VM/vmm.log
	grep -q "^vmm\[$pid\] .*: running (" "$log" 2>/dev/null &&
		! grep -q "^vmm\[$pid\] .*: migrated to " "$log" 2>/dev/null
}

# vmha_collect_start [MAX_S=900]: one bounded collector loop per node.
vmha_collect_start() {
	local max=${1:-900} k
	VMHA_COLLECTORS=()
	for k in $(seq 1 "$BED_NODES"); do
		(
			end=$((SECONDS + max))
			while ((SECONDS < end)); do
				if a=$(bed_anchor "$k") && [[ -S /proc/$a/root/run/$VMHA_VM.serial ]]; then
					socat -u "UNIX-CONNECT:/proc/$a/root/run/$VMHA_VM.serial" - 2>/dev/null |
						while IFS= read -r l || [[ -n $l ]]; do
							t=${EPOCHREALTIME/./}
							printf '%s n%s %s\n' "${t:0:13}" "$k" "$l"
						done >>"$VMHA_SERIAL"
				fi
				sleep 0.1
			done
		) </dev/null >/dev/null 2>&1 &
		VMHA_COLLECTORS+=("$!")
	done
}

# vmha_collect_stop: stop the collectors and their socat children (by PID).
vmha_collect_stop() {
	local p c
	for p in "${VMHA_COLLECTORS[@]}"; do
		for c in $(pgrep -P "$p" 2>/dev/null); do
			pkill -P "$c" 2>/dev/null
			kill "$c" 2>/dev/null
		done
		kill "$p" 2>/dev/null
	done
	VMHA_COLLECTORS=()
}

# vmha_acks: "<ms> <node> <seq> <boot> <t>" for every whole ack line.
vmha_acks() {
	awk '{ sub(/\r$/, "") } NF == 6 && $3 == "ack" && $4 ~ /^[0-9]+$/ && $5 ~ /^[0-9]+$/ && $6 ~ /^[0-9]+$/ \
		{ print $1, $2, $4, $5, $6 }' "$VMHA_SERIAL"
}

# vmha_ack_count: how many records the guest saw acknowledged.
vmha_ack_count() { vmha_acks | wc -l; }

# vmha_boots: "recorder: boot" lines seen (one per fresh boot of the guest).
vmha_boots() { grep -c ' recorder: boot ' "$VMHA_SERIAL"; }

# vmha_lost_records: "seq boot" of every acknowledged record that is not on
# the disk as written (missing, or overwritten by another boot).
vmha_lost_records() {
	local acked ondisk
	acked=$(vmha_acks | awk '{ print $3, $4 }' | sort -u)
	if [[ ${VMHA_KIND:-} == linux ]]; then
		ondisk=$(vmha_linux_records | awk '{ print $1, $2 }' | sort -u)
	else
		ondisk=$(tr -d '\0' <"$VMHA_DISK" | grep -a '^HAVMREC ' |
			sed -n 's/^HAVMREC seq=\([0-9]*\) boot=\([0-9]*\)$/\1 \2/p' | sort -u)
	fi
	comm -23 <(echo "$acked") <(echo "$ondisk") | grep -v '^$'
}

# vmha_linux_records: the Linux guest's /records ("SEQ BOOT T" lines) as
# the VHD holds it, read with the VM stopped: havm vhd convert to a raw
# image, then debugfs (no mount, nothing written).
vmha_linux_records() {
	local raw=$BED_DIR/$VMHA_VM-read.raw
	"$BED_BUILD/bin/havm" vhd convert --type raw "$VMHA_DISK" "$raw" >/dev/null 2>&1 || return 1
	debugfs -R 'cat /records' "$raw" 2>/dev/null | awk 'NF == 3'
	rm -f "$raw"
}

# vmha_acks_after MS [NODE]: at least one ack stamped after MS (from NODE).
vmha_acks_after() {
	vmha_acks | awk -v t="$1" -v n="${2:-}" '$1 > t && (n == "" || $2 == n) { f = 1 } END { exit !f }'
}

# vmha_wait_acks_after MS [T=30] [NODE]
vmha_wait_acks_after() { bed_poll "${2:-30}" 0.2 vmha_acks_after "$1" "${3:-}"; }

# vmha_handoff MS -> "OLD OLD_LAST_MS OLD_BOOT OLD_T NEW NEW_FIRST_MS NEW_BOOT NEW_T":
# the node whose ack came last before MS, its last ack (also after MS: a
# stop takes time), and the first ack after MS from another node. Empty if
# the VM has not acknowledged anything on another node since MS.
vmha_handoff() {
	vmha_acks | awk -v t="$1" '
		$1 <= t { on = $2; ol = $1; ob = $4; ot = $5; next }
		on != "" && $2 == on && nn == "" { ol = $1; ob = $4; ot = $5; next }
		on != "" && $2 != on && nn == "" { nn = $2; nf = $1; nb = $4; nt = $5 }
		END { if (nn != "") print on, ol, ob, ot, nn, nf, nb, nt }'
}

# vmha_stall MS: how far the guest's own schedule slipped at the handover
# after MS, in ms: the gap between the last ack on the old node and the
# first on the new one, minus the 100 ms of guest time per record between
# them (by record number; an ack line lost on the way is not counted as
# downtime). Nothing when there was no handover.
vmha_stall() {
	vmha_acks | awk -v t="$1" '
		$1 <= t { on = $2; ol = $1; os = $3; next }
		on != "" && $2 == on && nn == "" { ol = $1; os = $3; next }
		on != "" && $2 != on && nn == "" { nn = $2; nf = $1; ns = $3 }
		END { if (nn != "") print (nf - ol) - (ns - os) * 100 }'
}

# vmha_wait_handoff MS [T=60]: until vmha_handoff MS says something.
vmha_wait_handoff() {
	_vmha_has_handoff() { [[ -n $(vmha_handoff "$1") ]]; }
	bed_poll "${2:-60}" 0.2 _vmha_has_handoff "$1"
}

# vmha_timeline T0_MS: the sampler's placement changes as "+S.s  nodes" lines.
vmha_timeline() {
	awk -v t0="$1" '{ n = ""; for (i = 2; i <= NF; i++) n = n (n ? "+" : "") $i; if (n == "") n = "(nowhere)" }
		n != last { printf "  +%6.1fs  %s\n", ($1 - t0) / 1000, n; last = n }' \
		"$BED_DIR/sample-$VMHA_RSC.log"
}

# vmha_advertises ACTION: the installed agent's meta-data lists ACTION.
vmha_advertises() {
	"$BED_BUILD/ocf/havm/VirtualServer" meta-data 2>/dev/null | grep -q "<action name=\"$1\""
}
