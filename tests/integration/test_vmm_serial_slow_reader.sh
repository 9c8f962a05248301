#!/usr/bin/env bash
# A large guest output over the serial socket backend arrives intact when
# the client reads slowly (docs/vmc.md, serial backends): Debian's 686
# kernel + busybox initramfs (docs/guest-linux.md) boots under our vmm,
# prints `seq 1 $N` on its console while the host reads 512 bytes every
# 20 ms — far slower than the guest writes and far more than the socket
# and vmm buffers hold — and the host compares what arrived with the same
# sequence made locally and with the guest's own md5sum of it.
# Before the UART applied back-pressure, the vmm dropped what a full socket
# buffer refused. Uses the release vmm like test_vmm_linux.sh;
# HAVM_LINUX_VMM overrides it, HAVM_GUEST_BOOT_TIMEOUT (default 240 s)
# bounds the boot.
source "$(dirname "$0")/../lib/tap.sh"
gdir=$HAVM_TOP/build/guest/linux
vmm=${HAVM_LINUX_VMM:-}
if [[ -z $vmm ]]; then
	vmm=$HAVM_TOP/build/bin/vmm
	[[ -x $vmm ]] || vmm=$HAVM_BIN/vmm
fi
timeout_s=${HAVM_GUEST_BOOT_TIMEOUT:-240}
count=${HAVM_SERIAL_SEQ:-60000}

if [[ ! -x $vmm || ! -f $gdir/vmlinux || ! -f $gdir/initrd.img || ! -f $gdir/cmdline ]]; then
	skip "vmm serial slow reader" "vmm or build/guest/linux is not built (make guest-linux)"
	done_testing
	exit
fi
if ! command -v python3 >/dev/null; then
	skip "vmm serial slow reader" "python3 missing"
	done_testing
	exit
fi

cat >"$scratch/serial.vmc" <<EOV
<vm name="serial-it">
  <memory unit="MiB">128</memory>
  <boot>
    <kernel>$gdir/vmlinux</kernel>
    <initrd>$gdir/initrd.img</initrd>
    <cmdline>$(cat "$gdir/cmdline")</cmdline>
  </boot>
  <serial port="com1" backend="socket" path="$scratch/serial.sock"/>
</vm>
EOV

"$vmm" run "$scratch/serial.vmc" >"$scratch/vmm.out" 2>"$scratch/vmm.err" </dev/null &
vmm_pid=$!
at_exit "kill $vmm_pid 2>/dev/null; wait $vmm_pid 2>/dev/null"
diag "vmm: $vmm (pid $vmm_pid)"

python3 - "$scratch" "$timeout_s" "$count" >"$scratch/results" 2>"$scratch/session.err" <<'EOF'
import hashlib, os, socket, sys, time
d, limit, count = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
log = open(os.path.join(d, "console.txt"), "wb")

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

def wait_for(token, secs, chunk=4096, pause=0.0):
    global buf
    end = time.monotonic() + secs
    while token not in buf:
        left = end - time.monotonic()
        if left <= 0:
            return None
        ser.settimeout(min(left, 1.0))
        try:
            data = ser.recv(chunk)
        except socket.timeout:
            continue
        if not data:
            return None
        log.write(data); log.flush()
        buf += data
        if pause:
            time.sleep(pause)
    head, _, buf = buf.partition(token)
    return head

if wait_for(b"HAVM-GUEST-READY", limit) is None:
    print("ready no"); sys.exit(0)
print("ready yes")
wait_for(b"# ", 30)
# Kernel messages would interleave with the output: console loglevel 1.
# The markers are split so the echoed command line does not match them.
ser.sendall(b"dmesg -n 1; stty -echo; echo HAVM-''BEGIN; seq 1 %d; echo HAVM-''END; "
            b"seq 1 %d | md5sum; echo HAVM-''SUM\n" % (count, count))
wait_for(b"HAVM-BEGIN\r\n", 60)
t0 = time.monotonic()
out = wait_for(b"HAVM-END\r\n", limit, chunk=512, pause=0.02)
print("slow_wall %.1f" % (time.monotonic() - t0))
if out is None:
    print("received none"); sys.exit(0)
text = out.replace(b"\r\n", b"\n")
want = b"".join(b"%d\n" % i for i in range(1, count + 1))
print("received_bytes %d" % len(text))
print("expected_bytes %d" % len(want))
print("intact %s" % ("yes" if text == want else "no"))
bad = next((i for i in range(min(len(text), len(want))) if text[i] != want[i]), None)
print("first_diff %s" % bad)
if bad is not None:
    print("got_near %r" % text[max(0, bad - 40):bad + 80])
print("host_md5 %s" % hashlib.md5(want).hexdigest())
summ = wait_for(b"HAVM-SUM", 120)
guest = (summ or b"").decode(errors="replace").split()
print("guest_md5 %s" % (guest[0] if guest else "none"))
ser.sendall(b"halt -f\n")
time.sleep(0.5)
print("end")
EOF
session=$?
results=$scratch/results
r() { sed -n "s/^$1 //p" "$results"; }

check_eq "serial session ran" 0 "$session"
check_eq "the guest booted to HAVM-GUEST-READY" yes "$(r ready)"
diag "slow reader took $(r slow_wall) s; first difference at byte $(r first_diff)"
[[ -n $(r got_near) ]] && diag "received there: $(r got_near)"
check_eq "every byte of seq 1 $count arrived" "$(r expected_bytes)" "$(r received_bytes)"
check_eq "the output arrived intact (byte for byte)" yes "$(r intact)"
check_eq "the guest's md5sum matches the host's" "$(r host_md5)" "$(r guest_md5)"
done_testing
