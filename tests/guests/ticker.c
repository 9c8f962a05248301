/* Ticker guest: programs the PIC and the PIT (100 Hz on IRQ 0), then
 * sleeps in HLT and prints "tick N" on COM1 every 10 timer interrupts
 * (every 100 ms of guest time). Used by test_vmm_ticker.sh and the save/
 * restore tests: the counter must continue, never restart. */
#include "idt.h"

extern volatile u32 ticks;
void main(void);

static void pit_init(void)
{
	u16 div = 11932;    /* 1193182 / 100 */
	outb(0x43, 0x34);   /* channel 0, lo/hi, mode 2 */
	outb(0x40, (u8)div);
	outb(0x40, (u8)(div >> 8));
}

void main(void)
{
	idt_init();
	idt_set_gate(0x20, irq0_stub);
	serial_init();
	puts_serial("ticker: start\n");
	pic_init(0xfe);     /* only IRQ 0 */
	pit_init();
	u32 printed = 0;
	for (;;) {
		__asm__ volatile("sti; hlt; cli");
		u32 n = ticks / 10;
		if (n != printed) {
			printed = n;
			puts_serial("tick ");
			putu_serial(n);
			putc_serial('\n');
		}
	}
}
