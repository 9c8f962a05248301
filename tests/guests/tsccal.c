/* TSC calibration guest: Linux's quick_pit_calibrate() (arch/x86/kernel/
 * tsc.c) in miniature — PIT channel 2 gated through port 0x61, counting
 * down from 0xffff in mode 0, the MSB polled while reading the TSC, and the
 * same error bound (the read uncertainty below 1/2048 of the interval).
 * Prints "tsccal ok i=I delta=D" (the host computes the frequency) or
 * "tsccal failed". */
#include "guest.h"

void main(void);

static inline u32 rdtsc_lo(u32 *hi)
{
	u32 lo, h;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(h));
	*hi = h;
	return lo;
}

static inline unsigned long long tsc(void)
{
	u32 hi, lo = rdtsc_lo(&hi);
	return (unsigned long long)hi << 32 | lo;
}

static int verify_msb(u8 val)
{
	(void)inb(0x42);
	return inb(0x42) == val;
}

static int expect_msb(u8 val, unsigned long long *tscp, unsigned long long *deltap)
{
	unsigned long long t = 0, prev = 0;
	int count;
	for (count = 0; count < 50000; count++) {
		if (!verify_msb(val))
			break;
		prev = t;
		t = tsc();
	}
	*deltap = tsc() - prev;
	*tscp = t;
	return count > 5;
}

/* The calibration's 64-bit compares are CMP + SBB: say so when SBB drops
 * the borrow, since everything below then fails for that reason. */
static void check_sbb(void)
{
	u32 r, cf;
	__asm__ volatile("stc\n\tmov $0, %0\n\tsbb $0, %0\n\tsetc %b1\n\tmovzbl %b1, %1"
			 : "=&r"(r), "=&q"(cf) : : "cc");
	if (r != 0xffffffffu || cf != 1)
		puts_serial("tsccal cpu: 0 - 0 - CF(1) with SBB gave CF=0, expected 1\n");
}

void main(void)
{
	unsigned long long t0, t, d1, d2, delta;
	serial_init();
	check_sbb();
	outb(0x61, (u8)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0);
	outb(0x42, 0xff);
	outb(0x42, 0xff);
	verify_msb(0);
	if (expect_msb(0xff, &t0, &d1)) {
		for (u32 i = 1; i <= 0xfd; i++) {
			if (!expect_msb((u8)(0xff - i), &t, &d2))
				break;
			delta = t - t0;
			if (d1 + d2 >= delta >> 11)
				continue;
			if (!verify_msb((u8)(0xfe - i)))
				break;
			puts_serial("tsccal ok i=");
			putu_serial(i);
			puts_serial(" delta=");
			putu_serial((u32)delta);
			putc_serial('\n');
			return;
		}
	}
	puts_serial("tsccal failed\n");
}
