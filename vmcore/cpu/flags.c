/* vmcore/cpu — lazy arithmetic flags.
 *
 * ALU ops record (op, size, a, b, result) instead of computing six flags;
 * most results are only consumed by the next Jcc, which flags_cond() answers
 * straight from the operands. The carry/overflow formulas work for ADC/SBB
 * too, because they derive the carry into the top bit from the result. */
#include "vmcore/cpu/cpu_int.h"

static uint32_t lazy_cf(const struct cpu *c)
{
	uint32_t a = c->lf_a, b = c->lf_b, r = c->lf_r, msb = size_msb(c->lf_size);
	switch (c->lf_op) {
	case LF_ADD: return (((a & b) | ((a | b) & ~r)) & msb) ? F_CF : 0;
	case LF_SUB: return (((~a & b) | ((~a | b) & r)) & msb) ? F_CF : 0;
	case LF_LOGIC: return 0;
	default: return c->s.eflags & F_CF;   /* INC/DEC keep CF */
	}
}

static uint32_t lazy_all(const struct cpu *c)
{
	uint32_t a = c->lf_a, b = c->lf_b, r = c->lf_r, msb = size_msb(c->lf_size);
	uint32_t f = szp_flags(r, c->lf_size) | lazy_cf(c);
	switch (c->lf_op) {
	case LF_ADD:
	case LF_INC:
		f |= (a ^ b ^ r) & F_AF;
		if ((a ^ r) & (b ^ r) & msb) f |= F_OF;
		break;
	case LF_SUB:
	case LF_DEC:
		f |= (a ^ b ^ r) & F_AF;
		if ((a ^ b) & (a ^ r) & msb) f |= F_OF;
		break;
	default:
		break;
	}
	return f;
}

uint32_t flags_get(struct cpu *c)
{
	if (c->lf_op != LF_NONE) {
		c->s.eflags = (c->s.eflags & ~F_ARITH) | lazy_all(c);
		c->lf_op = LF_NONE;
	}
	return c->s.eflags | 0x2;
}

void flags_set(struct cpu *c, uint32_t v, uint32_t mask)
{
	flags_get(c);
	c->s.eflags = ((c->s.eflags & ~mask) | (v & mask)) | 0x2;
}

bool flags_cf(struct cpu *c)
{
	return c->lf_op == LF_NONE ? (c->s.eflags & F_CF) : lazy_cf(c);
}

static inline int32_t sext(uint32_t v, unsigned size)
{
	if (size == 1) return (int8_t)v;
	if (size == 2) return (int16_t)v;
	return (int32_t)v;
}

bool flags_cond(struct cpu *c, unsigned cc)
{
	bool r;
	if (c->lf_op == LF_SUB && c->lf_size == 4 && c->lf_r == c->lf_a - c->lf_b) {
		/* CMP/SUB fast path: compare the operands directly. SBB records
		 * LF_SUB too; its borrow-in shows as r != a - b and takes the
		 * slow path (gcc's 64-bit compares are CMP + SBB + Jcc). */
		uint32_t a = c->lf_a, b = c->lf_b;
		switch (cc >> 1) {
		case 1: r = a < b; goto out;
		case 2: r = a == b; goto out;
		case 3: r = a <= b; goto out;
		case 6: r = (int32_t)a < (int32_t)b; goto out;
		case 7: r = (int32_t)a <= (int32_t)b; goto out;
		default: break;
		}
	} else if (c->lf_op != LF_NONE && ((cc >> 1) == 2 || (cc >> 1) == 4)) {
		/* ZF and SF come straight from the (masked) result for every op */
		r = (cc >> 1) == 2 ? c->lf_r == 0 : (c->lf_r & size_msb(c->lf_size)) != 0;
		goto out;
	} else if (c->lf_op == LF_LOGIC) {
		int32_t v = sext(c->lf_r, c->lf_size);
		switch (cc >> 1) {
		case 0: case 1: r = false; goto out;   /* OF = CF = 0 */
		case 2: case 3: r = v == 0; goto out;
		case 4: case 6: r = v < 0; goto out;
		case 7: r = v <= 0; goto out;
		default: break;
		}
	}
	uint32_t f = flags_get(c);
	switch (cc >> 1) {
	case 0: r = f & F_OF; break;
	case 1: r = f & F_CF; break;
	case 2: r = f & F_ZF; break;
	case 3: r = f & (F_CF | F_ZF); break;
	case 4: r = f & F_SF; break;
	case 5: r = f & F_PF; break;
	case 6: r = !(f & F_SF) != !(f & F_OF); break;
	default: r = (f & F_ZF) || (!(f & F_SF) != !(f & F_OF)); break;
	}
out:
	return (cc & 1) ? !r : r;
}
