#!/usr/bin/env bash
# Live migration of a running Linux guest that writes its disk, vmm to vmm
# over TCP on loopback (docs/save-restore.md "Live migration"): Debian's
# 686 kernel + busybox initramfs (docs/guest-linux.md), 256 MiB, an ext2
# file system on a dynamic VHD that both vmm processes share, and a shell
# loop appending a counter to a file there with sync every second:
#  - the target `vmm run --incoming tcp:127.0.0.1:PORT` waits; `migrate`
#    with "socket" on the source's control socket pre-copies RAM while the
#    guest keeps writing its disk, and pauses it only for the last pass:
#    the disk generation the target checks is the one at that pass (the
#    final disks record, docs/vsv.md), so no stop-and-copy restart;
#  - the counter goes on in the target (no reboot), the reported downtime
#    is printed (a diag: timing is for benches, not asserted);
#  - finally the guest stops the loop, unmounts, halts; the host reads the
#    file back from the VHD: exactly 1..N, N = the last counter printed;
#    e2fsck clean.
# Uses the release vmm (build/bin/vmm) when built; HAVM_LINUX_VMM overrides,
# HAVM_GUEST_BOOT_TIMEOUT (default 240 s) bounds the boot.
source "$(dirname "$0")/../lib/tap.sh"
gdir=$HAVM_TOP/build/guest/linux
vmm=${HAVM_LINUX_VMM:-}
if [[ -z $vmm ]]; then
	vmm=$HAVM_TOP/build/bin/vmm
	[[ -x $vmm ]] || vmm=$HAVM_BIN/vmm
fi
havm=$HAVM_TOP/build/bin/havm
[[ -x $havm ]] || havm=$HAVM_BIN/havm
timeout_s=${HAVM_GUEST_BOOT_TIMEOUT:-240}

if [[ ! -x $vmm || ! -x $havm || ! -f $gdir/vmlinux || ! -f $gdir/initrd.img || ! -f $gdir/cmdline ]]; then
	skip "vmm Linux live migration" "vmm, havm or build/guest/linux is not built (make guest-linux)"
	done_testing
	exit
fi
if ! command -v python3 >/dev/null || ! command -v debugfs >/dev/null || ! command -v e2fsck >/dev/null; then
	skip "vmm Linux live migration" "python3 or e2fsprogs (debugfs, e2fsck) missing"
	done_testing
	exit
fi

mkdir -p "$scratch/vm"
check "havm vhd create --type dynamic --size 32M" \
	"$havm" vhd create --type dynamic --size 32M "$scratch/vm/disk.vhd"
# One VM, two configurations that differ only in their sockets (both vmm
# processes run on this machine): the source's and the target's.
for side in a b; do
	cat >"$scratch/vm/linux-$side.vmc" <<EOV
<vm name="linux-mig">
  <memory unit="MiB">256</memory>
  <boot>
    <kernel>$gdir/vmlinux</kernel>
    <initrd>$gdir/initrd.img</initrd>
    <cmdline>$(cat "$gdir/cmdline")</cmdline>
  </boot>
  <disk path="disk.vhd" format="vhd"/>
  <serial port="com1" backend="socket" path="serial-$side.sock"/>
  <control path="ctl-$side.sock"/>
</vm>
EOV
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

pids=$scratch/pids
: >"$pids"
at_exit "while read -r p; do kill -9 \$p 2>/dev/null; done <'$pids'"

python3 - "$scratch" "$vmm" "$timeout_s" "$port" >"$scratch/results" 2>"$scratch/session.err" <<'EOF'
import json, os, re, signal, socket, subprocess, sys, time
d, vmm, limit, port = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
vmdir = os.path.join(d, "vm")
CNT = re.compile(rb"CNT (\d+) (\d+)\r?\n")

def out(key, val):
    print(key, val, flush=True)

class Vmm:
    """One vmm process with its serial console transcript."""
    def __init__(self, tag, cwd, args, serial="serial.sock", ctl="ctl.sock", attach=True):
        self.tag = tag
        self.log = open(os.path.join(d, tag + ".console"), "wb")
        self.proc = subprocess.Popen([vmm, "run"] + args, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(d, tag + ".out"), "wb"),
                                     stderr=open(os.path.join(d, tag + ".err"), "wb"))
        with open(os.path.join(d, "pids"), "a") as f:
            f.write("%d\n" % self.proc.pid)
        self.all = b""    # everything the console printed
        self.buf = b""    # not yet consumed by wait_for
        self.serial, self.ctlname = serial, ctl
        self.ser = self.connect(os.path.join(vmdir, serial), 0.01) if attach else None

    def attach(self):
        self.ser = self.connect(os.path.join(vmdir, self.serial), 0.01)

    def connect(self, path, step=0.05):
        for _ in range(int(20 / step)):
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                return s
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit("%s: vmm exited with %d" % (self.tag, self.proc.returncode))
                time.sleep(step)
        raise SystemExit("no socket " + path)

    def pump(self, secs):
        """Reads console output for up to @secs; False when it ended."""
        self.ser.settimeout(max(secs, 0.01))
        try:
            chunk = self.ser.recv(65536)
        except socket.timeout:
            return True
        if not chunk:
            return False
        self.log.write(chunk); self.log.flush()
        self.all += chunk
        self.buf += chunk
        return True

    def drain(self):
        """Reads until the console is quiet for 0.3 s (at most 3 s)."""
        end = time.monotonic() + 3
        while time.monotonic() < end:
            n = len(self.all)
            if not self.pump(0.3) or len(self.all) == n:
                return

    def wait_for(self, token, secs):
        end = time.monotonic() + secs
        while token not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not self.pump(min(left, 1.0)):
                return None
        head, _, self.buf = self.buf.partition(token)
        return head

    def counters(self):
        return [(int(a), int(b)) for a, b in CNT.findall(self.all)]

    def wait_counter(self, n, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            c = self.counters()
            if c and c[-1][0] >= n:
                return True
            if not self.pump(1.0):
                return False
        return False

    def ctl(self, req, timeout=120):
        c = self.connect(os.path.join(vmdir, self.ctlname))
        c.settimeout(timeout)
        c.sendall((json.dumps(req) + "\n").encode())
        r = b""
        while not r.endswith(b"\n"):
            chunk = c.recv(65536)
            if not chunk:
                break
            r += chunk
        c.close()
        return json.loads(r)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

n = 0
def run(v, cmd, secs=120):
    """Runs @cmd in the guest shell; True when its marker came back."""
    global n
    n += 1
    v.ser.sendall(("%s; echo HAVM-DONE-''%d\n" % (cmd, n)).encode())
    return v.wait_for(("HAVM-DONE-%d\r\n" % n).encode(), secs) is not None

# --- boot, file system, the counter loop ---------------------------------------
a = Vmm("a", vmdir, ["linux-a.vmc"], "serial-a.sock", "ctl-a.sock")
if a.wait_for(b"HAVM-GUEST-READY", limit) is None:
    out("boot", "no"); sys.exit(0)
out("boot", "yes")
a.wait_for(b"# ", 30)
out("mkfs", run(a, "mke2fs -q /dev/vda >/dev/null && mount -t ext2 /dev/vda /mnt"))
# Append + sync first, then print: the console never shows a value the
# disk does not have. The loop ends cleanly when /tmp/stop appears.
a.ser.sendall(b"(i=0; while [ ! -e /tmp/stop ]; do i=$((i+1)); echo $i >> /mnt/cnt.txt; sync; "
              b"echo \"CNT $i $(date +%s)\"; sleep 1; done) &\n")
out("loop_a", a.wait_counter(5, 120))

# --- live migration over TCP to a waiting target -------------------------------------
addr = "tcp:127.0.0.1:" + port
b = Vmm("b", vmdir, ["linux-b.vmc", "--incoming", addr], "serial-b.sock", "ctl-b.sock", attach=False)
r = a.ctl({"cmd": "migrate", "socket": addr}, timeout=300)
out("mig_ok", r.get("ok"))
out("mig_reply", json.dumps(r, sort_keys=True))
a.drain()
last_a = a.counters()[-1][0] if a.counters() else 0
out("last_a", last_a)
try:
    out("a_state", a.ctl({"cmd": "status"}).get("stop_reason"))
    a.ctl({"cmd": "quit"})
except (OSError, SystemExit, ValueError) as e:
    out("a_state", "unreachable: %s" % e)
try:
    a.proc.wait(30)
except subprocess.TimeoutExpired:
    a.kill9()
b.attach()
out("b_restored", b.ctl({"cmd": "status"}).get("restored"))
out("loop_b", b.wait_counter(last_a + 5, 120))
cb = b.counters()
out("b_first", cb[0][0] if cb else 0)
out("b_reboot", b"HAVM-GUEST-READY" in b.all or b"Linux version" in b.all)

# --- stop the loop, unmount, halt ------------------------------------------------------
out("stopped", run(b, "touch /tmp/stop; wait; umount /mnt && sync && echo unmounted"))
out("unmounted", b"unmounted" in b.all)
last_b = b.counters()[-1][0] if b.counters() else 0
out("last_b", last_b)
b.ser.sendall(b"halt -f\n")
try:
    out("b_exit", b.proc.wait(30))
except subprocess.TimeoutExpired:
    out("b_exit", "none")
    b.kill9()
vals = [s for s, _ in a.counters() + b.counters()]
out("console_increasing", all(x < y for x, y in zip(vals, vals[1:])))
out("end", "yes")
EOF
session=$?
results=$scratch/results
r() { sed -n "s/^$1 //p" "$results"; }
jf() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$(r mig_reply)" "$1"; }

check_eq "serial session ran" 0 "$session"
check_eq "Linux boots to HAVM-GUEST-READY" yes "$(r boot)"
check_eq "ext2 on the VHD, mounted" True "$(r mkfs)"
check_eq "the counter loop runs (CNT 5 on the console)" True "$(r loop_a)"
check_eq "migrate over tcp to the waiting target: ok" True "$(r mig_ok)"
diag "Linux 256 MiB live migration over loopback TCP: downtime $(jf downtime_ms) ms, $(jf passes) passes, $(jf stop_reason), total $(jf total_ms) ms, $(jf bytes) bytes"
diag "target: $(grep -o 'restored from .*' "$scratch/b.err" | tail -1)"
check "... finished by pre-copy: at least 2 passes (no stop-and-copy restart)" test "$(jf passes)" -ge 2
check "... the guest wrote its disk during the pre-copy (generation moved on)" \
	grep -q 'wrote its disks during pre-copy' "$scratch/a.err"
check_fails "... the target never saw a restarted stream" grep -q 'restarted the stream' "$scratch/b.err"
check_eq "the source ends as migrated" migrated "$(r a_state)"
check_eq "the target runs the restored guest" True "$(r b_restored)"
check_eq "the counter goes on in the target (last + 5)" True "$(r loop_b)"
last_a=$(r last_a)
b_first=$(r b_first)
check "the first counter on the target follows the source's last ($last_a -> $b_first; output before the console client connects is dropped)" \
	test "$b_first" -gt "$last_a" -a "$b_first" -le $((last_a + 3))
check_eq "no reboot on the target" False "$(r b_reboot)"
check_eq "console counters strictly increasing over both processes" True "$(r console_increasing)"
check_eq "the loop stops, /mnt unmounted" True "$(r unmounted)"
check_eq "halt -f ends the target vmm (exit 20)" 20 "$(r b_exit)"

last_b=$(r last_b)
check "havm vhd convert --type raw" \
	bash -c "'$havm' vhd convert --type raw '$scratch/vm/disk.vhd' '$scratch/disk.raw' >/dev/null"
debugfs -R 'cat /cnt.txt' "$scratch/disk.raw" 2>/dev/null >"$scratch/cnt.txt"
check "the counter file was read back from the VHD" test -s "$scratch/cnt.txt"
check_eq "the file holds exactly 1..$last_b: no gap, no duplicate" "$(seq 1 "$last_b" | md5sum)" \
	"$(md5sum <"$scratch/cnt.txt")"
check "e2fsck -fn: the ext2 file system on the VHD is consistent" \
	bash -c "e2fsck -fn '$scratch/disk.raw' >'$scratch/e2fsck.out' 2>&1"

if ((_tap_failed)); then
	diag "results:"; sed 's/^/# /' "$results"
	diag "session errors:"; sed 's/^/# /' "$scratch/session.err"
	for t in a b; do
		diag "vmm $t stderr:"; tail -n 8 "$scratch/$t.err" 2>/dev/null | sed 's/^/# /'
		diag "console $t tail:"; tail -c 600 "$scratch/$t.console" 2>/dev/null | sed 's/^/# /'
	done
fi
done_testing
