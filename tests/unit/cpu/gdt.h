/* tests/unit/cpu — a GDT, IDT and TSS for privilege and segment tests. */
#ifndef HAVM_TESTS_UNIT_CPU_GDT_H
#define HAVM_TESTS_UNIT_CPU_GDT_H

#include "tests/unit/cpu/harness.h"

#define GDT 0x20000u
#define TSS 0x21000u
#define IDT 0x22000u
#define HANDLER 0x5000u   /* vector v's handler is at HANDLER + v * 16 */
#define SEL_CODE0 0x08
#define SEL_DATA0 0x10
#define SEL_CODE3 0x1b
#define SEL_DATA3 0x23
#define SEL_TSS 0x28
#define SEL_SMALL 0x30    /* data, base 0x2000, limit 0xfff, byte granular */
#define SEL_RO 0x38       /* read-only data */

static inline void gdt_set(struct harness *h, unsigned i, uint32_t lo, uint32_t hi)
{
	h_w32(h, GDT + i * 8, lo);
	h_w32(h, GDT + i * 8 + 4, hi);
}

static inline void idt_gate(struct harness *h, unsigned vec, uint32_t hi_flags)
{
	uint32_t off = HANDLER + vec * 16;
	h_w32(h, IDT + vec * 8, ((uint32_t)SEL_CODE0 << 16) | (off & 0xffff));
	h_w32(h, IDT + vec * 8 + 4, (off & 0xffff0000u) | hi_flags);
}

#define GATE_INT_DPL0 0x8e00u
#define GATE_INT_DPL3 0xee00u

/* Descriptor tables, a TSS with ESP0 = 0x9000, every handler "hlt; iret". */
static inline void gdt_setup(struct harness *h)
{
	gdt_set(h, 0, 0, 0);
	gdt_set(h, 1, 0x0000ffff, 0x00cf9b00);
	gdt_set(h, 2, 0x0000ffff, 0x00cf9300);
	gdt_set(h, 3, 0x0000ffff, 0x00cffb00);
	gdt_set(h, 4, 0x0000ffff, 0x00cff300);
	gdt_set(h, 5, ((TSS & 0xffff) << 16) | 0x67, ((TSS >> 16) & 0xff) | 0x8b00 | (TSS & 0xff000000u));
	gdt_set(h, 6, 0x20000fff, 0x00409300);
	gdt_set(h, 7, 0x0000ffff, 0x00cf9100);
	h_w32(h, TSS + 4, 0x9000);
	h_w32(h, TSS + 8, SEL_DATA0);
	h_w32(h, TSS + 0x64, 0x00680000);   /* I/O bitmap beyond the limit */
	for (unsigned v = 0; v < 256; v++) {
		idt_gate(h, v, GATE_INT_DPL0);
		h->ram[HANDLER + v * 16] = 0xf4;       /* hlt */
		h->ram[HANDLER + v * 16 + 1] = 0xcf;   /* iret */
	}
	struct cpu_state *st = h_get(h);
	st->gdt = (struct cpu_dtable){ .base = GDT, .limit = 8 * 8 - 1 };
	st->idt = (struct cpu_dtable){ .base = IDT, .limit = 256 * 8 - 1 };
	st->tr = (struct cpu_segment){ .base = TSS, .limit = 0x67, .selector = SEL_TSS, .type = 0xb, .present = 1 };
	h_put(h);
}

static inline void enter_ring(struct harness *h, unsigned ring)
{
	struct cpu_state *st = h_get(h);
	uint16_t cs = ring ? SEL_CODE3 : SEL_CODE0, ds = ring ? SEL_DATA3 : SEL_DATA0;
	st->seg[CPU_SEG_CS] = h_flat(0xb, ring, cs);
	for (int s = 0; s < CPU_SEG_COUNT; s++)
		if (s != CPU_SEG_CS)
			st->seg[s] = h_flat(0x3, ring, ds);
	h_put(h);
}

#endif
