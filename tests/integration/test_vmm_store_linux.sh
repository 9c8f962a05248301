#!/usr/bin/env bash
# The Linux guest (Debian's 686 kernel + busybox initramfs) from a LUN
# store on a real tgtd: its .vmc and its VHD are objects of the store and
# its .vsv is written into it (docs/store.md, docs/save-restore.md).
#  - `vmm run --store iscsi://... linux.vmc` boots; the guest makes ext2 on
#    the VHD object and runs a loop appending a counter to a file (sync)
#    and printing it;
#  - save into the store, kill -9, `vmm run --store ... --restore linux.vsv`
#    in a fresh process in another working directory: the counter goes on
#    (no reboot);
#  - the same .vsv again after the disk moved on: refused (exit 9);
#  - the loop stops, the guest unmounts and halts; the host exports the
#    VHD object and reads the file with debugfs: exactly 1..N, N the last
#    counter on the console; e2fsck clean.
# Release vmm when built; HAVM_GUEST_BOOT_TIMEOUT (default 240 s) bounds the boot.
source "$(dirname "$0")/../lib/tap.sh"
source "$HAVM_TOP/tests/lib/tgtd.sh"
gdir=$HAVM_TOP/build/guest/linux
vmm=${HAVM_LINUX_VMM:-$HAVM_TOP/build/bin/vmm}
[[ -x $vmm ]] || vmm=$HAVM_BIN/vmm
havm=$HAVM_TOP/build/bin/havm
[[ -x $havm ]] || havm=$HAVM_BIN/havm
timeout_s=${HAVM_GUEST_BOOT_TIMEOUT:-240}
if [[ ! -x $vmm || ! -x $havm || ! -f $gdir/vmlinux || ! -f $gdir/initrd.img || ! -f $gdir/cmdline ]]; then
	skip "Linux guest from a LUN store" "vmm, havm or build/guest/linux is not built (make guest-linux)"
	done_testing
	exit
fi
if ! command -v python3 >/dev/null || ! command -v debugfs >/dev/null || ! command -v e2fsck >/dev/null; then
	skip "Linux guest from a LUN store" "python3 or e2fsprogs (debugfs, e2fsck) missing"
	done_testing
	exit
fi
cp "$vmm" "$havm" "$scratch/"
vmm=$scratch/vmm havm=$scratch/havm
tgtd_start || { not_ok "tgtd starts"; done_testing; exit 1; }
tgtd_target 1 iqn.2024-01.test:linuxstore && tgtd_lun 1 1 512 && tgtd_bind 1 ALL
url=$(tgtd_url 1 1)
"$havm" store format "$url" >/dev/null
"$havm" vhd create --type dynamic --size 32M "$scratch/disk.vhd" >/dev/null 2>&1
cat >"$scratch/linux.vmc" <<EOV
<vm name="linux">
  <memory unit="MiB">256</memory>
  <boot>
    <kernel>$gdir/vmlinux</kernel>
    <initrd>$gdir/initrd.img</initrd>
    <cmdline>$(cat "$gdir/cmdline")</cmdline>
  </boot>
  <disk store="linux.vhd" format="vhd"/>
  <serial port="com1" backend="socket" path="$scratch/serial.sock"/>
</vm>
EOV
"$havm" store import "$url" "$scratch/disk.vhd" linux.vhd >/dev/null &&
	"$havm" store import "$url" "$scratch/linux.vmc" >/dev/null
check "the LUN store holds linux.vmc and linux.vhd" test $? -eq 0
mkdir -p "$scratch/run1" "$scratch/run2"
pids=$scratch/pids
: >"$pids"
at_exit "while read -r p; do kill -9 \$p 2>/dev/null; done <'$pids'"

python3 - "$scratch" "$vmm" "$timeout_s" "$url" >"$scratch/results" 2>"$scratch/session.err" <<'EOF'
import json, os, re, signal, socket, subprocess, sys, time
d, vmm, limit, url = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
vmdir = d
CNT = re.compile(rb"CNT (\d+) (\d+)\r?\n")

def out(key, val):
    print(key, val, flush=True)

class Vmm:
    """One vmm process with its serial console transcript."""
    def __init__(self, tag, cwd, args):
        self.tag = tag
        self.log = open(os.path.join(d, tag + ".console"), "wb")
        self.proc = subprocess.Popen([vmm, "run"] + args, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(d, tag + ".out"), "wb"),
                                     stderr=open(os.path.join(d, tag + ".err"), "wb"))
        with open(os.path.join(d, "pids"), "a") as f:
            f.write("%d\n" % self.proc.pid)
        self.all = b""    # everything the console printed
        self.buf = b""    # not yet consumed by wait_for
        self.ser = self.connect(os.path.join(vmdir, "serial.sock"), 0.01)

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
        c = self.connect(os.path.join(vmdir, "ctl.sock"))
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

n = 0
def run(v, cmd, secs=120):
    global n
    n += 1
    v.ser.sendall(("%s; echo HAVM-DONE-''%d\n" % (cmd, n)).encode())
    return v.wait_for(("HAVM-DONE-%d\r\n" % n).encode(), secs) is not None

store = ["--store", url]
ctl = os.path.join(d, "ctl.sock")
a = Vmm("a", os.path.join(d, "run1"), store + ["linux.vmc", "--control", ctl])
if a.wait_for(b"HAVM-GUEST-READY", limit) is None:
    out("boot", "no"); sys.exit(0)
out("boot", "yes")
a.wait_for(b"# ", 30)
out("mkfs", run(a, "mke2fs -q /dev/vda >/dev/null && mount -t ext2 /dev/vda /mnt"))
a.ser.sendall(b"(i=0; while [ ! -e /tmp/stop ]; do i=$((i+1)); echo $i >> /mnt/cnt.txt; sync; "
              b"echo \"CNT $i $(date +%s)\"; sleep 1; done) &\n")
out("loop_a", a.wait_counter(5, 120))
r = a.ctl({"cmd": "save", "path": "linux.vsv"})
out("save_ok", r.get("ok"))
out("save_ms", "%.1f" % r.get("total_ms", -1))
out("save_bytes", r.get("bytes"))
a.drain()
last_a = a.counters()[-1][0] if a.counters() else 0
a.kill9()
out("last_a", last_a)
os.unlink(ctl)
b = Vmm("b", os.path.join(d, "run2"), store + ["linux.vmc", "--control", ctl, "--restore", "linux.vsv"])
out("b_restored", b.ctl({"cmd": "status"}).get("restored"))
out("loop_b", b.wait_counter(last_a + 5, 120))
cb = b.counters()
out("b_first", cb[0][0] if cb else 0)
out("b_reboot", b"HAVM-GUEST-READY" in b.all or b"Linux version" in b.all)
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
st = subprocess.run([vmm, "run", "--store", url, "linux.vmc", "--restore", "linux.vsv"], cwd=d,
                    stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
out("stale_rc", st.returncode)
out("stale_moved_on", b"has moved on since the save" in st.stderr)
out("end", "yes")
EOF
session=$?
results=$scratch/results
r() { sed -n "s/^$1 //p" "$results"; }
check_eq "serial session ran" 0 "$session"
check_eq "Linux boots from the LUN store to HAVM-GUEST-READY" yes "$(r boot)"
check_eq "ext2 on the VHD object, mounted" True "$(r mkfs)"
check_eq "the counter loop runs (CNT 5)" True "$(r loop_a)"
check_eq "save into the store: ok" True "$(r save_ok)"
diag "save of the 256 MiB Linux guest into the LUN store: $(r save_ms) ms, $(r save_bytes) bytes; console at CNT $(r last_a)"
check_eq "restore from the store (kill -9 before, other directory): status restored" True "$(r b_restored)"
check_eq "restore: the counter goes on past the saved value + 5" True "$(r loop_b)"
last_a=$(r last_a) b_first=$(r b_first)
check "restore: the first counter after the restore is the next one (or close): $last_a -> $b_first" \
	test "$b_first" -gt "$last_a" -a "$b_first" -le $((last_a + 2))
check_eq "restore: no reboot" False "$(r b_reboot)"
check_eq "the loop stops, /mnt unmounted" True "$(r unmounted)"
check_eq "halt -f ends vmm (exit 20)" 20 "$(r b_exit)"
check_eq "the same .vsv after the disk moved on: refused, exit 9" 9 "$(r stale_rc)"
check_eq "... saying the disk moved on" True "$(r stale_moved_on)"
"$havm" store export --raw "$url" linux.vhd "$scratch/disk.raw"
check "e2fsck: the file system on the VHD object is clean" bash -c "e2fsck -fn '$scratch/disk.raw' >/dev/null 2>&1"
debugfs -R "cat /cnt.txt" "$scratch/disk.raw" 2>/dev/null >"$scratch/cnt.txt"
last_b=$(r last_b)
check_eq "the file holds exactly 1..N, N = the last counter on the console ($last_b)" \
	"$(seq 1 "$last_b" | tr '\n' ' ')" "$(tr '\n' ' ' <"$scratch/cnt.txt")"
done_testing
