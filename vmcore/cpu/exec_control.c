/* vmcore/cpu — far control transfers: far JMP/CALL (direct and through
 * call gates, with the TSS stack switch and parameter copy), far RET, IRET
 * and ENTER. Each reads and checks everything before it commits. Task
 * switches (TSS or task-gate targets) are not implemented: #GP. */
#include "vmcore/cpu/cpu_int.h"

static void far_real(struct cpu *c, struct dec *d, uint16_t sel, uint32_t off, bool call)
{
	unsigned size = d->o32 ? 4 : 2;
	if (call) {
		uint32_t cs = c->s.seg[CPU_SEG_CS].selector, eip = c->s.eip;
		uint32_t esp = c->s.gpr[CPU_ESP];
		push(c, size, cs);
		push(c, size, eip);
		(void)esp;
	}
	seg_load_real(c, CPU_SEG_CS, sel);
	c->s.eip = d->o32 ? off : off & 0xffff;
}

/* Far CALL through a call gate to a more privileged level. */
static void call_gate_inner(struct cpu *c, struct dec *d, uint32_t glo, uint32_t ghi,
			    uint16_t csel, uint32_t lo, uint32_t hi, uint32_t off)
{
	(void)d;
	unsigned dpl = (hi >> 13) & 3;
	bool gate32 = (ghi >> 11) & 1;
	unsigned size = gate32 ? 4 : 2, nparam = ghi & 0x1f;
	const struct cpu_segment *tr = &c->s.tr;
	bool tss32 = tr->type & 8;
	uint32_t toff = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;
	if (tr->unusable || toff + (tss32 ? 5 : 3) > tr->limit)
		cpu_raise(c, EXC_TS, tr->selector & 0xfffc);
	uint32_t nesp = tss32 ? sys_read(c, tr->base + toff, 4) : sys_read(c, tr->base + toff, 2);
	uint16_t nss = (uint16_t)sys_read(c, tr->base + toff + (tss32 ? 4 : 2), 2);
	uint32_t slo, shi;
	if ((nss & 0xfffc) == 0 || desc_load(c, nss, &slo, &shi) < 0)
		cpu_raise(c, EXC_TS, nss & 0xfffc);
	unsigned stype = (shi >> 8) & 0xf;
	if ((nss & 3) != dpl || ((shi >> 13) & 3) != dpl || !(shi & 0x1000) || (stype & 8) || !(stype & 2))
		cpu_raise(c, EXC_TS, nss & 0xfffc);
	if (!(shi & 0x8000))
		cpu_raise(c, EXC_SS, nss & 0xfffc);
	uint32_t vals[40];
	int n = 0;
	vals[n++] = c->s.seg[CPU_SEG_SS].selector;
	vals[n++] = c->s.gpr[CPU_ESP];
	for (int i = (int)nparam - 1; i >= 0; i--)
		vals[n++] = stack_read(c, (unsigned)i * size, size);
	vals[n++] = c->s.seg[CPU_SEG_CS].selector;
	vals[n++] = c->s.eip;
	bool big = (shi >> 22) & 1;
	uint32_t base = desc_base(slo, shi), mask = big ? 0xffffffffu : 0xffffu;
	uint32_t esp = nesp;
	for (int i = 0; i < n; i++) {
		esp -= size;
		lin_write(c, base + (esp & mask), size, vals[i], dpl == 3);
	}
	desc_set_accessed(c, nss, shi);
	seg_set_cache(&c->s.seg[CPU_SEG_SS], nss, slo, shi | 0x100);
	c->s.gpr[CPU_ESP] = big ? esp : (nesp & 0xffff0000u) | (esp & 0xffff);
	load_cs_raw(c, csel, lo, hi, (uint8_t)dpl);
	seg_refresh_fast(c, CPU_SEG_SS);
	c->s.eip = off;
	(void)glo;
}

void exec_far_jmp_call(struct cpu *c, struct dec *d, uint16_t sel, uint32_t off, bool call)
{
	if (!c->pmode || (c->s.eflags & F_VM)) {
		far_real(c, d, sel, off, call);
		return;
	}
	uint32_t lo, hi;
	uint16_t err = sel & 0xfffc;
	if (err == 0)
		cpu_raise(c, EXC_GP, 0);
	if (desc_load(c, sel, &lo, &hi) < 0)
		cpu_raise(c, EXC_GP, err);
	unsigned type = (hi >> 8) & 0xf, dpl = (hi >> 13) & 3, rpl = sel & 3;
	if (hi & 0x1000) {   /* code segment */
		if (!(type & 8))
			cpu_raise(c, EXC_GP, err);
		if (type & 4) {
			if (dpl > c->cpl)
				cpu_raise(c, EXC_GP, err);
		} else if (rpl > c->cpl || dpl != c->cpl) {
			cpu_raise(c, EXC_GP, err);
		}
		if (!(hi & 0x8000))
			cpu_raise(c, EXC_NP, err);
		if (!d->o32)
			off &= 0xffff;
		if (off > desc_limit(lo, hi))
			cpu_raise(c, EXC_GP, 0);
		if (call) {
			unsigned size = d->o32 ? 4 : 2;
			uint32_t cs = c->s.seg[CPU_SEG_CS].selector, eip = c->s.eip;
			uint32_t esp = c->s.gpr[CPU_ESP];
			push(c, size, cs);
			push(c, size, eip);
			(void)esp;
		}
		desc_set_accessed(c, sel, hi);
		load_cs_raw(c, sel, lo, hi, c->cpl);
		c->s.eip = off;
		return;
	}
	/* system descriptor: only call gates are supported */
	if (type != 4 && type != 0xc)
		cpu_raise(c, EXC_GP, err);
	if (dpl < c->cpl || dpl < rpl)
		cpu_raise(c, EXC_GP, err);
	if (!(hi & 0x8000))
		cpu_raise(c, EXC_NP, err);
	uint32_t glo = lo, ghi = hi;
	uint16_t csel = (uint16_t)(glo >> 16);
	uint32_t goff = (type == 0xc) ? (glo & 0xffff) | (ghi & 0xffff0000u) : glo & 0xffff;
	if ((csel & 0xfffc) == 0)
		cpu_raise(c, EXC_GP, 0);
	if (desc_load(c, csel, &lo, &hi) < 0)
		cpu_raise(c, EXC_GP, csel & 0xfffc);
	unsigned ctype = (hi >> 8) & 0xf, cdpl = (hi >> 13) & 3;
	if (!(hi & 0x1000) || !(ctype & 8) || cdpl > c->cpl)
		cpu_raise(c, EXC_GP, csel & 0xfffc);
	if (!call && !(ctype & 4) && cdpl != c->cpl)
		cpu_raise(c, EXC_GP, csel & 0xfffc);
	if (!(hi & 0x8000))
		cpu_raise(c, EXC_NP, csel & 0xfffc);
	if (goff > desc_limit(lo, hi))
		cpu_raise(c, EXC_GP, 0);
	if (call && !(ctype & 4) && cdpl < c->cpl) {
		call_gate_inner(c, d, glo, ghi, csel, lo, hi, goff);
		return;
	}
	if (call) {
		unsigned size = type == 0xc ? 4 : 2;
		push(c, size, c->s.seg[CPU_SEG_CS].selector);
		push(c, size, c->s.eip);
	}
	desc_set_accessed(c, csel, hi);
	load_cs_raw(c, csel, lo, hi, c->cpl);
	c->s.eip = goff;
}

/* Checks the CS of a far return/IRET; returns the new CPL. */
static unsigned check_return_cs(struct cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
	uint16_t err = sel & 0xfffc;
	if (err == 0)
		cpu_raise(c, EXC_GP, 0);
	if (desc_load(c, sel, lo, hi) < 0)
		cpu_raise(c, EXC_GP, err);
	unsigned type = (*hi >> 8) & 0xf, dpl = (*hi >> 13) & 3, rpl = sel & 3;
	if (!(*hi & 0x1000) || !(type & 8) || rpl < c->cpl)
		cpu_raise(c, EXC_GP, err);
	if ((type & 4) ? dpl > rpl : dpl != rpl)
		cpu_raise(c, EXC_GP, err);
	if (!(*hi & 0x8000))
		cpu_raise(c, EXC_NP, err);
	return rpl;
}

static void check_return_ss(struct cpu *c, uint16_t ss, unsigned rpl, uint32_t *lo, uint32_t *hi)
{
	uint16_t err = ss & 0xfffc;
	if (err == 0)
		cpu_raise(c, EXC_GP, 0);
	if (desc_load(c, ss, lo, hi) < 0)
		cpu_raise(c, EXC_GP, err);
	unsigned type = (*hi >> 8) & 0xf;
	if ((ss & 3) != rpl || ((*hi >> 13) & 3) != rpl || !(*hi & 0x1000) || (type & 8) || !(type & 2))
		cpu_raise(c, EXC_GP, err);
	if (!(*hi & 0x8000))
		cpu_raise(c, EXC_SS, err);
}

/* Common tail of RETF/IRET to an outer level: switch SS:ESP, drop data
 * segments the new CPL may not use. */
static void return_outer(struct cpu *c, uint16_t ss, uint32_t slo, uint32_t shi, uint32_t esp)
{
	desc_set_accessed(c, ss, shi);
	seg_set_cache(&c->s.seg[CPU_SEG_SS], ss, slo, shi | 0x100);
	seg_refresh_fast(c, CPU_SEG_SS);
	sp_set(c, esp);
	for (int s = 0; s < CPU_SEG_COUNT; s++)
		if (s != CPU_SEG_CS && s != CPU_SEG_SS)
			seg_validate_for_cpl(c, s);
}

void exec_retf(struct cpu *c, struct dec *d, uint16_t imm)
{
	unsigned size = d->o32 ? 4 : 2;
	uint32_t eip = stack_read(c, 0, size);
	uint16_t cs = (uint16_t)stack_read(c, size, 2);
	if (!c->pmode || (c->s.eflags & F_VM)) {
		seg_load_real(c, CPU_SEG_CS, cs);
		c->s.eip = d->o32 ? eip : eip & 0xffff;
		sp_set(c, c->s.gpr[CPU_ESP] + 2 * size + imm);
		return;
	}
	uint32_t lo, hi;
	unsigned rpl = check_return_cs(c, cs, &lo, &hi);
	if (!d->o32)
		eip &= 0xffff;
	if (eip > desc_limit(lo, hi))
		cpu_raise(c, EXC_GP, 0);
	if (rpl == c->cpl) {
		desc_set_accessed(c, cs, hi);
		load_cs_raw(c, cs, lo, hi, (uint8_t)rpl);
		c->s.eip = eip;
		sp_set(c, c->s.gpr[CPU_ESP] + 2 * size + imm);
		return;
	}
	uint32_t nesp = stack_read(c, 2 * size + imm, size);
	uint16_t ss = (uint16_t)stack_read(c, 3 * size + imm, 2);
	uint32_t slo, shi;
	check_return_ss(c, ss, rpl, &slo, &shi);
	desc_set_accessed(c, cs, hi);
	load_cs_raw(c, cs, lo, hi, (uint8_t)rpl);
	c->s.eip = eip;
	return_outer(c, ss, slo, shi, nesp + imm);
}

void exec_iret(struct cpu *c, struct dec *d)
{
	unsigned size = d->o32 ? 4 : 2;
	uint32_t eip = stack_read(c, 0, size);
	uint16_t cs = (uint16_t)stack_read(c, size, 2);
	uint32_t fl = stack_read(c, 2 * size, size);
	uint32_t cur = flags_get(c);
	if (!c->pmode) {
		uint32_t mask = d->o32 ? (F_ARITH | F_TF | F_IF | F_DF | F_IOPL | F_NT | F_AC | F_ID | F_RF)
				       : 0xffffu & ~0u;
		seg_load_real(c, CPU_SEG_CS, cs);
		c->s.eip = d->o32 ? eip : eip & 0xffff;
		sp_set(c, c->s.gpr[CPU_ESP] + 3 * size);
		flags_set(c, fl, mask & ~0x2u & ~0x8028u);
		return;
	}
	if (cur & F_NT)
		cpu_raise(c, EXC_GP, 0);   /* task return: task switching is not implemented */
	if (d->o32 && (fl & F_VM) && c->cpl == 0)
		cpu_raise(c, EXC_GP, 0);   /* return to virtual-8086 mode: not implemented */
	uint32_t lo, hi;
	unsigned rpl = check_return_cs(c, cs, &lo, &hi);
	if (!d->o32)
		eip &= 0xffff;
	if (eip > desc_limit(lo, hi))
		cpu_raise(c, EXC_GP, 0);
	uint32_t mask = F_ARITH | F_TF | F_DF | F_NT;
	if (d->o32)
		mask |= F_RF | F_AC | F_ID;
	if (c->cpl <= ((cur & F_IOPL) >> 12))
		mask |= F_IF;
	if (c->cpl == 0)
		mask |= F_IOPL;
	if (rpl == c->cpl) {
		desc_set_accessed(c, cs, hi);
		load_cs_raw(c, cs, lo, hi, (uint8_t)rpl);
		c->s.eip = eip;
		sp_set(c, c->s.gpr[CPU_ESP] + 3 * size);
		flags_set(c, fl, mask);
		return;
	}
	uint32_t nesp = stack_read(c, 3 * size, size);
	uint16_t ss = (uint16_t)stack_read(c, 4 * size, 2);
	uint32_t slo, shi;
	check_return_ss(c, ss, rpl, &slo, &shi);
	desc_set_accessed(c, cs, hi);
	load_cs_raw(c, cs, lo, hi, (uint8_t)rpl);
	c->s.eip = eip;
	flags_set(c, fl, mask);
	return_outer(c, ss, slo, shi, nesp);
}

void exec_enter(struct cpu *c, struct dec *d)
{
	unsigned size = d->o32 ? 4 : 2;
	uint16_t alloc = fetch16(c);
	unsigned level = fetch8(c) & 31;
	uint32_t *g = c->s.gpr;
	uint32_t mask = sp_mask(c);
	uint32_t ebp = g[CPU_EBP], esp = g[CPU_ESP];
	/* write everything below ESP first, then commit the registers */
	esp -= size;
	mem_write(c, CPU_SEG_SS, esp & mask, size, ebp);
	uint32_t frame = esp;
	if (level > 0) {
		uint32_t bp = ebp;
		for (unsigned i = 1; i < level; i++) {
			bp -= size;
			uint32_t v = mem_read(c, CPU_SEG_SS, bp & mask, size);
			esp -= size;
			mem_write(c, CPU_SEG_SS, esp & mask, size, v);
		}
		esp -= size;
		mem_write(c, CPU_SEG_SS, esp & mask, size, frame);
	}
	esp -= alloc;
	if (c->stack32) {
		g[CPU_ESP] = esp;
	} else {
		g[CPU_ESP] = (g[CPU_ESP] & 0xffff0000u) | (esp & 0xffff);
	}
	/* EBP gets the frame pointer at the stack's width (as QEMU does) */
	if (c->stack32)
		g[CPU_EBP] = frame;
	else
		reg_write(c, CPU_EBP, 2, frame);
}
