/* Ticker guest: programs the PIC and the PIT (100 Hz on IRQ 0), then
 * sleeps in HLT and prints "tick N" on COM1 every 10 timer interrupts
 * (every 100 ms of guest time). Used by test_vmm_ticker.sh and the save/
 * restore tests: the counter must continue, never restart. */
#include "guest.h"

extern volatile u32 ticks;
void main(void);
extern char irq0_stub[], ignore_stub[];

struct idt_entry {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(8)));

static void set_gate(int v, void *handler)
{
	u32 a = (u32)handler;
	idt[v] = (struct idt_entry){ (u16)a, 0x10, 0, 0x8e, (u16)(a >> 16) };
}

static void idt_load(void)
{
	struct { u16 limit; u32 base; } __attribute__((packed)) d = { sizeof(idt) - 1, (u32)idt };
	__asm__ volatile("lidt %0" : : "m"(d));
}

static void pic_init(void)
{
	outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
	outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
	outb(0x21, 0xfe);   /* only IRQ 0 */
	outb(0xa1, 0xff);
}

static void pit_init(void)
{
	u16 div = 11932;    /* 1193182 / 100 */
	outb(0x43, 0x34);   /* channel 0, lo/hi, mode 2 */
	outb(0x40, (u8)div);
	outb(0x40, (u8)(div >> 8));
}

void main(void)
{
	for (int v = 0; v < 256; v++)
		set_gate(v, ignore_stub);
	set_gate(0x20, irq0_stub);
	idt_load();
	serial_init();
	puts_serial("ticker: start\n");
	pic_init();
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
