/* vmcore/cpu — the x87 FPU: opcode dispatch (D8-DF, FWAIT), the register
 * stack with its stack faults, and exception reporting.
 *
 * Each instruction reads its operands (memory first, so a fault leaves the
 * FPU untouched), runs the operation on the host x87 (fpu_host.c), then
 * applies the guest's exception masks: a masked exception takes the
 * hardware's default result (the host computed exactly that); an unmasked
 * invalid, denormal or divide-by-zero exception leaves the destination and
 * the stack unchanged; any unmasked exception sets ES and B, and the next
 * waiting x87 instruction raises #MF (CR0.NE=1). With CR0.NE=0 a PC routes
 * FERR# to IRQ13; this CPU has no line to the PIC for it, so the pending
 * exception is then ignored (Linux on a 686 runs with NE=1). Unmasked
 * overflow/underflow with a register destination store the masked result
 * instead of the exponent-rebiased one. */
#include "vmcore/cpu/fpu_int.h"

const bool fpu_implemented = true;

void fpu_reset(struct cpu *c)
{
	memset(&c->s.fpu, 0, sizeof(c->s.fpu));
	fpu_init(c);
	c->s.fpu.mxcsr = 0x1f80;
}

/* Before a waiting instruction: a pending unmasked exception faults. */
static void fpu_check_pending(struct cpu *c)
{
	if ((c->s.fpu.fsw & FSW_ES) && (c->s.cr0 & CR0_NE))
		cpu_raise(c, EXC_MF, 0);
}

void fpu_wait(struct cpu *c)
{
	if ((c->s.cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
		cpu_raise(c, EXC_NM, 0);
	fpu_check_pending(c);
}

/* Merges exception flags @exc; returns false when an unmasked IE, DE or
 * ZE forbids writing the result. */
static bool fpu_raise_flags(struct cpu *c, uint16_t exc)
{
	struct cpu_fxsave *f = &c->s.fpu;
	exc &= FSW_EXC | FSW_SF;
	f->fsw |= exc;
	uint16_t unmasked = exc & ~f->fcw & FSW_EXC;
	if (unmasked)
		f->fsw |= FSW_ES | FSW_B;
	return !(unmasked & (FSW_IE | FSW_DE | FSW_ZE));
}

/* Host status of an arithmetic op: flags, and C1 (rounded up). */
static bool fpu_apply(struct cpu *c, uint16_t hsw)
{
	c->s.fpu.fsw = (uint16_t)((c->s.fpu.fsw & ~FSW_C1) | (hsw & FSW_C1));
	return fpu_raise_flags(c, hsw);
}

/* Stack underflow (#IS): returns true when masked (write the indefinite). */
static bool fpu_underflow(struct cpu *c)
{
	c->s.fpu.fsw &= (uint16_t)~FSW_C1;
	return fpu_raise_flags(c, FSW_IE | FSW_SF);
}

/* Pushes @v; on overflow (ST7 in use) pushes the indefinite if masked. */
static void fpu_push(struct cpu *c, struct f80 v)
{
	if (!fpu_empty(c, 7)) {
		c->s.fpu.fsw |= FSW_C1;
		if (!fpu_raise_flags(c, FSW_IE | FSW_SF))
			return;
		v = F80_INDEFINITE;
	}
	fpu_set_top(c, fpu_top(c) - 1);
	fpu_st_set(c, 0, v);
}

/* FIP/FCS/FOP and FDP/FDS of the last non-control instruction. */
static void fpu_note(struct cpu *c, const struct dec *d, uint8_t op)
{
	struct cpu_fxsave *f = &c->s.fpu;
	f->fip = c->insn_eip;
	f->fcs = c->s.seg[CPU_SEG_CS].selector;
	f->fop = (uint16_t)(((op & 7u) << 8) | d->modrm);
	if (d->mod != 3) {
		f->fdp = d->ea;
		f->fds = c->s.seg[d->easeg].selector;
	}
}

static unsigned mfmt_size(enum fpu_mfmt fmt)
{
	static const uint8_t sz[] = { [MF_F32] = 4, [MF_F64] = 8, [MF_F80] = 10, [MF_I16] = 2,
				      [MF_I32] = 4, [MF_I64] = 8, [MF_BCD] = 10 };
	return sz[fmt];
}

static uint32_t at(const struct dec *d, uint32_t i)
{
	return d->a32 ? d->ea + i : (d->ea + i) & 0xffff;
}

static void mem_get(struct cpu *c, const struct dec *d, uint8_t *buf, unsigned n)
{
	for (unsigned i = 0; i < n; i += 2) {
		uint16_t w = (uint16_t)mem_read(c, d->easeg, at(d, i), 2);
		memcpy(buf + i, &w, 2);
	}
}

static void mem_put(struct cpu *c, const struct dec *d, const uint8_t *buf, unsigned n)
{
	/* the last word first: a fault at the end of the operand writes nothing */
	for (unsigned i = n; i >= 2; i -= 2) {
		uint16_t w;
		memcpy(&w, buf + i - 2, 2);
		mem_write(c, d->easeg, at(d, i - 2), 2, w);
	}
}

/* Reads a memory operand and converts it; returns the host status. */
static uint16_t load_mem(struct cpu *c, const struct dec *d, enum fpu_mfmt fmt, struct f80 *v)
{
	uint8_t buf[16] = { 0 };
	mem_get(c, d, buf, mfmt_size(fmt));
	return fpu_host_load(fmt, c->s.fpu.fcw, buf, v);
}

/* FST/FSTP/FIST/FISTP/FBSTP to memory. */
static void store_mem(struct cpu *c, const struct dec *d, enum fpu_mfmt fmt, bool pop)
{
	struct f80 v = fpu_st(c, 0);
	uint16_t exc = 0;
	if (fpu_empty(c, 0)) {
		c->s.fpu.fsw &= (uint16_t)~FSW_C1;
		exc = FSW_IE | FSW_SF;
		v = F80_INDEFINITE;
	}
	uint8_t buf[16];
	uint16_t hsw = fpu_host_store(fmt, c->s.fpu.fcw, &v, buf);
	exc |= hsw & FSW_EXC;
	uint16_t unmasked = exc & ~c->s.fpu.fcw & FSW_EXC;
	/* unmasked IE/DE/OE/UE: memory is not written and nothing pops */
	bool write = !(unmasked & (FSW_IE | FSW_DE | FSW_OE | FSW_UE));
	if (write)
		mem_put(c, d, buf, mfmt_size(fmt));
	if (!(exc & FSW_SF))
		c->s.fpu.fsw = (uint16_t)((c->s.fpu.fsw & ~FSW_C1) | (hsw & FSW_C1));
	fpu_raise_flags(c, exc);
	if (write && pop)
		fpu_pop(c);
}

/* Sets C0/C2/C3 from a compare's host status (unordered = all three). */
static void set_cc(struct cpu *c, uint16_t cc)
{
	c->s.fpu.fsw = (uint16_t)((c->s.fpu.fsw & ~FSW_CC) | (cc & (FSW_C0 | FSW_C2 | FSW_C3)));
}

/* The arithmetic group (reg field of D8/DA/DC/DE): ST0 op b, the result to
 * ST(@dst); 2/3 are compares. @npop pops after a compare or ...P form. */
static void arith(struct cpu *c, unsigned reg, unsigned dst, struct f80 b, bool b_empty,
		  uint16_t load_sw, unsigned npop)
{
	static const enum fpu_hop hop[8] = { HOP_ADD, HOP_MUL, HOP_COM, HOP_COM,
					     HOP_SUB, HOP_SUBR, HOP_DIV, HOP_DIVR };
	bool ok;
	struct f80 a = fpu_st(c, 0), r0, r1;
	if (fpu_empty(c, 0) || b_empty) {
		ok = fpu_underflow(c);
		if (reg == 2 || reg == 3) {
			if (ok) set_cc(c, FSW_C0 | FSW_C2 | FSW_C3);
		} else if (ok) {
			fpu_st_set(c, dst, F80_INDEFINITE);
		}
	} else {
		uint16_t sw = fpu_host_op(hop[reg], c->s.fpu.fcw, &a, &b, &r0, &r1);
		sw |= load_sw & FSW_EXC;
		if (reg == 2 || reg == 3) {
			c->s.fpu.fsw &= (uint16_t)~FSW_C1;
			ok = fpu_raise_flags(c, sw);
			if (ok) set_cc(c, sw);
		} else {
			ok = fpu_apply(c, sw);
			if (ok) fpu_st_set(c, dst, r0);
		}
	}
	if (ok)
		for (unsigned i = 0; i < npop; i++)
			fpu_pop(c);
}

static void exec_mem(struct cpu *c, struct dec *d, uint8_t op)
{
	static const enum fpu_mfmt arith_fmt[8] = { MF_F32, 0, MF_I32, 0, MF_F64, 0, MF_I16, 0 };
	unsigned reg = d->reg;
	struct f80 v;
	uint16_t sw;
	switch (op & 7) {
	case 0: case 2: case 4: case 6:
		fpu_check_pending(c);
		fpu_note(c, d, op);
		sw = load_mem(c, d, arith_fmt[op & 7], &v);
		arith(c, reg, 0, v, false, sw, reg == 3);
		return;
	case 1:
		switch (reg) {
		case 0: case 2: case 3: break;
		case 4: fpu_check_pending(c); fpu_ldenv(c, d, false); return;
		case 5:
			fpu_check_pending(c);
			c->s.fpu.fcw = (uint16_t)((mem_read(c, d->easeg, d->ea, 2) & 0x1f3f) | 0x40);
			fpu_update_es(c);
			return;
		case 6: fpu_stenv(c, d, false); return;
		case 7: mem_write(c, d->easeg, d->ea, 2, c->s.fpu.fcw); return;
		default: cpu_raise(c, EXC_UD, 0);
		}
		fpu_check_pending(c);
		fpu_note(c, d, op);
		if (reg == 0) {
			sw = load_mem(c, d, MF_F32, &v);
			if (fpu_raise_flags(c, sw))
				fpu_push(c, v);
		} else {
			store_mem(c, d, MF_F32, reg == 3);
		}
		return;
	case 3:
		if (reg == 1 || reg == 4 || reg == 6)
			cpu_raise(c, EXC_UD, 0);   /* FISTTP is SSE3 */
		fpu_check_pending(c);
		fpu_note(c, d, op);
		if (reg == 0 || reg == 5) {
			sw = load_mem(c, d, reg == 0 ? MF_I32 : MF_F80, &v);
			fpu_raise_flags(c, sw);
			fpu_push(c, v);
		} else {
			store_mem(c, d, reg == 7 ? MF_F80 : MF_I32, reg != 2);
		}
		return;
	case 5:
		switch (reg) {
		case 1: case 5: cpu_raise(c, EXC_UD, 0);
		case 4: fpu_check_pending(c); fpu_ldenv(c, d, true); return;
		case 6: fpu_stenv(c, d, true); return;
		case 7: mem_write(c, d->easeg, d->ea, 2, c->s.fpu.fsw); return;
		default: break;
		}
		fpu_check_pending(c);
		fpu_note(c, d, op);
		if (reg == 0) {
			sw = load_mem(c, d, MF_F64, &v);
			if (fpu_raise_flags(c, sw))
				fpu_push(c, v);
		} else {
			store_mem(c, d, MF_F64, reg == 3);
		}
		return;
	default: /* DF */
		if (reg == 1)
			cpu_raise(c, EXC_UD, 0);
		fpu_check_pending(c);
		fpu_note(c, d, op);
		if (reg == 0 || reg == 4 || reg == 5) {
			sw = load_mem(c, d, reg == 0 ? MF_I16 : reg == 4 ? MF_BCD : MF_I64, &v);
			fpu_raise_flags(c, sw);
			fpu_push(c, v);
		} else {
			enum fpu_mfmt f = reg == 6 ? MF_BCD : reg == 7 ? MF_I64 : MF_I16;
			store_mem(c, d, f, reg != 2);
		}
		return;
	}
}

/* FCOM/FUCOM/FCOMI/FUCOMI of ST0 and ST(i). @eflags: write ZF/PF/CF. */
static void compare(struct cpu *c, unsigned i, bool unordered_ok, bool eflags, unsigned npop)
{
	uint16_t cc;
	bool ok;
	if (fpu_empty(c, 0) || fpu_empty(c, i)) {
		ok = fpu_underflow(c);
		cc = FSW_C0 | FSW_C2 | FSW_C3;
	} else {
		struct f80 a = fpu_st(c, 0), b = fpu_st(c, i), r0, r1;
		cc = fpu_host_op(unordered_ok ? HOP_UCOM : HOP_COM, c->s.fpu.fcw, &a, &b, &r0, &r1);
		c->s.fpu.fsw &= (uint16_t)~FSW_C1;
		ok = fpu_raise_flags(c, cc);
	}
	if (!ok)
		return;
	if (eflags) {
		uint32_t f = ((cc & FSW_C0) ? F_CF : 0) | ((cc & FSW_C2) ? F_PF : 0) | ((cc & FSW_C3) ? F_ZF : 0);
		flags_set(c, f, F_ARITH);
	} else {
		set_cc(c, cc);
	}
	for (unsigned k = 0; k < npop; k++)
		fpu_pop(c);
}

static void fxch(struct cpu *c, unsigned i)
{
	if ((fpu_empty(c, 0) || fpu_empty(c, i)) && !fpu_underflow(c))
		return;
	struct f80 a = fpu_empty(c, 0) ? F80_INDEFINITE : fpu_st(c, 0);
	struct f80 b = fpu_empty(c, i) ? F80_INDEFINITE : fpu_st(c, i);
	fpu_st_set(c, 0, b);
	fpu_st_set(c, i, a);
	c->s.fpu.fsw &= (uint16_t)~FSW_C1;
}

static void fst_reg(struct cpu *c, unsigned i, bool pop)
{
	if (fpu_empty(c, 0)) {
		if (!fpu_underflow(c))
			return;
		fpu_st_set(c, i, F80_INDEFINITE);
	} else {
		fpu_st_set(c, i, fpu_st(c, 0));
		c->s.fpu.fsw &= (uint16_t)~FSW_C1;
	}
	if (pop)
		fpu_pop(c);
}

static void fcmov(struct cpu *c, unsigned i, bool cond)
{
	if (fpu_empty(c, 0) || fpu_empty(c, i)) {
		if (fpu_underflow(c))
			fpu_st_set(c, 0, F80_INDEFINITE);
		return;
	}
	if (cond)
		fpu_st_set(c, 0, fpu_st(c, i));
	c->s.fpu.fsw &= (uint16_t)~FSW_C1;
}

static bool fcmov_cond(struct cpu *c, unsigned reg)
{
	uint32_t f = flags_get(c);
	switch (reg & 3) {
	case 0: return f & F_CF;
	case 1: return f & F_ZF;
	case 2: return f & (F_CF | F_ZF);
	default: return f & F_PF;
	}
}

/* D9 E0-FF: one-operand and constant instructions. */
static void exec_d9_special(struct cpu *c, uint8_t modrm)
{
	static const enum fpu_hop consts[7] = { HOP_LD1, HOP_LDL2T, HOP_LDL2E, HOP_LDPI,
						HOP_LDLG2, HOP_LDLN2, HOP_LDZ };
	struct f80 a = fpu_st(c, 0), b = fpu_st(c, 1), r0, r1;
	uint16_t sw;
	switch (modrm) {
	case 0xe0: case 0xe1: /* FCHS, FABS */
		if (fpu_empty(c, 0)) {
			if (fpu_underflow(c))
				fpu_st_set(c, 0, F80_INDEFINITE);
			return;
		}
		a.se = modrm == 0xe0 ? a.se ^ 0x8000 : a.se & 0x7fff;
		fpu_st_set(c, 0, a);
		c->s.fpu.fsw &= (uint16_t)~FSW_C1;
		return;
	case 0xe4: /* FTST */
		if (fpu_empty(c, 0)) {
			if (fpu_underflow(c))
				set_cc(c, FSW_C0 | FSW_C2 | FSW_C3);
			return;
		}
		sw = fpu_host_op(HOP_TST, c->s.fpu.fcw, &a, &b, &r0, &r1);
		c->s.fpu.fsw &= (uint16_t)~FSW_C1;
		if (fpu_raise_flags(c, sw))
			set_cc(c, sw);
		return;
	case 0xe5: /* FXAM: the class of an empty register is C3|C0 */
		if (fpu_empty(c, 0))
			sw = FSW_C3 | FSW_C0 | ((a.se & 0x8000) ? FSW_C1 : 0);
		else
			sw = fpu_host_op(HOP_XAM, c->s.fpu.fcw, &a, &b, &r0, &r1);
		c->s.fpu.fsw = (uint16_t)((c->s.fpu.fsw & ~FSW_CC) | (sw & FSW_CC));
		return;
	case 0xe8: case 0xe9: case 0xea: case 0xeb: case 0xec: case 0xed: case 0xee:
		fpu_host_op(consts[modrm - 0xe8], c->s.fpu.fcw, &a, &b, &r0, &r1);
		fpu_push(c, r0);
		return;
	case 0xf6: /* FDECSTP */
		fpu_set_top(c, fpu_top(c) - 1);
		c->s.fpu.fsw &= (uint16_t)~FSW_C1;
		return;
	case 0xf7: /* FINCSTP */
		fpu_set_top(c, fpu_top(c) + 1);
		c->s.fpu.fsw &= (uint16_t)~FSW_C1;
		return;
	default:
		break;
	}
	/* host operations on ST0 (and ST1) */
	enum fpu_hop op;
	bool two = false, pop = false, push = false, partial = false;
	switch (modrm) {
	case 0xf0: op = HOP_2XM1; break;
	case 0xf1: op = HOP_YL2X; two = pop = true; break;
	case 0xf2: op = HOP_PTAN; push = partial = true; break;
	case 0xf3: op = HOP_PATAN; two = pop = true; break;
	case 0xf4: op = HOP_XTRACT; push = true; break;
	case 0xf5: op = HOP_PREM1; two = true; break;
	case 0xf8: op = HOP_PREM; two = true; break;
	case 0xf9: op = HOP_YL2XP1; two = pop = true; break;
	case 0xfa: op = HOP_SQRT; break;
	case 0xfb: op = HOP_SINCOS; push = partial = true; break;
	case 0xfc: op = HOP_RNDINT; break;
	case 0xfd: op = HOP_SCALE; two = true; break;
	case 0xfe: op = HOP_SIN; partial = true; break;
	case 0xff: op = HOP_COS; partial = true; break;
	default: cpu_raise(c, EXC_UD, 0);
	}
	if (fpu_empty(c, 0) || (two && fpu_empty(c, 1))) {
		if (!fpu_underflow(c))
			return;
		if (pop) {
			fpu_pop(c);
			fpu_st_set(c, 0, F80_INDEFINITE);
		} else {
			fpu_st_set(c, 0, F80_INDEFINITE);
			if (push)
				fpu_push(c, F80_INDEFINITE);
		}
		return;
	}
	if (push && !fpu_empty(c, 7)) {
		c->s.fpu.fsw |= FSW_C1;
		if (fpu_raise_flags(c, FSW_IE | FSW_SF)) {
			fpu_st_set(c, 0, F80_INDEFINITE);
			fpu_push(c, F80_INDEFINITE);
		}
		return;
	}
	sw = fpu_host_op(op, c->s.fpu.fcw, &a, &b, &r0, &r1);
	if (partial && (sw & FSW_C2)) {
		/* operand out of range (|x| >= 2^63): nothing changes but C2 */
		c->s.fpu.fsw |= FSW_C2;
		return;
	}
	if (!fpu_apply(c, sw))
		return;
	if (op == HOP_PREM || op == HOP_PREM1) {
		c->s.fpu.fsw = (uint16_t)((c->s.fpu.fsw & ~FSW_CC) | (sw & FSW_CC));
		fpu_st_set(c, 0, r0);
	} else if (partial) {
		c->s.fpu.fsw &= (uint16_t)~FSW_C2;
		if (push) {
			fpu_st_set(c, 0, r1);
			fpu_push(c, r0);
		} else {
			fpu_st_set(c, 0, r0);
		}
	} else if (push) {
		fpu_st_set(c, 0, r1);
		fpu_push(c, r0);
	} else if (pop) {
		fpu_st_set(c, 1, r0);
		fpu_pop(c);
	} else {
		fpu_st_set(c, 0, r0);
	}
}

static void exec_reg(struct cpu *c, struct dec *d, uint8_t op)
{
	unsigned reg = d->reg, i = d->rm;
	uint8_t m = d->modrm;
	/* no-wait control instructions first */
	if (op == 0xdb && m == 0xe2) { /* FNCLEX */
		c->s.fpu.fsw &= (uint16_t)~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
		return;
	}
	if (op == 0xdb && m == 0xe3) { /* FNINIT */
		fpu_init(c);
		return;
	}
	if (op == 0xdf && m == 0xe0) { /* FNSTSW AX */
		reg_write(c, CPU_EAX, 2, c->s.fpu.fsw);
		return;
	}
	fpu_check_pending(c);
	switch (op & 7) {
	case 0: /* D8: ST0 = ST0 op ST(i) */
		fpu_note(c, d, op);
		arith(c, reg, 0, fpu_st(c, i), fpu_empty(c, i), 0, reg == 3);
		return;
	case 1:
		switch (reg) {
		case 0:
			fpu_note(c, d, op);
			if (fpu_empty(c, i)) {
				if (fpu_underflow(c))
					fpu_push(c, F80_INDEFINITE);
			} else {
				fpu_push(c, fpu_st(c, i));
			}
			return;
		case 1: fpu_note(c, d, op); fxch(c, i); return;
		case 2: if (m != 0xd0) cpu_raise(c, EXC_UD, 0); fpu_note(c, d, op); return; /* FNOP */
		case 3: fpu_note(c, d, op); fst_reg(c, i, true); return;  /* FSTP1 alias */
		default: fpu_note(c, d, op); exec_d9_special(c, m); return;
		}
	case 2:
		fpu_note(c, d, op);
		if (reg < 4) {
			fcmov(c, i, fcmov_cond(c, reg));
			return;
		}
		if (m != 0xe9)
			cpu_raise(c, EXC_UD, 0);
		compare(c, 1, true, false, 2);   /* FUCOMPP */
		return;
	case 3:
		fpu_note(c, d, op);
		if (reg < 4) {
			fcmov(c, i, !fcmov_cond(c, reg));
			return;
		}
		if (reg == 4) {
			if (m == 0xe0 || m == 0xe1 || m == 0xe4)
				return;   /* FENI, FDISI, FSETPM: no-ops since the 387 */
			cpu_raise(c, EXC_UD, 0);
		}
		if (reg == 7)
			cpu_raise(c, EXC_UD, 0);
		compare(c, i, reg == 5, true, 0);   /* FUCOMI / FCOMI */
		return;
	case 4: /* DC: ST(i) = ST0 op ST(i) */
		fpu_note(c, d, op);
		arith(c, reg, i, fpu_st(c, i), fpu_empty(c, i), 0, reg == 3);
		return;
	case 5:
		fpu_note(c, d, op);
		switch (reg) {
		case 0: /* FFREE */
			c->s.fpu.ftw &= (uint8_t)~(1u << fpu_phys(c, i));
			return;
		case 1: fxch(c, i); return;
		case 2: fst_reg(c, i, false); return;
		case 3: fst_reg(c, i, true); return;
		case 4: compare(c, i, true, false, 0); return;
		case 5: compare(c, i, true, false, 1); return;
		default: cpu_raise(c, EXC_UD, 0);
		}
	case 6: /* DE: ST(i) = ST0 op ST(i), pop */
		if (reg == 3 && m != 0xd9)
			cpu_raise(c, EXC_UD, 0);
		fpu_note(c, d, op);
		if (reg == 3)
			compare(c, 1, false, false, 2);   /* FCOMPP */
		else
			arith(c, reg, i, fpu_st(c, i), fpu_empty(c, i), 0, 1);
		return;
	default: /* DF */
		fpu_note(c, d, op);
		switch (reg) {
		case 0: /* FFREEP */
			c->s.fpu.ftw &= (uint8_t)~(1u << fpu_phys(c, i));
			fpu_set_top(c, fpu_top(c) + 1);
			return;
		case 1: fxch(c, i); return;
		case 2: case 3: fst_reg(c, i, true); return;
		case 5: compare(c, i, true, true, 1); return;   /* FUCOMIP */
		case 6: compare(c, i, false, true, 1); return;  /* FCOMIP */
		default: cpu_raise(c, EXC_UD, 0);
		}
	}
}

void exec_fpu(struct cpu *c, struct dec *d, uint8_t op)
{
	if (c->s.cr0 & (CR0_EM | CR0_TS))
		cpu_raise(c, EXC_NM, 0);
	decode_modrm(c, d);
	if (d->mod == 3)
		exec_reg(c, d, op);
	else
		exec_mem(c, d, op);
}
