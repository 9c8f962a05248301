/* Dirty guest: rewrites one word in every page of 16 MiB at 4 MiB, sweep
 * after sweep, as fast as it can, and checks on each sweep that every page
 * still holds the previous sweep's number. A page lost by a live migration
 * (dirtied but not re-sent) makes it print "dirty: MISMATCH" and stop with
 * HLT; otherwise it prints "sweep N" every 64 sweeps. For the pre-copy
 * tests and benchmark: the dirty set never shrinks, so pre-copy must fall
 * back to stop-and-copy. Needs at least 20 MiB of RAM. */
#include "guest.h"

void main(void);

#define BASE 0x400000u
#define PAGES 4096u

void main(void)
{
	serial_init();
	puts_serial("dirty: start\n");
	for (u32 sweep = 1;; sweep++) {
		for (u32 p = 0; p < PAGES; p++) {
			volatile u32 *w = (volatile u32 *)(BASE + p * 4096u + (p % 1024u) * 4u);
			if (*w != sweep - 1) {
				puts_serial("dirty: MISMATCH page ");
				putu_serial(p);
				puts_serial(" sweep ");
				putu_serial(sweep);
				putc_serial('\n');
				for (;;)
					__asm__ volatile("cli; hlt");
			}
			*w = sweep;
		}
		if (sweep % 64 == 0) {
			puts_serial("sweep ");
			putu_serial(sweep);
			putc_serial('\n');
		}
	}
}
