/* vmcore/cpu — system instructions: port I/O with the IOPL/TSS-bitmap check,
 * descriptor-table and task registers (0F 00, 0F 01), control and debug
 * registers, LAR/LSL/VERR/VERW, CLTS, INVD/WBINVD, UD2. */
#include "vmcore/cpu/cpu_int.h"

bool io_allowed(struct cpu *c, uint16_t port, unsigned size)
{
	if (!c->pmode || c->cpl <= ((c->s.eflags & F_IOPL) >> 12))
		return true;
	const struct cpu_segment *tr = &c->s.tr;
	if (tr->unusable || !(tr->type & 8) || tr->limit < 0x67)
		return false;
	uint32_t base = sys_read(c, tr->base + 0x66, 2);
	uint32_t at = base + port / 8;
	if (at + 1 > tr->limit)
		return false;
	uint32_t bits = sys_read(c, tr->base + at, 2);
	return ((bits >> (port & 7)) & ((1u << size) - 1)) == 0;
}

void exec_io(struct cpu *c, struct dec *d, uint8_t op)
{
	unsigned size = (op & 1) ? (d->o32 ? 4 : 2) : 1;
	uint16_t port = (op & 8) ? (uint16_t)c->s.gpr[CPU_EDX] : fetch8(c);
	if (!io_allowed(c, port, size))
		cpu_raise(c, EXC_GP, 0);
	if (op & 2) {
		if (c->bus && c->bus->pio_write)
			c->bus->pio_write(c->bus->opaque, port, size, reg_read(c, CPU_EAX, size));
	} else {
		uint32_t v = c->bus && c->bus->pio_read ? c->bus->pio_read(c->bus->opaque, port, size) : 0xffffffffu;
		reg_write(c, CPU_EAX, size, v);
	}
}

void cpu_write_cr(struct cpu *c, int cr, uint32_t v)
{
	switch (cr) {
	case 0:
		if ((v & CR0_PG) && !(v & CR0_PE))
			cpu_raise(c, EXC_GP, 0);
		if ((v & CR0_NW) && !(v & CR0_CD))
			cpu_raise(c, EXC_GP, 0);
		v |= CR0_ET;
		if ((v ^ c->s.cr0) & (CR0_PG | CR0_WP | CR0_PE))
			tlb_flush(c);
		c->s.cr0 = v;
		cpu_mode_changed(c);
		break;
	case 2: c->s.cr2 = v; break;
	case 3: c->s.cr3 = v; tlb_flush(c); break;
	case 4:
		if (v & ~(CR4_PSE | CR4_TSD))
			cpu_raise(c, EXC_GP, 0);   /* only what CPUID advertises */
		if ((v ^ c->s.cr4) & CR4_PSE)
			tlb_flush(c);
		c->s.cr4 = v;
		break;
	default:
		cpu_raise(c, EXC_UD, 0);
	}
}

static void exec_grp6(struct cpu *c, struct dec *d)
{
	if (!c->pmode)
		cpu_raise(c, EXC_UD, 0);
	decode_modrm(c, d);
	uint16_t sel;
	uint32_t lo, hi;
	switch (d->reg) {
	case 0: /* SLDT */
		rm_write(c, d, d->mod == 3 && d->o32 ? 4 : 2, c->s.ldtr.selector);
		return;
	case 1: /* STR */
		rm_write(c, d, d->mod == 3 && d->o32 ? 4 : 2, c->s.tr.selector);
		return;
	case 2: /* LLDT */
	case 3: /* LTR */
		if (c->cpl != 0)
			cpu_raise(c, EXC_GP, 0);
		sel = (uint16_t)rm_read(c, d, 2);
		if ((sel & 0xfffc) == 0) {
			if (d->reg == 3)
				cpu_raise(c, EXC_GP, 0);
			c->s.ldtr.selector = sel;
			c->s.ldtr.unusable = 1;
			return;
		}
		if ((sel & 4) || desc_load(c, sel, &lo, &hi) < 0)
			cpu_raise(c, EXC_GP, sel & 0xfffc);
		{
			unsigned type = (hi >> 8) & 0x1f;
			if (d->reg == 2 ? type != 0x02 : (type != 0x01 && type != 0x09))
				cpu_raise(c, EXC_GP, sel & 0xfffc);
			if (!(hi & 0x8000))
				cpu_raise(c, EXC_NP, sel & 0xfffc);
			if (d->reg == 2) {
				seg_set_cache(&c->s.ldtr, sel, lo, hi);
			} else {
				hi |= 0x200;   /* mark the TSS busy */
				sys_write(c, c->s.gdt.base + (sel & ~7u) + 4, 4, hi);
				seg_set_cache(&c->s.tr, sel, lo, hi);
			}
		}
		return;
	case 4: /* VERR */
	case 5: { /* VERW */
		sel = (uint16_t)rm_read(c, d, 2);
		bool okv = false;
		if ((sel & 0xfffc) && desc_load(c, sel, &lo, &hi) == 0 && (hi & 0x1000)) {
			unsigned type = (hi >> 8) & 0xf, dpl = (hi >> 13) & 3;
			bool conf = (type & 0xc) == 0xc;
			bool priv = conf || (dpl >= c->cpl && dpl >= (sel & 3u));
			okv = priv && (d->reg == 4 ? (!(type & 8) || (type & 2)) : (!(type & 8) && (type & 2)));
		}
		uint32_t f = flags_get(c);
		flags_put_arith(c, okv ? f | F_ZF : f & ~F_ZF);
		return;
	}
	default:
		cpu_raise(c, EXC_UD, 0);
	}
}

static void exec_grp7(struct cpu *c, struct dec *d)
{
	decode_modrm(c, d);
	switch (d->reg) {
	case 0: /* SGDT */
	case 1: { /* SIDT */
		if (d->mod == 3)
			cpu_raise(c, EXC_UD, 0);
		const struct cpu_dtable *t = d->reg ? &c->s.idt : &c->s.gdt;
		uint32_t base = d->o32 ? t->base : t->base & 0xffffff;
		mem_write(c, d->easeg, d->ea, 2, t->limit);
		mem_write(c, d->easeg, d->ea + 2, 4, base);
		return;
	}
	case 2: /* LGDT */
	case 3: { /* LIDT */
		if (d->mod == 3)
			cpu_raise(c, EXC_UD, 0);
		if (c->pmode && c->cpl != 0)
			cpu_raise(c, EXC_GP, 0);
		uint16_t limit = (uint16_t)mem_read(c, d->easeg, d->ea, 2);
		uint32_t base = mem_read(c, d->easeg, d->ea + 2, 4);
		if (!d->o32)
			base &= 0xffffff;
		struct cpu_dtable *t = d->reg == 3 ? &c->s.idt : &c->s.gdt;
		t->base = base;
		t->limit = limit;
		return;
	}
	case 4: /* SMSW */
		rm_write(c, d, d->mod == 3 && d->o32 ? 4 : 2, c->s.cr0);
		return;
	case 6: { /* LMSW: can set PE but not clear it */
		if (c->pmode && c->cpl != 0)
			cpu_raise(c, EXC_GP, 0);
		uint32_t v = rm_read(c, d, 2) & 0xf;
		uint32_t cr0 = (c->s.cr0 & ~0xeu) | v | (c->s.cr0 & CR0_PE);
		cpu_write_cr(c, 0, cr0);
		return;
	}
	case 7: /* INVLPG */
		if (d->mod == 3)
			cpu_raise(c, EXC_UD, 0);
		if (c->pmode && c->cpl != 0)
			cpu_raise(c, EXC_GP, 0);
		tlb_flush_page(c, c->s.seg[d->easeg].base + d->ea);
		return;
	default:
		cpu_raise(c, EXC_UD, 0);
	}
}

static void exec_lar_lsl(struct cpu *c, struct dec *d, bool lsl)
{
	if (!c->pmode)
		cpu_raise(c, EXC_UD, 0);
	decode_modrm(c, d);
	uint16_t sel = (uint16_t)rm_read(c, d, 2);
	uint32_t lo, hi, f = flags_get(c);
	bool okv = false;
	if ((sel & 0xfffc) && desc_load(c, sel, &lo, &hi) == 0) {
		unsigned type = (hi >> 8) & 0x1f, dpl = (hi >> 13) & 3;
		bool valid_sys = lsl ? (type == 1 || type == 2 || type == 3 || type == 9 || type == 0xb)
				     : (type == 1 || type == 2 || type == 3 || type == 4 || type == 5 ||
					type == 9 || type == 0xb || type == 0xc);
		bool conf = (type & 0x1c) == 0x1c;
		okv = (type & 0x10) ? (conf || (dpl >= c->cpl && dpl >= (sel & 3u)))
				    : (valid_sys && dpl >= c->cpl && dpl >= (sel & 3u));
		if (okv)
			reg_write(c, d->reg, d->o32 ? 4 : 2, lsl ? desc_limit(lo, hi) : hi & 0x00f0ff00u);
	}
	flags_put_arith(c, okv ? f | F_ZF : f & ~F_ZF);
}

void exec_0f_system(struct cpu *c, struct dec *d, uint8_t op)
{
	bool priv = c->pmode && c->cpl != 0;
	switch (op) {
	case 0x00: exec_grp6(c, d); return;
	case 0x01: exec_grp7(c, d); return;
	case 0x02: exec_lar_lsl(c, d, false); return;
	case 0x03: exec_lar_lsl(c, d, true); return;
	case 0x06: /* CLTS */
		if (priv)
			cpu_raise(c, EXC_GP, 0);
		c->s.cr0 &= ~CR0_TS;
		return;
	case 0x08: case 0x09: /* INVD, WBINVD: no caches to manage */
		if (priv)
			cpu_raise(c, EXC_GP, 0);
		return;
	case 0x20: case 0x21: case 0x22: case 0x23: {
		decode_modrm(c, d);   /* mod is ignored: always a register */
		if (priv)
			cpu_raise(c, EXC_GP, 0);
		unsigned r = d->reg;
		if (op == 0x20) {
			uint32_t v = r == 0 ? c->s.cr0 : r == 2 ? c->s.cr2 : r == 3 ? c->s.cr3 : r == 4 ? c->s.cr4 : 0;
			if (r == 1 || r > 4)
				cpu_raise(c, EXC_UD, 0);
			c->s.gpr[d->rm] = v;
		} else if (op == 0x22) {
			if (r == 1 || r > 4)
				cpu_raise(c, EXC_UD, 0);
			cpu_write_cr(c, (int)r, c->s.gpr[d->rm]);
		} else if (op == 0x21) {
			c->s.gpr[d->rm] = c->s.dr[r == 4 ? 6 : r == 5 ? 7 : r];
		} else {
			c->s.dr[r == 4 ? 6 : r == 5 ? 7 : r] = c->s.gpr[d->rm];
		}
		return;
	}
	case 0x0b: case 0xb9: case 0xff:
	default:
		cpu_raise(c, EXC_UD, 0);
	}
}
