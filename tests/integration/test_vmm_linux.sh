#!/usr/bin/env bash
# Debian 12's 686 kernel + busybox initramfs (docs/guest-linux.md) booted by
# our own vmm on the interpreter, with a dynamic VHD (havm vhd create) as the
# first virtio-blk disk and a small raw file as the second: waits for /init's
# HAVM-GUEST-READY marker, runs a scripted session on the serial console
# (shell arithmetic, uname, the FPU in /proc/cpuinfo, floating point in
# busybox seq, which adds doubles on the x87; Debian's busybox awk has no
# math support), makes ext2 file systems on both disks, writes files (one of
# ~2 MB, so the VHD allocates more than one 2 MiB block), syncs and halts the
# guest (`halt -f`: HLT with interrupts off ends vmm). The host then checks
# the VHD (`havm vhd check` clean, qemu-img reads it), converts it to raw
# with `havm vhd convert` and with qemu-img (the two must agree) and reads
# the files back with debugfs; the raw disk is read directly.
#
# One boot per run. HAVM_LINUX_REBOOT=1 adds the `reboot -f` round trip
# (8042 reset, vmm restarts the VM in place, second boot to the marker).
# Uses the release vmm (build/bin/vmm) when it is built: under ASan the
# ~1.4 G guest instructions to the marker take several minutes on the shared
# 2-core machine. HAVM_LINUX_VMM overrides the binary, HAVM_GUEST_BOOT_TIMEOUT
# (default 240 s) bounds each boot.
source "$(dirname "$0")/../lib/tap.sh"
gdir=$HAVM_TOP/build/guest/linux
vmm=${HAVM_LINUX_VMM:-}
if [[ -z $vmm ]]; then
	vmm=$HAVM_TOP/build/bin/vmm
	[[ -x $vmm ]] || vmm=$HAVM_BIN/vmm
fi
timeout_s=${HAVM_GUEST_BOOT_TIMEOUT:-240}

if [[ ! -x $vmm || ! -f $gdir/vmlinux || ! -f $gdir/initrd.img || ! -f $gdir/cmdline ]]; then
	skip "vmm Linux boot" "vmm or build/guest/linux is not built (make guest-linux)"
	done_testing
	exit
fi
if ! command -v python3 >/dev/null || ! command -v debugfs >/dev/null || ! command -v qemu-img >/dev/null; then
	skip "vmm Linux boot" "python3, debugfs (e2fsprogs) or qemu-img (qemu-utils) missing"
	done_testing
	exit
fi

havm=$HAVM_TOP/build/bin/havm
[[ -x $havm ]] || havm=$HAVM_BIN/havm
vhd=$scratch/disk.vhd
check "havm vhd create --type dynamic --size 32M" \
	"$havm" vhd create --type dynamic --size 32M "$vhd"
# 32 MiB rounds up to the CHS-exact 33562624 bytes (see havm vhd create)
vhd_sectors=$(($("$havm" vhd info --json "$vhd" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual_size"])') / 512))
check_eq "the new VHD is 65552 sectors (32 MiB, CHS-rounded)" 65552 "$vhd_sectors"
truncate -s 8M "$scratch/disk.img"
cat >"$scratch/linux.vmc" <<EOV
<vm name="linux-it">
  <memory unit="MiB">256</memory>
  <boot>
    <kernel>$gdir/vmlinux</kernel>
    <initrd>$gdir/initrd.img</initrd>
    <cmdline>$(cat "$gdir/cmdline")</cmdline>
  </boot>
  <disk path="$vhd" format="vhd"/>
  <disk path="$scratch/disk.img" format="raw"/>
  <serial port="com1" backend="socket" path="$scratch/serial.sock"/>
  <control path="$scratch/ctl.sock"/>
</vm>
EOV

"$vmm" run "$scratch/linux.vmc" >"$scratch/vmm.out" 2>"$scratch/vmm.err" </dev/null &
vmm_pid=$!
at_exit "kill $vmm_pid 2>/dev/null; wait $vmm_pid 2>/dev/null"
diag "vmm: $vmm (pid $vmm_pid)"

# The serial session: every step is bounded by the boot timeout; the
# transcript goes to $scratch/console.txt, results to $scratch/results.
python3 - "$scratch" "$timeout_s" "${HAVM_LINUX_REBOOT:-0}" >"$scratch/results" 2>"$scratch/session.err" <<'EOF'
import json, os, re, socket, sys, time
d, limit, reboot = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "1"
log = open(os.path.join(d, "console.txt"), "wb")
t0 = time.monotonic()

def connect(path):
    for _ in range(200):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            return s
        except OSError:
            time.sleep(0.05)
    raise SystemExit("no socket " + path)

ser = connect(os.path.join(d, "serial.sock"))
buf = b""

def wait_for(token, secs):
    global buf
    end = time.monotonic() + secs
    while token not in buf:
        left = end - time.monotonic()
        if left <= 0:
            return None
        ser.settimeout(min(left, 1.0))
        try:
            chunk = ser.recv(4096)
        except socket.timeout:
            continue
        if not chunk:
            return None
        log.write(chunk); log.flush()
        buf += chunk
    head, _, buf = buf.partition(token)
    return head

def status():
    c = connect(os.path.join(d, "ctl.sock"))
    c.sendall(b'{"cmd":"status"}\n')
    r = b""
    while not r.endswith(b"\n"):
        r += c.recv(4096)
    c.close()
    return json.loads(r)

n = 0
def run(cmd, secs=60):
    """Runs @cmd in the guest shell; returns its output lines."""
    global n
    n += 1
    mark = "HAVM-DONE-%d" % n
    # the marker is split so the echoed command line does not match it
    ser.sendall(("%s; echo HAVM-DONE-''%d\n" % (cmd, n)).encode())
    out = wait_for((mark + "\r\n").encode(), secs)
    if out is None:
        return None
    text = out.decode(errors="replace").replace("\r", "")
    # drop the echoed command line (the terminal may wrap it) and kernel messages
    # (a late one, e.g. the i8042 probe, may land after the prompt on its line)
    return [l for l in text.split("\n")
            if l.strip() and "HAVM-DONE-''" not in l and not l.startswith("[")
            and not re.search(r"\[ *[0-9]+\.[0-9]{6}\] ", l)][-8:]

def boot(tag):
    if wait_for(b"HAVM-GUEST-READY", limit) is None:
        print("%s_ready no" % tag); sys.exit(0)
    rest = wait_for(b"\n", 10) or b""
    st = status()
    print("%s_ready yes %s" % (tag, rest.decode().strip()))
    print("%s_wall %.1f" % (tag, time.monotonic() - t0))
    print("%s_insns %d" % (tag, st["instructions"]))
    wait_for(b"# ", 30)   # the shell prompt

boot("boot1")
print("arith", run("echo $((6*7))"))
print("uname", run("uname -r"))
print("cpuinfo", run("grep -E '^fpu[[:space:]]' /proc/cpuinfo"))
print("seq", run("seq -s ' ' 0.5 0.25 1.5"))
print("disks", run("cat /sys/block/vda/size /sys/block/vdb/size"))
print("mkfs", run("mke2fs -q /dev/vda >/dev/null && mount -t ext2 /dev/vda /mnt && "
                  "echo written-by-havm-guest > /mnt/hello.txt && mkdir /mnt/dir && "
                  "seq 1 300000 > /mnt/dir/seq.txt && umount /mnt && sync && echo fs-ok", 240))
print("mkfs2", run("mke2fs -q /dev/vdb >/dev/null && mount -t ext2 /dev/vdb /mnt && "
                   "echo raw-disk-file > /mnt/raw.txt && umount /mnt && sync && echo fs2-ok", 120))
if reboot:
    t0 = time.monotonic()
    ser.sendall(b"reboot -f\n")
    boot("boot2")
    print("resets", status()["counters"]["resets"])
    print("arith2", run("echo $((7*6))"))
ser.sendall(b"halt -f\n")
time.sleep(0.5)
print("end")
EOF
session=$?
results=$scratch/results
r() { sed -n "s/^$1 //p" "$results"; }

check_eq "serial session ran" 0 "$session"
check "boot 1: HAVM-GUEST-READY with no failed module" bash -c "grep -q '^boot1_ready yes.*modules_failed=0' '$results'"
diag "boot 1: $(r boot1_wall) s wall, $(r boot1_insns) instructions to the marker"
check_eq "shell arithmetic" "['42']" "$(r arith)"
kver=$(sed -n 's/^boot1_ready yes.*kernel=\([^ ]*\).*/\1/p' "$results")
check "the kernel is Debian's 686 flavour" bash -c "[[ '$kver' == *-686 ]]"
check_eq "uname -r" "['$kver']" "$(r uname)"
check_eq "/proc/cpuinfo reports an FPU" "['fpu\\t\\t: yes']" "$(r cpuinfo)"
check_eq "x87 in user space: seq 0.5 0.25 1.5" "['0.50 0.75 1.00 1.25 1.50']" "$(r seq)"
check_eq "virtio-blk disks seen: the VHD (65552 sectors), the raw file (16384)" "['65552', '16384']" "$(r disks)"
check "VHD disk: mke2fs, mount, write two files, umount, sync" bash -c "grep -q \"^mkfs .*'fs-ok'\\]\" '$results'"
check "raw disk: mke2fs, mount, write, umount, sync" bash -c "grep -q \"^mkfs2 .*'fs2-ok'\\]\" '$results'"
if [[ ${HAVM_LINUX_REBOOT:-0} == 1 ]]; then
	check "reboot -f: the guest boots again" bash -c "grep -q '^boot2_ready yes' '$results'"
	diag "boot 2: $(r boot2_wall) s wall after reboot -f"
	check_eq "vmm counted one guest reset" "1" "$(r resets)"
	check_eq "shell works after the reboot" "['42']" "$(r arith2)"
fi

# halt -f: HLT with interrupts off stops the VM and vmm exits (bounded wait)
for _ in $(seq 1 100); do kill -0 "$vmm_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$vmm_pid" 2>/dev/null; then
	not_ok "halt -f ends vmm"
else
	wait "$vmm_pid"
	check_eq "halt -f ends vmm (guest halted: exit 20)" 20 "$?"
fi

# The VHD the guest wrote: consistent, readable by qemu-img, and the files
# come back through both converters.
out=$("$havm" vhd check "$vhd" 2>&1)
check_eq "havm vhd check: exit 0 after the guest's writes" 0 "$?"
check "havm vhd check reports the VHD clean" grep -q ': clean (0 errors, 0 warnings' <<<"$out"
diag "$out"
blocks=$("$havm" vhd info --json "$vhd" | python3 -c 'import json,sys; print(json.load(sys.stdin)["allocated_blocks"])')
check "the guest's writes allocated more than one 2 MiB block ($blocks)" test "${blocks:-0}" -gt 1
qi=$(qemu-img info --output=json "$vhd" 2>&1)
check "qemu-img info reads it as vpc" grep -q '"format": "vpc"' <<<"$qi"
check "qemu-img info: virtual size 33562624" grep -q '"virtual-size": 33562624' <<<"$qi"
check "havm vhd convert --type raw" \
	bash -c "'$havm' vhd convert --type raw '$vhd' '$scratch/out.raw' >'$scratch/convert.out'"
diag "$(cat "$scratch/convert.out")"
check "qemu-img convert -f vpc -O raw" qemu-img convert -f vpc -O raw "$vhd" "$scratch/qemu.raw"
check "havm and qemu-img convert to the same raw bytes" cmp "$scratch/out.raw" "$scratch/qemu.raw"
check_eq "host reads the guest's file back from the VHD (debugfs)" "written-by-havm-guest" \
	"$(debugfs -R 'cat /hello.txt' "$scratch/out.raw" 2>/dev/null)"
check_eq "the 2 MB file matches seq 1 300000 byte for byte" "$(seq 1 300000 | md5sum)" \
	"$(debugfs -R 'cat /dir/seq.txt' "$scratch/out.raw" 2>/dev/null | md5sum)"
check "e2fsck -fn: the guest's ext2 on the VHD is consistent" \
	bash -c "e2fsck -fn '$scratch/out.raw' >'$scratch/e2fsck.out' 2>&1"
check_eq "host reads the guest's file back from the raw disk (debugfs)" "raw-disk-file" \
	"$(debugfs -R 'cat /raw.txt' "$scratch/disk.img" 2>/dev/null)"

if ((_tap_failed)); then
	diag "console tail:"; tail -n 30 "$scratch/console.txt" | sed 's/^/# /'
	diag "session errors:"; sed 's/^/# /' "$scratch/session.err"
	diag "vmm stderr:"; tail -n 10 "$scratch/vmm.err" | sed 's/^/# /'
fi
done_testing
