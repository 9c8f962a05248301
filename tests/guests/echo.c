/* Echo guest: an interactive serial console in miniature. Receives on COM1
 * with the RX interrupt (IRQ 4), transmits with the THRE interrupt (one
 * byte per interrupt, IER.THRI on while output is queued), sleeps in HLT in
 * between, and echoes every letter in upper case. */
#include "idt.h"

void main(void);

static char txq[256];
static u32 head, tail;

void main(void)
{
	idt_init();
	idt_set_gate(0x24, eoi_stub);
	serial_init();
	puts_serial("echo: ready\n");
	pic_init(0xef);                  /* only IRQ 4 */
	for (;;) {
		while (inb(COM1 + 5) & 0x01) {
			char c = (char)inb(COM1);
			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if (head - tail < sizeof(txq))
				txq[head++ % sizeof(txq)] = c;
		}
		outb(COM1 + 1, head != tail ? 0x03 : 0x01);   /* RDI, plus THRI while queued */
		__asm__ volatile("sti; hlt; cli");
		(void)inb(COM1 + 2);                           /* IIR: acknowledges THRE */
		if (head != tail && (inb(COM1 + 5) & 0x20))
			outb(COM1, (u8)txq[tail++ % sizeof(txq)]);
	}
}
