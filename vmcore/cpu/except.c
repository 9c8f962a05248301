/* vmcore/cpu — raising exceptions and delivering exceptions and interrupts
 * through the IVT (real mode) or the IDT (interrupt and trap gates, with the
 * TSS stack switch on a privilege change).
 *
 * cpu_raise() unwinds to the run loop; cpu_handle_fault() rewinds EIP/ESP to
 * the faulting instruction, applies the double-fault rules and delivers.
 * The delivery writes the whole frame before it changes any register, so a
 * fault while pushing restarts cleanly. */
#include "vmcore/cpu/cpu_int.h"

bool exc_has_error_code(int vec)
{
	return vec == EXC_DF || (vec >= EXC_TS && vec <= EXC_PF) || vec == EXC_AC;
}

NORETURN void cpu_raise(struct cpu *c, int vec, uint32_t err)
{
	c->exc_vec = vec;
	c->exc_err = err;
	c->exc_has_err = exc_has_error_code(vec);
	longjmp(c->jmp, 1);
}

NORETURN void cpu_raise_noerr(struct cpu *c, int vec)
{
	cpu_raise(c, vec, 0);
}

static bool contributory(int vec)
{
	return vec == EXC_DE || (vec >= EXC_TS && vec <= EXC_GP);
}

void cpu_handle_fault(struct cpu *c)
{
	int vec = c->exc_vec;
	uint32_t err = c->exc_err;
	bool has_err = c->exc_has_err;

	c->s.eip = c->insn_eip;
	c->s.gpr[CPU_ESP] = c->insn_esp;
	c->stats.exceptions++;
	if (c->trap_exceptions) {
		c->last_exc = vec;
		c->last_exc_err = err;
		c->delivering = -1;
		return;
	}
	int prev = c->delivering;
	if (prev == EXC_DF) {
		c->shutdown = true;
		c->delivering = -1;
		return;
	}
	if (prev >= 0 && ((contributory(prev) && contributory(vec)) ||
			  (prev == EXC_PF && (contributory(vec) || vec == EXC_PF)))) {
		vec = EXC_DF;
		err = 0;
		has_err = true;
	}
	c->delivering = vec;
	cpu_deliver(c, vec, has_err, err, false, c->s.eip);
	c->delivering = -1;
}

static void deliver_real(struct cpu *c, int vec, uint32_t next_eip)
{
	uint32_t a = (uint32_t)vec * 4;
	if (a + 3 > c->s.idt.limit)
		cpu_raise(c, EXC_GP, 0);
	uint16_t ip = (uint16_t)sys_read(c, c->s.idt.base + a, 2);
	uint16_t cs = (uint16_t)sys_read(c, c->s.idt.base + a + 2, 2);
	uint32_t fl = flags_get(c);
	push(c, 2, fl);
	push(c, 2, c->s.seg[CPU_SEG_CS].selector);
	push(c, 2, next_eip);
	c->s.eflags &= ~(F_IF | F_TF | F_AC | F_RF);
	seg_load_real(c, CPU_SEG_CS, cs);
	c->s.eip = ip;
}

/* Reads the ring-@dpl stack pointer from the current TSS. */
static void tss_stack(struct cpu *c, unsigned dpl, uint16_t *ss, uint32_t *esp, uint32_t ext)
{
	const struct cpu_segment *tr = &c->s.tr;
	bool tss32 = tr->type & 8;
	uint32_t off = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;
	uint32_t need = off + (tss32 ? 5 : 3);
	if (tr->unusable || need > tr->limit)
		cpu_raise(c, EXC_TS, (tr->selector & 0xfffc) | ext);
	if (tss32) {
		*esp = sys_read(c, tr->base + off, 4);
		*ss = (uint16_t)sys_read(c, tr->base + off + 4, 2);
	} else {
		*esp = sys_read(c, tr->base + off, 2);
		*ss = (uint16_t)sys_read(c, tr->base + off + 2, 2);
	}
}

/* Checks a new SS for a stack switch to ring @dpl; returns its descriptor. */
static void check_new_ss(struct cpu *c, uint16_t ss, unsigned dpl, uint32_t *lo, uint32_t *hi, uint32_t ext)
{
	uint32_t e = (ss & 0xfffc) | ext;
	if ((ss & 0xfffc) == 0)
		cpu_raise(c, EXC_TS, ext);
	if (desc_load(c, ss, lo, hi) < 0)
		cpu_raise(c, EXC_TS, e);
	unsigned type = (*hi >> 8) & 0xf;
	if ((ss & 3) != dpl || ((*hi >> 13) & 3) != dpl || !(*hi & 0x1000) || (type & 8) || !(type & 2))
		cpu_raise(c, EXC_TS, e);
	if (!(*hi & 0x8000))
		cpu_raise(c, EXC_SS, e);
}

/* Writes @n values (first = highest address) below @esp on the stack
 * described by @base/@big; returns the new ESP. */
static uint32_t write_frame(struct cpu *c, uint32_t base, bool big, uint32_t esp,
			    const uint32_t *vals, int n, unsigned size, bool user)
{
	uint32_t mask = big ? 0xffffffffu : 0xffffu;
	for (int i = 0; i < n; i++) {
		esp -= size;
		lin_write(c, base + (esp & mask), size, vals[i], user);
	}
	return big ? esp : (c->s.gpr[CPU_ESP] & 0xffff0000u) | (esp & 0xffff);
}

void load_cs_raw(struct cpu *c, uint16_t sel, uint32_t lo, uint32_t hi, uint8_t cpl)
{
	seg_set_cache(&c->s.seg[CPU_SEG_CS], (uint16_t)((sel & 0xfffc) | cpl), lo, hi | 0x100);
	c->cpl = cpl;
	seg_refresh_fast(c, CPU_SEG_CS);
	c->fetch_lin = TLB_INVALID;
}

static void deliver_prot(struct cpu *c, int vec, bool has_err, uint32_t err, bool soft, uint32_t next_eip)
{
	uint32_t ext = soft ? 0 : 1;
	uint32_t gerr = (uint32_t)vec * 8 + 2 + ext;
	if ((uint32_t)vec * 8 + 7 > c->s.idt.limit)
		cpu_raise(c, EXC_GP, gerr);
	uint32_t glo = sys_read(c, c->s.idt.base + vec * 8, 4);
	uint32_t ghi = sys_read(c, c->s.idt.base + vec * 8 + 4, 4);
	unsigned gtype = (ghi >> 8) & 0x1f, gdpl = (ghi >> 13) & 3;
	if (gtype != 0x06 && gtype != 0x07 && gtype != 0x0e && gtype != 0x0f)
		cpu_raise(c, EXC_GP, gerr);   /* task gates are not implemented */
	if (soft && gdpl < c->cpl)
		cpu_raise(c, EXC_GP, gerr);
	if (!(ghi & 0x8000))
		cpu_raise(c, EXC_NP, gerr);
	bool gate32 = gtype & 8, trap = gtype & 1;
	uint16_t sel = (uint16_t)(glo >> 16);
	uint32_t off = gate32 ? (glo & 0xffff) | (ghi & 0xffff0000u) : glo & 0xffff;
	uint32_t lo, hi;
	if ((sel & 0xfffc) == 0)
		cpu_raise(c, EXC_GP, ext);
	if (desc_load(c, sel, &lo, &hi) < 0)
		cpu_raise(c, EXC_GP, (sel & 0xfffc) | ext);
	unsigned type = (hi >> 8) & 0xf, dpl = (hi >> 13) & 3;
	if (!(hi & 0x1000) || !(type & 8) || dpl > c->cpl)
		cpu_raise(c, EXC_GP, (sel & 0xfffc) | ext);
	if (!(hi & 0x8000))
		cpu_raise(c, EXC_NP, (sel & 0xfffc) | ext);
	if (off > desc_limit(lo, hi))
		cpu_raise(c, EXC_GP, ext);

	unsigned size = gate32 ? 4 : 2;
	uint32_t fl = flags_get(c);
	uint32_t vals[6];
	int n = 0;
	bool conforming = type & 4;
	if (!conforming && dpl < c->cpl) {
		uint16_t nss;
		uint32_t nesp, slo, shi;
		tss_stack(c, dpl, &nss, &nesp, ext);
		check_new_ss(c, nss, dpl, &slo, &shi, ext);
		vals[n++] = c->s.seg[CPU_SEG_SS].selector;
		vals[n++] = c->s.gpr[CPU_ESP];
		vals[n++] = fl;
		vals[n++] = c->s.seg[CPU_SEG_CS].selector;
		vals[n++] = next_eip;
		if (has_err)
			vals[n++] = err;
		bool big = (shi >> 22) & 1;
		uint32_t base = desc_base(slo, shi);
		if (!big)
			nesp &= 0xffff;
		uint32_t esp = nesp;
		for (int i = 0; i < n; i++) {
			esp -= size;
			lin_write(c, base + (esp & (big ? 0xffffffffu : 0xffffu)), size, vals[i], dpl == 3);
		}
		/* commit */
		desc_set_accessed(c, nss, shi);
		seg_set_cache(&c->s.seg[CPU_SEG_SS], nss, slo, shi | 0x100);
		c->s.gpr[CPU_ESP] = big ? esp : (nesp & 0xffff0000u) | (esp & 0xffff);
		load_cs_raw(c, sel, lo, hi, (uint8_t)dpl);
		seg_refresh_fast(c, CPU_SEG_SS);
		for (int s = 0; s < CPU_SEG_COUNT; s++)
			if (s != CPU_SEG_CS && s != CPU_SEG_SS)
				seg_validate_for_cpl(c, s);
	} else {
		if (!conforming && dpl != c->cpl)
			cpu_raise(c, EXC_GP, (sel & 0xfffc) | ext);
		vals[n++] = fl;
		vals[n++] = c->s.seg[CPU_SEG_CS].selector;
		vals[n++] = next_eip;
		if (has_err)
			vals[n++] = err;
		const struct cpu_segment *ss = &c->s.seg[CPU_SEG_SS];
		uint32_t esp = write_frame(c, ss->base, ss->db, c->s.gpr[CPU_ESP], vals, n, size, c->cpl == 3);
		c->s.gpr[CPU_ESP] = esp;
		desc_set_accessed(c, sel, hi);
		load_cs_raw(c, sel, lo, hi, c->cpl);
	}
	c->s.eip = off;
	c->s.eflags &= ~(F_TF | F_NT | F_RF | F_VM);
	if (!trap)
		c->s.eflags &= ~F_IF;
}

void cpu_deliver(struct cpu *c, int vec, bool has_err, uint32_t err, bool soft, uint32_t next_eip)
{
	c->s.halted = 0;
	if (c->pmode)
		deliver_prot(c, vec, has_err, err, soft, next_eip);
	else
		deliver_real(c, vec, next_eip);
}
