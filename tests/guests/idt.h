/* IDT set-up shared by the interrupt-driven test guests. */
#ifndef HAVM_TESTS_GUESTS_IDT_H
#define HAVM_TESTS_GUESTS_IDT_H

#include "guest.h"

extern char irq0_stub[], eoi_stub[], ignore_stub[];

struct idt_entry {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(8)));

static inline void idt_set_gate(int v, void *handler)
{
	u32 a = (u32)handler;
	idt[v] = (struct idt_entry){ (u16)a, 0x10, 0, 0x8e, (u16)(a >> 16) };
}

/* Every vector returns at once until set otherwise. */
static inline void idt_init(void)
{
	for (int v = 0; v < 256; v++)
		idt_set_gate(v, ignore_stub);
	struct { u16 limit; u32 base; } __attribute__((packed)) d = { sizeof(idt) - 1, (u32)idt };
	__asm__ volatile("lidt %0" : : "m"(d));
}

/* Remaps the PIC pair to 0x20/0x28 and unmasks only @master_mask's zero bits. */
static inline void pic_init(u8 master_mask)
{
	outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
	outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
	outb(0x21, master_mask);
	outb(0xa1, 0xff);
}

#endif
