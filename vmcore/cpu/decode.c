/* vmcore/cpu — instruction fetch and ModRM/SIB decoding.
 *
 * fetch8() (cpu_int.h) reads straight from the host page of the current
 * code page; this file handles page changes, CS limit, the 15-byte limit
 * and MMIO code, and computes effective addresses. */
#include "vmcore/cpu/cpu_int.h"

uint8_t fetch8_slow(struct cpu *c)
{
	uint32_t eip = c->s.eip;
	if (((eip - c->insn_eip) & (c->code32 ? 0xffffffffu : 0xffffu)) >= 15)
		cpu_raise(c, EXC_GP, 0);
	if (eip > c->s.seg[CPU_SEG_CS].limit)
		cpu_raise(c, EXC_GP, 0);
	uint32_t lin = c->s.seg[CPU_SEG_CS].base + eip;
	const uint8_t *h = mmu_code_page(c, lin & ~0xfffu);
	uint8_t b;
	if (h) {
		c->fetch_lin = lin & ~0xfffu;
		c->fetch_host = h;
		c->fetch_pa = ram_host_pa(c, h);
		b = h[lin & 0xfff];
	} else {
		b = (uint8_t)lin_read(c, lin, 1, c->cpl == 3);
	}
	c->s.eip = c->code32 ? eip + 1 : (eip + 1) & 0xffff;
	return b;
}

uint16_t fetch16(struct cpu *c)
{
	uint16_t lo = fetch8(c);
	return (uint16_t)(lo | (fetch8(c) << 8));
}

uint32_t fetch32(struct cpu *c)
{
	uint32_t lo = fetch16(c);
	return lo | ((uint32_t)fetch16(c) << 16);
}

static void decode_ea16(struct cpu *c, struct dec *d)
{
	const uint32_t *g = c->s.gpr;
	uint32_t ea;
	uint8_t seg = CPU_SEG_DS;
	switch (d->rm) {
	case 0: ea = g[CPU_EBX] + g[CPU_ESI]; break;
	case 1: ea = g[CPU_EBX] + g[CPU_EDI]; break;
	case 2: ea = g[CPU_EBP] + g[CPU_ESI]; seg = CPU_SEG_SS; break;
	case 3: ea = g[CPU_EBP] + g[CPU_EDI]; seg = CPU_SEG_SS; break;
	case 4: ea = g[CPU_ESI]; break;
	case 5: ea = g[CPU_EDI]; break;
	case 6:
		if (d->mod == 0) {
			ea = fetch16(c);
		} else {
			ea = g[CPU_EBP];
			seg = CPU_SEG_SS;
		}
		break;
	default: ea = g[CPU_EBX]; break;
	}
	if (d->mod == 1)
		ea += (uint32_t)(int8_t)fetch8(c);
	else if (d->mod == 2)
		ea += fetch16(c);
	d->ea = ea & 0xffff;
	d->easeg = d->seg >= 0 ? (uint8_t)d->seg : seg;
}

static void decode_ea32(struct cpu *c, struct dec *d)
{
	const uint32_t *g = c->s.gpr;
	uint32_t ea;
	uint8_t seg = CPU_SEG_DS;
	if (d->rm == 4) {
		uint8_t sib = fetch8(c);
		unsigned base = sib & 7, idx = (sib >> 3) & 7, scale = sib >> 6;
		if (base == 5 && d->mod == 0) {
			ea = fetch32(c);
		} else {
			ea = g[base];
			if (base == CPU_ESP || base == CPU_EBP)
				seg = CPU_SEG_SS;
		}
		if (idx != 4)
			ea += g[idx] << scale;
	} else if (d->rm == 5 && d->mod == 0) {
		ea = fetch32(c);
	} else {
		ea = g[d->rm];
		if (d->rm == CPU_EBP)
			seg = CPU_SEG_SS;
	}
	if (d->mod == 1)
		ea += (uint32_t)(int8_t)fetch8(c);
	else if (d->mod == 2)
		ea += fetch32(c);
	d->ea = ea;
	d->easeg = d->seg >= 0 ? (uint8_t)d->seg : seg;
}

void decode_modrm(struct cpu *c, struct dec *d)
{
	uint8_t m = fetch8(c);
	d->modrm = m;
	d->mod = m >> 6;
	d->reg = (m >> 3) & 7;
	d->rm = m & 7;
	if (d->mod == 3)
		return;
	if (d->a32)
		decode_ea32(c, d);
	else
		decode_ea16(c, d);
}
