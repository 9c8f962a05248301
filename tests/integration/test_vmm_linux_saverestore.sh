#!/usr/bin/env bash
# Save and restore of a running Linux guest (Debian's 686 kernel + busybox
# initramfs, docs/guest-linux.md) with real vmm processes
# (docs/save-restore.md):
#  - the guest makes an ext2 file system on its VHD and runs a shell loop
#    that appends a counter to a file there (with sync) and prints it with
#    `date +%s` on the serial console;
#  - `save` on the control socket, kill -9 of the vmm, the .vsv moved to
#    another directory, `vmm run --restore` in a fresh process whose working
#    directory is a third one: the console counter goes on (no reboot, no
#    restart of the loop), guest time does not go backwards;
#  - pause + `checkpoint`, then a second `save` to the same path killed
#    with SIGKILL while it writes: the previous .vsv is intact and restores;
#  - finally the guest stops the loop, unmounts, halts; the host reads the
#    file back from the VHD (havm vhd convert + debugfs): exactly 1..N, no
#    gap, no duplicate, N = the last counter on the console; e2fsck clean.
# Uses the release vmm (build/bin/vmm) when built, as test_vmm_linux.sh;
# HAVM_LINUX_VMM overrides, HAVM_GUEST_BOOT_TIMEOUT (default 240 s) bounds
# the boot.
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
	skip "vmm Linux save/restore" "vmm, havm or build/guest/linux is not built (make guest-linux)"
	done_testing
	exit
fi
if ! command -v python3 >/dev/null || ! command -v debugfs >/dev/null || ! command -v e2fsck >/dev/null; then
	skip "vmm Linux save/restore" "python3 or e2fsprogs (debugfs, e2fsck) missing"
	done_testing
	exit
fi

# The VM's files live in vm/; the state moves to moved/; the restoring
# processes run in run2/ and run3/. Paths in the .vmc are relative to it.
mkdir -p "$scratch/vm" "$scratch/moved" "$scratch/run2" "$scratch/run3"
check "havm vhd create --type dynamic --size 32M" \
	"$havm" vhd create --type dynamic --size 32M "$scratch/vm/disk.vhd"
cat >"$scratch/vm/linux.vmc" <<EOV
<vm name="linux-sr">
  <memory unit="MiB">256</memory>
  <boot>
    <kernel>$gdir/vmlinux</kernel>
    <initrd>$gdir/initrd.img</initrd>
    <cmdline>$(cat "$gdir/cmdline")</cmdline>
  </boot>
  <disk path="disk.vhd" format="vhd"/>
  <serial port="com1" backend="socket" path="serial.sock"/>
  <control path="ctl.sock"/>
</vm>
EOV

# Every vmm the session starts writes its pid here; all are killed at exit.
pids=$scratch/pids
: >"$pids"
at_exit "while read -r p; do kill -9 \$p 2>/dev/null; done <'$pids'"

python3 - "$scratch" "$vmm" "$timeout_s" >"$scratch/results" 2>"$scratch/session.err" <<'EOF'
import json, os, re, signal, socket, subprocess, sys, time
d, vmm, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
vmdir = os.path.join(d, "vm")
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

def sha(path):
    return subprocess.run(["sha256sum", path], capture_output=True).stdout.split()[0].decode()

# --- boot, file system, the counter loop ---------------------------------------
a = Vmm("a", vmdir, ["linux.vmc"])
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

# --- save, kill -9, restore elsewhere ----------------------------------------------
r = a.ctl({"cmd": "save", "path": os.path.join(vmdir, "linux.vsv")})
out("save_ok", r.get("ok"))
out("save_ms", "%.1f" % r.get("total_ms", -1))
out("save_bytes", r.get("bytes"))
a.drain()   # what the UART had already sent
last_a = a.counters()[-1][0] if a.counters() else 0
a.kill9()
out("last_a", last_a)
os.rename(os.path.join(vmdir, "linux.vsv"), os.path.join(d, "moved", "linux.vsv"))
b = Vmm("b", os.path.join(d, "run2"), ["../vm/linux.vmc", "--restore", "../moved/linux.vsv"])
st = b.ctl({"cmd": "status"})
out("b_restored", st.get("restored"))
out("loop_b", b.wait_counter(last_a + 5, 120))
cb = b.counters()
out("b_first", cb[0][0] if cb else 0)
out("b_reboot", b"HAVM-GUEST-READY" in b.all or b"Linux version" in b.all)

# --- pause, checkpoint, a save killed mid-write ------------------------------------
moved = os.path.join(d, "moved", "linux.vsv")
out("pause", b.ctl({"cmd": "pause"}).get("ok"))
r = b.ctl({"cmd": "checkpoint", "path": moved})
out("ckpt_ok", r.get("ok"))
b.drain()
last_b = b.counters()[-1][0] if b.counters() else 0
out("last_b", last_b)
before = sha(moved)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(os.path.join(vmdir, "ctl.sock"))
c.sendall((json.dumps({"cmd": "save", "path": moved}) + "\n").encode())
tmp = moved + ".tmp"
# Kill once the page data is being written (4 MiB in), or as soon as the
# temporary file is gone again (the save won the race: renamed).
end, seen = time.monotonic() + 30, False
while time.monotonic() < end:
    try:
        size = os.stat(tmp).st_size
    except FileNotFoundError:
        if seen:
            break
        continue
    seen = True
    if size >= 4 << 20:
        break
b.kill9()
c.close()
out("killed_tmp_bytes", os.stat(tmp).st_size if os.path.exists(tmp) else -1)
out("intact", sha(moved) == before if os.path.exists(tmp) else "after-rename")

c3 = Vmm("c", os.path.join(d, "run3"), ["../vm/linux.vmc", "--restore", "../moved/linux.vsv"])
out("c_restored", c3.ctl({"cmd": "status"}).get("restored"))
out("loop_c", c3.wait_counter(last_b + 5, 120))
cc = c3.counters()
out("c_first", cc[0][0] if cc else 0)
out("c_reboot", b"HAVM-GUEST-READY" in c3.all or b"Linux version" in c3.all)

# --- stop the loop, unmount, halt ------------------------------------------------------
out("stopped", run(c3, "touch /tmp/stop; wait; umount /mnt && sync && echo unmounted"))
out("unmounted", b"unmounted" in c3.all)
last_c = c3.counters()[-1][0] if c3.counters() else 0
out("last_c", last_c)
c3.ser.sendall(b"halt -f\n")
try:
    out("c_exit", c3.proc.wait(30))
except subprocess.TimeoutExpired:
    out("c_exit", "none")
    c3.kill9()

# Console sequence over the three processes: strictly increasing, and
# within each process consecutive; guest time never goes back.
seq = a.counters() + b.counters() + c3.counters()
vals = [s for s, _ in seq]
out("console_increasing", all(x < y for x, y in zip(vals, vals[1:])))
out("console_gaps", sum(1 for x, y in zip(vals, vals[1:]) if y != x + 1))
times = [t for _, t in seq]
out("time_monotonic", all(x <= y for x, y in zip(times, times[1:])))
out("time_span", "%d..%d" % (times[0], times[-1]) if times else "none")
out("end", "yes")
EOF
session=$?
results=$scratch/results
r() { sed -n "s/^$1 //p" "$results"; }

check_eq "serial session ran" 0 "$session"
check_eq "Linux boots to HAVM-GUEST-READY" yes "$(r boot)"
check_eq "ext2 on the VHD, mounted" True "$(r mkfs)"
check_eq "the counter loop runs (CNT 5 on the console)" True "$(r loop_a)"
check_eq "save: ok" True "$(r save_ok)"
diag "save of the 256 MiB Linux guest: $(r save_ms) ms, $(r save_bytes) bytes; console at CNT $(r last_a)"
check_eq "restore (other directory, moved .vsv): status restored" True "$(r b_restored)"
check_eq "restore: the counter goes on past the saved value + 5" True "$(r loop_b)"
last_a=$(r last_a)
b_first=$(r b_first)
check "restore: the first counter after the restore is the next one (or close: console output before the client connects is dropped): $last_a -> $b_first" \
	test "$b_first" -gt "$last_a" -a "$b_first" -le $((last_a + 2))
check_eq "restore: no reboot (no boot messages on the restored console)" False "$(r b_reboot)"
check_eq "pause" True "$(r pause)"
check_eq "checkpoint of the paused guest: ok" True "$(r ckpt_ok)"
diag "SIGKILL mid-save: $(r killed_tmp_bytes) bytes in the temporary file"
intact=$(r intact)
if [[ $intact == after-rename ]]; then
	diag "the kill came after the rename: the file at the path is the new, whole state (same paused guest)"
	ok "SIGKILL mid-save: the file at the path is whole"
else
	check_eq "SIGKILL mid-save: the previous .vsv is byte for byte intact" True "$intact"
fi
check_eq "restore after the killed save: status restored" True "$(r c_restored)"
check_eq "restore after the killed save: the counter goes on" True "$(r loop_c)"
last_b=$(r last_b)
c_first=$(r c_first)
check "restore after the killed save: continues from the checkpoint ($last_b -> $c_first)" \
	test "$c_first" -gt "$last_b" -a "$c_first" -le $((last_b + 2))
check_eq "restore after the killed save: no reboot" False "$(r c_reboot)"
check_eq "the loop stops, /mnt unmounted" True "$(r unmounted)"
check_eq "halt -f ends vmm (exit 20)" 20 "$(r c_exit)"
check_eq "console counters strictly increasing over the three processes" True "$(r console_increasing)"
check "console counters: at most the two restore gaps (output dropped before the client connected)" \
	test "$(r console_gaps)" -le 2
diag "console counter gaps: $(r console_gaps)"
check_eq "guest time (date +%s) never goes backwards across save/restore" True "$(r time_monotonic)"
diag "guest date +%s over the run: $(r time_span)"

# The file on the VHD: exactly 1..N, N = the last counter printed.
last_c=$(r last_c)
check "havm vhd convert --type raw" \
	bash -c "'$havm' vhd convert --type raw '$scratch/vm/disk.vhd' '$scratch/disk.raw' >/dev/null"
debugfs -R 'cat /cnt.txt' "$scratch/disk.raw" 2>/dev/null >"$scratch/cnt.txt"
check "the counter file was read back from the VHD" test -s "$scratch/cnt.txt"
check_eq "the file holds exactly 1..$last_c: no gap, no duplicate" "$(seq 1 "$last_c" | md5sum)" \
	"$(md5sum <"$scratch/cnt.txt")"
check "e2fsck -fn: the ext2 file system on the VHD is consistent" \
	bash -c "e2fsck -fn '$scratch/disk.raw' >'$scratch/e2fsck.out' 2>&1"

if ((_tap_failed)); then
	diag "results:"; sed 's/^/# /' "$results"
	diag "session errors:"; sed 's/^/# /' "$scratch/session.err"
	for t in a b c; do
		diag "vmm $t stderr:"; tail -n 5 "$scratch/$t.err" 2>/dev/null | sed 's/^/# /'
		diag "console $t tail:"; tail -c 600 "$scratch/$t.console" 2>/dev/null | sed 's/^/# /'
	done
fi
done_testing
