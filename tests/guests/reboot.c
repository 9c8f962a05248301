/* Reboot guest: counts its boots in CMOS NVRAM byte 0x40 (which survives a
 * reset, unlike RAM) and prints "boot N". Boot 1 resets through the i8042
 * (command 0xFE), boot 2 through port 0x92 bit 0, boot 3 halts with
 * interrupts off. */
#include "guest.h"

void main(void);

void main(void)
{
	serial_init();
	outb(0x70, 0x40);
	u8 n = (u8)(inb(0x71) + 1);
	outb(0x70, 0x40);
	outb(0x71, n);
	puts_serial("boot ");
	putu_serial(n);
	putc_serial('\n');
	if (n == 1) {
		outb(0x64, 0xfe);        /* keyboard controller reset pulse */
	} else if (n == 2) {
		outb(0x92, inb(0x92) | 1);   /* fast reset through port 0x92 */
	}
	/* n == 3 (or a reset that did not happen): stop. */
}
