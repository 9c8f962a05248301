#!/usr/bin/env bash
# make bench: Debian 686 kernel + busybox initramfs (make guest-linux) booted
# by our release vmm and by QEMU TCG in the same run. For each configuration:
# wall time from spawning the VMM to /init's HAVM-GUEST-READY marker on the
# serial console, and to the end of a short scripted workload at the shell
# (a 3000-iteration shell loop, then `seq 1 20000 | md5sum`, whose digest is
# checked against the host's). Configurations: vmm with the ELF vmlinux (as
# tests/integration/test_vmm_linux.sh boots it: no in-guest decompression),
# vmm with the bzImage, and QEMU with the bzImage (QEMU cannot -kernel an
# i386 vmlinux), all with the same initrd and command line and 256 MiB.
# QEMU gets the CPUID features vmm advertises (vmcore/cpu/cpuid_msr.c:
# FPU, PSE, TSC, MSR, CX8, CMOV), so both kernels pick the same code paths
# (with TSC the kernel's sched_clock is the TSC, not jiffies). Median of
# BENCH_RUNS (default 3) runs; table in build/bench/linux_boot.md, with the
# vmm's CPU time (user+sys) next to the wall times, since wall time on a
# shared machine depends on the other jobs.
set -euo pipefail
top=${HAVM_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
g=$top/build/guest/linux
vmm=${HAVM_LINUX_VMM:-$top/build/bin/vmm}
qemu=$(command -v qemu-system-i386 || true)
for f in "$vmm" "$g/vmlinux" "$g/bzImage" "$g/initrd.img" "$g/cmdline"; do
	[[ -e $f ]] || { echo "linux_boot: $f missing (make build/bin/vmm guest-linux)" >&2; exit 1; }
done
[[ -n $qemu ]] || { echo "linux_boot: qemu-system-i386 missing" >&2; exit 1; }
mkdir -p "$top/build/bench"
dir=$(mktemp -d "$top/build/bench/linux_boot.XXXXXX")
trap 'rm -rf "$dir"' EXIT
{
	echo "# Linux boot: vmm vs QEMU $("$qemu" --version | head -1 | awk '{print $4}') TCG ($(nproc) CPUs, $(uname -r), $(date -u '+%F %H:%M') UTC, load before $(cut -d' ' -f1-3 /proc/loadavg))"
	echo
	python3 - "$dir" "$vmm" "$qemu" "$g" "${BENCH_RUNS:-3}" "${HAVM_GUEST_BOOT_TIMEOUT:-600}" <<'EOF'
import os, signal, socket, statistics, subprocess, sys, time, hashlib
d, vmm, qemu, g, runs, limit = sys.argv[1:7]
runs, limit = int(runs), float(limit)
cmdline = open(os.path.join(g, "cmdline")).read().strip()
initrd = os.path.join(g, "initrd.img")
want = hashlib.md5(("\n".join(str(i) for i in range(1, 20001)) + "\n").encode()).hexdigest()
QCPU = "pentium2,-apic,-fxsr,-mmx,-pge,-mtrr,-mca,-mce,-pat,-pse36,-sep,-de,-vme,-pae"
WORK = "i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; seq 1 20000 | md5sum"

def vmm_cmd(kernel, sock):
    vmc = os.path.join(d, "bench.vmc")
    with open(vmc, "w") as f:
        f.write('<vm name="linux-bench">\n  <memory unit="MiB">256</memory>\n'
                '  <boot>\n    <kernel>%s</kernel>\n    <initrd>%s</initrd>\n'
                '    <cmdline>%s</cmdline>\n  </boot>\n'
                '  <serial port="com1" backend="socket" path="%s"/>\n</vm>\n'
                % (kernel, initrd, cmdline, sock))
    return [vmm, "run", vmc]

def qemu_cmd(kernel, sock):
    return [qemu, "-machine", "pc", "-accel", "tcg", "-cpu", QCPU, "-m", "256",
            "-display", "none", "-monitor", "none", "-no-reboot",
            "-kernel", kernel, "-initrd", initrd, "-append", cmdline,
            "-chardev", "socket,id=s0,path=%s,server=on,wait=off" % sock,
            "-serial", "chardev:s0"]

def cpu_s(pid):
    # user+sys CPU seconds of the VMM process (all its threads) so far
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

def one(build, kernel):
    sock = os.path.join(d, "serial.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    t0 = time.monotonic()
    p = subprocess.Popen(build(kernel, sock), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "err"), "w"))
    try:
        s = None
        for _ in range(400):           # up to 20 s for the socket to appear
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sock)
                break
            except OSError:
                s = None
                time.sleep(0.05)
        if s is None:
            raise SystemExit("no serial socket from " + build.__name__)
        buf = b""
        def wait_for(tok):
            nonlocal buf
            end = t0 + limit
            while tok not in buf:
                left = end - time.monotonic()
                if left <= 0 or p.poll() is not None:
                    raise SystemExit("%s: no %r (timeout or exit)" % (build.__name__, tok))
                s.settimeout(min(left, 1.0))
                try:
                    c = s.recv(65536)
                except socket.timeout:
                    continue
                if not c:
                    raise SystemExit("serial closed")
                buf += c
            head, _, buf = buf.partition(tok)
            return head
        wait_for(b"HAVM-GUEST-READY")
        t_ready = time.monotonic() - t0
        c_ready = cpu_s(p.pid)
        wait_for(b"# ")
        s.sendall((WORK + "; echo HAVM-WORK-''END\n").encode())
        out = wait_for(b"HAVM-WORK-END\r\n")
        t_work = time.monotonic() - t0
        c_work = cpu_s(p.pid)
        if want not in out.decode(errors="replace"):
            raise SystemExit("%s: md5sum in the guest is not %s" % (build.__name__, want))
        return t_ready, t_work, c_ready, c_work
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill(); p.wait()

configs = [("vmm", "vmlinux", vmm_cmd), ("vmm", "bzImage", vmm_cmd), ("QEMU TCG", "bzImage", qemu_cmd)]
res = {}
for r in range(runs):                  # interleaved, so load drifts hit all alike
    for name, img, build in configs:
        res.setdefault((name, img), []).append(one(build, os.path.join(g, img)))
        print("run %d %s %s: ready %.1f s, end %.1f s (CPU %.1f / %.1f s)" % ((r + 1, name, img) + res[(name, img)][-1]),
              file=sys.stderr, flush=True)
q = res[("QEMU TCG", "bzImage")]
qr = statistics.median(x[0] for x in q); qw = statistics.median(x[1] for x in q)
qcr = statistics.median(x[2] for x in q); qcw = statistics.median(x[3] for x in q)
print("| VMM | kernel | runs | s to HAVM-GUEST-READY (median) | s to workload end (median) | workload s | ready ÷ QEMU | end ÷ QEMU | CPU s ready / end (median) | CPU ready ÷ QEMU | CPU end ÷ QEMU | all runs (ready/end wall) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for name, img, _ in configs:
    v = res[(name, img)]
    mr = statistics.median(x[0] for x in v); mw = statistics.median(x[1] for x in v)
    cr = statistics.median(x[2] for x in v); cw = statistics.median(x[3] for x in v)
    print("| %s | %s | %d | %.1f | %.1f | %.1f | %.2f | %.2f | %.1f / %.1f | %.2f | %.2f | %s |" % (
        name, img, len(v), mr, mw, mw - mr, mr / qr, mw / qw, cr, cw, cr / qcr, cw / qcw,
        ", ".join("%.1f/%.1f" % x[:2] for x in v)))
EOF
	echo
	echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$top/build/bench/linux_boot.md"
