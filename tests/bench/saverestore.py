#!/usr/bin/env python3
"""make bench: vmm save / restore / live-migration times beside QEMU TCG's
in the same run, on the same guests (tests/guests/dirty.c: 16 MiB rewritten
continuously; ticker.c: idle). QEMU boots the same flat binaries through a
multiboot wrapper (mkmb below) and saves with `migrate "exec:cat > FILE"`,
restores with `-incoming "exec:cat FILE"`.

Figures (median of --runs):
  save ms      request -> file complete (vmm: `save` reply total_ms, which
               includes fsync, rename and the directory fsync;
               QEMU: `stop` + `migrate -d` until `info migrate` says
               "completed", polled every 1 ms, no fsync; "save + fsync"
               adds `sync FILE` for the same durability; "QEMU total" is
               QEMU's own `total time`). QEMU runs unthrottled: its
               max-bandwidth (128 MiB/s by default in 7.2) is set to
               QEMU_MAX_BW first. A plain HMP `migrate` (no -d) would only
               return on HMP's 1 s status timer, which is what an earlier
               version of this script measured (~1 s at every size).
  restore ms   process spawn -> guest running, polled on the control socket
               / monitor every 2 ms (both include exec and dynamic linking;
               QEMU keeps the source's stopped run state, so it gets `cont`
               the moment its load completes);
               vmm also reports its own main() -> first instruction
  downtime ms  live migration: vmm `migrate` downtime_ms (and the rule's
               expected downtime, stop reason); QEMU `info migrate` downtime,
               both with the same downtime limit (--downtime-limit, QEMU's
               default 300 ms) and QEMU unthrottled. QEMU gets at most
               --live-timeout s to converge, then `stop` forces completion
               (its stop-and-copy), as vmm's bound does.
Linux guest (build/guest/linux, make guest-linux): Debian's 686 kernel
booted to its shell in both VMMs (vmm: vmlinux; QEMU: the same kernel's
bzImage, same initrd and command line), 256 MiB, then save and restore as
above (--linux-runs boots, default 1).
Usage: saverestore.py TOP OUTDIR [--runs N] [--sizes 64,256,1024] [--linux 0|1] [--linux-runs N]
       [--live-timeout S] [--tight-ms MS]
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import time

QEMU_MAX_BW = '100G'   # bytes/s; "unlimited" for a local file


def mkmb(src, dst):
    """Wraps a flat guest (entered at 1 MiB, CS=0x10, DS=0x18) into a
    multiboot a.out-kludge image: header, GDT and a stub below 1 MiB."""
    img = open(src, 'rb').read()
    load = 0x100000 - 4096
    magic, flags = 0x1BADB002, 0x00010000
    page = bytearray(4096)
    page[0:32] = struct.pack('<8I', magic, flags, (-(magic + flags)) & 0xffffffff, load, load,
                             0x100000 + len(img), 0, load + 0x50)
    page[0x20:0x40] = struct.pack('<4Q', 0, 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF)
    page[0x40:0x46] = struct.pack('<HI', 31, load + 0x20)
    stub = bytes([0x0F, 0x01, 0x15]) + struct.pack('<I', load + 0x40) + \
        bytes([0xEA]) + struct.pack('<IH', load + 0x60, 0x10)
    page[0x50:0x50 + len(stub)] = stub
    tail = bytes([0x66, 0xB8, 0x18, 0x00, 0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0, 0x8E, 0xE0, 0x8E,
                  0xE8, 0xB8]) + struct.pack('<I', 0x100000) + bytes([0xFF, 0xE0])
    page[0x60:0x60 + len(tail)] = tail
    open(dst, 'wb').write(bytes(page) + img)


def wait_until(pred, timeout, step=0.002):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise TimeoutError('timed out')


def serial_has(path, pattern):
    try:
        with open(path, 'rb') as f:
            return re.search(pattern, f.read()) is not None
    except FileNotFoundError:
        return False


class Vmm:
    def __init__(self, top, d, name, image, mib, boot=None):
        self.bin = os.path.join(top, 'build/bin/vmm')
        self.d, self.name = d, name
        self.cfg = os.path.join(d, name + '.vmc')
        if boot is None:
            boot = '<image load="0x100000">%s</image>' % image
        with open(self.cfg, 'w') as f:
            f.write('<vm name="%s"><memory unit="MiB">%d</memory><boot>%s</boot>'
                    '<serial port="com1" backend="stdio"/></vm>' % (name, mib, boot))
        self.sock = os.path.join(d, name + '.sock')
        self.proc = None

    def start(self, restore=None):
        self.out = os.path.join(self.d, self.name + '.out')
        self.err = os.path.join(self.d, self.name + '.err')
        args = [self.bin, 'run', self.cfg, '--control', self.sock]
        if restore:
            args += ['--restore', restore]
        t0 = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=open(self.out, 'wb'), stderr=open(self.err, 'wb'),
                                     stdin=subprocess.DEVNULL)
        return t0

    def ctl(self, req, timeout=300):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(self.sock)
        s.sendall((json.dumps(req) + '\n').encode())
        buf = b''
        while not buf.endswith(b'\n'):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        return json.loads(buf)

    def try_status(self):
        try:
            return self.ctl({'cmd': 'status'}, timeout=2)
        except (OSError, ValueError):
            return None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.ctl({'cmd': 'quit'}, timeout=5)
            except (OSError, ValueError):
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Qemu:
    def __init__(self, d, name, image, mib, kargs=None):
        self.d, self.name, self.image, self.mib = d, name, image, mib
        self.kargs = kargs or ['-kernel', image]
        self.mon = os.path.join(d, name + '.mon')
        self.proc = None

    def start(self, incoming=None):
        self.out = os.path.join(self.d, self.name + '.qout')
        if os.path.exists(self.mon):
            os.unlink(self.mon)
        args = ['qemu-system-i386', '-M', 'pc', '-accel', 'tcg', '-m', str(self.mib), '-display', 'none',
                '-nodefaults', '-no-user-config', '-serial', 'file:' + self.out] + self.kargs + [
                '-monitor', 'unix:%s,server=on,wait=off' % self.mon]
        if incoming:
            args += ['-incoming', 'exec:cat ' + incoming]
        t0 = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL)
        wait_until(lambda: os.path.exists(self.mon), 20)
        self.s = None
        wait_until(self._connect, 20)
        return t0

    def _connect(self):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.mon)
            s.settimeout(60)
            self.s = s
            self._read_prompt()
            return True
        except OSError:
            return False

    def _read_prompt(self):
        buf = b''
        while not buf.endswith(b'(qemu) '):
            chunk = self.s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf.decode(errors='replace')

    def hmp(self, cmd):
        self.s.sendall((cmd + '\n').encode())
        return self._read_prompt()

    def status(self):
        return self.hmp('info status')

    def migrate_info(self):
        return self.hmp('info migrate')

    def unthrottle(self, downtime_ms=None):
        """QEMU's migration as fast as it goes: no bandwidth cap (its
        default, 128 MiB/s, is for networks), and the live downtime limit
        vmm is given."""
        self.hmp('migrate_set_parameter max-bandwidth %s' % QEMU_MAX_BW)
        if downtime_ms is not None:
            self.hmp('migrate_set_parameter downtime-limit %d' % downtime_ms)
        p = self.hmp('info migrate_parameters')
        m = re.search(r'max-bandwidth: (\d+)', p)
        assert m and int(m.group(1)) >= 10**10, p

    def wait_completed(self, timeout, step=0.001):
        """Polls `info migrate` until completed; returns its text."""
        return wait_until(lambda: (lambda i: i if 'Migration status: completed' in i else None)(
            self.migrate_info()), timeout, step)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.hmp('quit')
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def ms(ns):
    return ns / 1e6


def med(xs):
    return statistics.median(xs) if xs else float('nan')


def bench_vmm(top, d, guest, mib, runs, ready=rb'sweep \d+', boot=None, boot_timeout=60):
    saves, restores, firsts, size = [], [], [], 0
    for i in range(runs):
        v = Vmm(top, d, 'v%d' % mib, guest, mib, boot)
        path = os.path.join(d, 'v%d.vsv' % mib)
        v.start()
        wait_until(lambda: serial_has(v.out, ready), boot_timeout, 0.05)
        if boot:
            time.sleep(2)   # Linux: let the shell start
        r = v.ctl({'cmd': 'save', 'path': path})
        assert r['ok'], r
        saves.append(r['total_ms'])
        size = r['bytes']
        v.stop()
        t0 = v.start(restore=path)
        st = wait_until(lambda: (lambda s: s if s and s.get('state') == 'running' else None)(v.try_status()),
                        60)
        restores.append(ms((time.monotonic() - t0) * 1e9))
        st = wait_until(lambda: (lambda s: s if s and 'restore_first_insn_us' in s else None)(v.try_status()),
                        10)
        firsts.append(st['restore_first_insn_us'] / 1000)
        v.stop()
    return med(saves), med(restores), med(firsts), size


def qemu_ms(info, what):
    m = re.search(r'%s: (\d+) ms' % what, info)
    return float(m.group(1)) if m else float('nan')


def bench_qemu(d, image, mib, runs, ready=rb'sweep \d+', kargs=None, boot_timeout=60):
    saves, durable, restores, own, size = [], [], [], [], 0
    for i in range(runs):
        q = Qemu(d, 'q%d' % mib, image, mib, kargs)
        path = os.path.join(d, 'q%d.bin' % mib)
        if os.path.exists(path):
            os.unlink(path)
        q.start()
        wait_until(lambda: serial_has(q.out, ready), boot_timeout, 0.05)
        if kargs:
            time.sleep(2)
        q.unthrottle()
        t0 = time.monotonic()
        q.hmp('stop')
        q.hmp('migrate -d "exec:cat > %s"' % path)
        info = q.wait_completed(300)
        saves.append(ms((time.monotonic() - t0) * 1e9))
        own.append(qemu_ms(info, 'total time'))
        # exec:cat does not fsync; vmm's figure includes fsync + rename +
        # directory fsync. `sync FILE` (fsync) gives QEMU the same durability.
        subprocess.run(['sync', path], check=True)
        durable.append(ms((time.monotonic() - t0) * 1e9))
        size = os.path.getsize(path)
        q.stop()
        t0 = q.start(incoming=path)
        # The source was stopped, so the target stays paused once loaded
        # (the run state migrates): `cont` as soon as the load is done.
        wait_until(lambda: (lambda st: 'paused' in st and 'inmigrate' not in st)(q.status()), 120)
        q.hmp('cont')
        wait_until(lambda: 'VM status: running' in q.status(), 10)
        restores.append(ms((time.monotonic() - t0) * 1e9))
        q.stop()
    return med(saves), med(durable), med(restores), med(own), size


def live_vmm(top, d, guest, mib, wait_pat, opts):
    v = Vmm(top, d, 'lv', guest, mib)
    v.start()
    wait_until(lambda: serial_has(v.out, wait_pat), 60, 0.05)
    req = {'cmd': 'migrate', 'path': os.path.join(d, 'lv.vsv')}
    req.update(opts)
    r = v.ctl(req)
    v.stop()
    assert r['ok'], r
    return r


def live_qemu(d, image, mib, wait_pat, timeout, downtime_ms):
    q = Qemu(d, 'lq', image, mib)
    q.start()
    wait_until(lambda: serial_has(q.out, wait_pat), 60, 0.05)
    q.unthrottle(downtime_ms)
    path = os.path.join(d, 'lq.bin')
    t0 = time.monotonic()
    q.hmp('migrate -d "exec:cat > %s"' % path)
    forced = False
    try:
        info = q.wait_completed(timeout)
    except TimeoutError:
        forced = True
        q.hmp('stop')
        info = q.wait_completed(300)
    total = ms((time.monotonic() - t0) * 1e9)
    q.stop()
    return {'total_ms': total, 'downtime_ms': qemu_ms(info, 'downtime'), 'own_total_ms': qemu_ms(info, 'total time'),
            'forced': forced}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('top')
    ap.add_argument('out')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--sizes', default='64,256,1024')
    ap.add_argument('--live-timeout', type=float, default=10)
    ap.add_argument('--tight-ms', type=int, default=10, help='the tight downtime limit of the last live row')
    ap.add_argument('--linux', type=int, default=1, help='also the Linux guest when build/guest/linux exists')
    ap.add_argument('--linux-runs', type=int, default=1)
    a = ap.parse_args()
    d = a.out
    os.makedirs(d, exist_ok=True)
    guests = os.path.join(a.top, 'build/guests')
    dirty, ticker = os.path.join(guests, 'dirty.bin'), os.path.join(guests, 'ticker.bin')
    qemu = shutil.which('qemu-system-i386')
    if qemu:
        mkmb(dirty, os.path.join(d, 'dirty.mb'))
        mkmb(ticker, os.path.join(d, 'ticker.mb'))
    hdr = ('| RAM | vmm .vsv | vmm save ms | vmm restore ms (spawn -> running) | vmm main -> first insn ms '
           '| QEMU file | QEMU save ms | QEMU total time ms (its own) | QEMU save + fsync ms '
           '| QEMU restore ms (spawn -> running) | vmm save / QEMU save + fsync |')
    sep = '|---|---|---|---|---|---|---|---|---|---|---|'

    def save_row(label, v, q):
        s_, r_, f_, size = v
        row = '| %s | %.1f MiB | %.1f | %.1f | %.1f |' % (label, size / 2**20, s_, r_, f_)
        if q:
            qs, qd, qr, qown, qsize = q
            row += ' %.1f MiB | %.1f | %.0f | %.1f | %.1f | %.2f |' % (qsize / 2**20, qs, qown, qd, qr, s_ / qd)
        else:
            row += ' - | - | - | - | - | - |'
        return row

    print('## Save and restore (dirty guest: 16 MiB of non-zero pages, rest zero; median of %d; '
          'QEMU max-bandwidth %s)' % (a.runs, QEMU_MAX_BW))
    print()
    print(hdr)
    print(sep)
    sys.stdout.flush()
    for mib in [int(x) for x in a.sizes.split(',')]:
        v = bench_vmm(a.top, d, dirty, mib, a.runs)
        q = bench_qemu(d, os.path.join(d, 'dirty.mb'), mib, a.runs) if qemu else None
        print(save_row('%d MiB' % mib, v, q))
        sys.stdout.flush()
    linux = os.path.join(a.top, 'build/guest/linux')
    if a.linux and all(os.path.exists(os.path.join(linux, f)) for f in ('vmlinux', 'bzImage', 'initrd.img',
                                                                       'cmdline')):
        cmdline = open(os.path.join(linux, 'cmdline')).read().strip()
        boot = '<kernel>%s/vmlinux</kernel><initrd>%s/initrd.img</initrd><cmdline>%s</cmdline>' % (
            linux, linux, cmdline)
        kargs = ['-kernel', os.path.join(linux, 'bzImage'), '-initrd', os.path.join(linux, 'initrd.img'),
                 '-append', cmdline]
        print()
        print('## Save and restore, Linux guest (Debian 686 kernel booted to its shell, 256 MiB; '
              'median of %d)' % a.linux_runs)
        print()
        print(hdr)
        print(sep)
        sys.stdout.flush()
        v = bench_vmm(a.top, d, None, 256, a.linux_runs, rb'HAVM-GUEST-READY', boot, 900)
        q = bench_qemu(d, None, 256, a.linux_runs, rb'HAVM-GUEST-READY', kargs, 300) if qemu else None
        print(save_row('256 MiB', v, q))
        sys.stdout.flush()
    print()
    print('## Live migration (256 MiB RAM; the same downtime limit for both, QEMU unthrottled)')
    print()
    print('| guest | downtime limit ms | vmm passes | vmm stop reason | vmm expected downtime ms '
          '| vmm downtime ms | vmm total ms | QEMU downtime ms | QEMU total ms | QEMU forced by stop |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for name, g, pat, limit in (('ticker (idle)', ticker, rb'tick 5\n', 300),
                                ('dirty (16 MiB rewritten continuously)', dirty, rb'sweep \d+', 300),
                                ('dirty (16 MiB rewritten continuously)', dirty, rb'sweep \d+', a.tight_ms)):
        r = live_vmm(a.top, d, g, 256, pat, {'downtime_ms': limit})
        row = '| %s | %d | %d | %s (%s) | %.1f | %.1f | %.1f |' % (
            name, limit, r['passes'], r['stop_reason'], 'converged' if r['converged'] else 'stop-and-copy',
            r['expected_downtime_ms'], r['downtime_ms'], r['total_ms'])
        if qemu:
            q = live_qemu(d, os.path.join(d, os.path.basename(g).replace('.bin', '.mb')), 256, pat,
                          a.live_timeout, limit)
            row += ' %.1f | %.1f | %s |' % (q['downtime_ms'], q['total_ms'], 'yes' if q['forced'] else 'no')
        else:
            row += ' - | - | - |'
        print(row)
        sys.stdout.flush()

if __name__ == '__main__':
    main()
