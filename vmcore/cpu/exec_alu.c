/* vmcore/cpu — integer arithmetic: the 8 ALU ops, shifts and rotates,
 * multiply/divide, BCD adjust and bit instructions.
 *
 * Flags the SDM leaves undefined are set the way the reference (QEMU, via
 * unicorn) sets them where that is cheap; the differential tester masks
 * them anyway. */
#include "vmcore/cpu/cpu_int.h"

uint32_t alu_op(struct cpu *c, unsigned op, uint32_t a, uint32_t b, unsigned size)
{
	uint32_t m = size_mask(size), r;
	a &= m;
	b &= m;
	switch (op) {
	case 0: r = (a + b) & m; lazy_set(c, LF_ADD, size, a, b, r); return r;
	case 1: r = a | b; lazy_set(c, LF_LOGIC, size, a, b, r); return r;
	case 2: r = (a + b + (flags_cf(c) ? 1 : 0)) & m; lazy_set(c, LF_ADD, size, a, b, r); return r;
	case 3: r = (a - b - (flags_cf(c) ? 1 : 0)) & m; lazy_set(c, LF_SUB, size, a, b, r); return r;
	case 4: r = a & b; lazy_set(c, LF_LOGIC, size, a, b, r); return r;
	case 5:
	case 7: r = (a - b) & m; lazy_set(c, LF_SUB, size, a, b, r); return r;
	default: r = a ^ b; lazy_set(c, LF_LOGIC, size, a, b, r); return r;
	}
}

/* ROL ROR RCL RCR SHL SHR SAL SAR (op = ModRM reg field). */
uint32_t shift_op(struct cpu *c, unsigned op, uint32_t v, unsigned count, unsigned size)
{
	unsigned bits = size * 8;
	uint32_t m = size_mask(size), msb = size_msb(size);
	count &= 0x1f;
	if (count == 0)
		return v & m;
	v &= m;
	/* only the rotates keep flags of the old EFLAGS (SZAP, and CF for RCL/
	 * RCR); the shifts write every arithmetic flag, so they skip the cost
	 * of materialising the lazy flags (a hot path of the kernel's
	 * in-guest xz decompressor) */
	uint32_t f = op < 4 ? flags_get(c) : 0, r, cf;
	switch (op) {
	case 0: { /* ROL */
		unsigned n = count % bits;
		r = n ? ((v << n) | (v >> (bits - n))) & m : v;
		cf = r & 1;
		f = (f & ~(F_CF | F_OF)) | (cf ? F_CF : 0) | ((!!(r & msb) ^ cf) ? F_OF : 0);
		flags_put_arith(c, f);
		return r;
	}
	case 1: { /* ROR */
		unsigned n = count % bits;
		r = n ? ((v >> n) | (v << (bits - n))) & m : v;
		cf = !!(r & msb);
		f = (f & ~(F_CF | F_OF)) | (cf ? F_CF : 0) | ((cf ^ !!(r & (msb >> 1))) ? F_OF : 0);
		flags_put_arith(c, f);
		return r;
	}
	case 2: { /* RCL */
		unsigned n = count % (bits + 1);
		if (n == 0)
			return v;
		uint64_t x = ((uint64_t)(f & F_CF) << bits) | v;   /* bits+1 wide */
		uint64_t wm = (1ull << (bits + 1)) - 1;
		x = ((x << n) | (x >> (bits + 1 - n))) & wm;
		r = (uint32_t)x & m;
		cf = (uint32_t)(x >> bits) & 1;
		f = (f & ~(F_CF | F_OF)) | (cf ? F_CF : 0) | ((!!(r & msb) ^ cf) ? F_OF : 0);
		flags_put_arith(c, f);
		return r;
	}
	case 3: { /* RCR */
		unsigned n = count % (bits + 1);
		if (n == 0)
			return v;
		uint32_t of = (!!(v & msb) ^ (f & F_CF)) ? F_OF : 0;
		uint64_t x = ((uint64_t)(f & F_CF) << bits) | v;
		uint64_t wm = (1ull << (bits + 1)) - 1;
		x = ((x >> n) | (x << (bits + 1 - n))) & wm;
		r = (uint32_t)x & m;
		cf = (uint32_t)(x >> bits) & 1;
		f = (f & ~(F_CF | F_OF)) | (cf ? F_CF : 0) | of;
		flags_put_arith(c, f);
		return r;
	}
	case 4:
	case 6: /* SHL/SAL */
		r = count < 32 ? (v << count) & m : 0;
		cf = count <= bits ? (uint32_t)(((uint64_t)v << count) >> bits) & 1 : 0;
		f = szp_flags(r, size) | (cf ? F_CF : 0) | ((!!(r & msb) ^ cf) ? F_OF : 0);
		flags_put_arith(c, f);
		return r;
	case 5: /* SHR */
		r = (uint32_t)((uint64_t)v >> count);
		cf = (uint32_t)((uint64_t)v >> (count - 1)) & 1;
		f = szp_flags(r, size) | (cf ? F_CF : 0) | ((v & msb) ? F_OF : 0);
		flags_put_arith(c, f);
		return r;
	default: { /* SAR */
		int32_t sv = size == 1 ? (int8_t)v : size == 2 ? (int16_t)v : (int32_t)v;
		r = (uint32_t)(sv >> (count > 31 ? 31 : count)) & m;
		cf = (uint32_t)(sv >> (count - 1 > 31 ? 31 : count - 1)) & 1;
		f = szp_flags(r, size) | (cf ? F_CF : 0);
		flags_put_arith(c, f);
		return r;
	}
	}
}

/* SHLD/SHRD. A 16-bit count above 16 gives an undefined result; this
 * computes what a 32-bit double shift of dst:src:dst would. */
uint32_t shiftd_op(struct cpu *c, bool left, uint32_t dst, uint32_t src, unsigned count, unsigned size)
{
	count &= 0x1f;
	if (count == 0)
		return dst & size_mask(size);
	uint32_t m = size_mask(size), msb = size_msb(size), r, cf;
	dst &= m;
	src &= m;
	if (size == 4) {
		uint64_t x = left ? ((uint64_t)dst << 32) | src : ((uint64_t)src << 32) | dst;
		if (left) {
			r = (uint32_t)((x << count) >> 32);
			cf = (uint32_t)(dst >> (32 - count)) & 1;
		} else {
			r = (uint32_t)(x >> count);
			cf = (dst >> (count - 1)) & 1;
		}
	} else {
		/* 16-bit: the operand is dst:src:dst (48 bits) like QEMU */
		uint64_t x = ((uint64_t)dst << 32) | ((uint64_t)src << 16) | dst;
		if (left) {
			r = (uint32_t)((x << count) >> 32) & m;
			cf = (uint32_t)((x << (count - 1)) >> 47) & 1;
		} else {
			r = (uint32_t)(x >> count) & m;
			cf = (uint32_t)(x >> (count - 1)) & 1;
		}
	}
	uint32_t f = szp_flags(r, size) | (cf ? F_CF : 0) | (((r ^ dst) & msb) ? F_OF : 0);
	flags_put_arith(c, f);
	return r;
}

uint32_t imul_op(struct cpu *c, uint32_t a, uint32_t b, unsigned size)
{
	int64_t r;
	bool ovf;
	if (size == 2) {
		r = (int64_t)(int16_t)a * (int16_t)b;
		ovf = r != (int16_t)r;
	} else {
		r = (int64_t)(int32_t)a * (int32_t)b;
		ovf = r != (int32_t)r;
	}
	/* all arithmetic flags are written: no need to materialise the old ones */
	uint32_t f = szp_flags((uint32_t)r, size) | (ovf ? F_CF | F_OF : 0);
	flags_put_arith(c, f & ~(F_ZF | F_AF));
	return (uint32_t)r & size_mask(size);
}

static void mul_flags(struct cpu *c, uint32_t lo, bool ovf, unsigned size)
{
	uint32_t f = szp_flags(lo, size) | (ovf ? F_CF | F_OF : 0);
	flags_put_arith(c, f & ~(F_ZF | F_AF));
}

static void do_div(struct cpu *c, uint32_t v, unsigned size, bool sign)
{
	uint32_t *g = c->s.gpr;
	if ((v & size_mask(size)) == 0)
		cpu_raise_noerr(c, EXC_DE);
	if (size == 1) {
		uint16_t n = (uint16_t)g[CPU_EAX];
		if (sign) {
			int32_t q = (int16_t)n / (int8_t)v, rm = (int16_t)n % (int8_t)v;
			if (q != (int8_t)q) cpu_raise_noerr(c, EXC_DE);
			reg_write(c, CPU_EAX, 2, ((uint32_t)(rm & 0xff) << 8) | (q & 0xff));
		} else {
			uint32_t q = n / (uint8_t)v, rm = n % (uint8_t)v;
			if (q > 0xff) cpu_raise_noerr(c, EXC_DE);
			reg_write(c, CPU_EAX, 2, (rm << 8) | q);
		}
	} else if (size == 2) {
		uint32_t n = ((g[CPU_EDX] & 0xffff) << 16) | (g[CPU_EAX] & 0xffff);
		if (sign) {
			int32_t q = (int32_t)n / (int16_t)v, rm = (int32_t)n % (int16_t)v;
			if (q != (int16_t)q) cpu_raise_noerr(c, EXC_DE);
			reg_write(c, CPU_EAX, 2, (uint32_t)q);
			reg_write(c, CPU_EDX, 2, (uint32_t)rm);
		} else {
			uint32_t q = n / (uint16_t)v, rm = n % (uint16_t)v;
			if (q > 0xffff) cpu_raise_noerr(c, EXC_DE);
			reg_write(c, CPU_EAX, 2, q);
			reg_write(c, CPU_EDX, 2, rm);
		}
	} else {
		uint64_t n = ((uint64_t)g[CPU_EDX] << 32) | g[CPU_EAX];
		if (sign) {
			if ((int64_t)n == INT64_MIN && (int32_t)v == -1)
				cpu_raise_noerr(c, EXC_DE);
			int64_t q = (int64_t)n / (int32_t)v, rm = (int64_t)n % (int32_t)v;
			if (q != (int32_t)q) cpu_raise_noerr(c, EXC_DE);
			g[CPU_EAX] = (uint32_t)q;
			g[CPU_EDX] = (uint32_t)rm;
		} else {
			uint64_t q = n / v, rm = n % v;
			if (q > 0xffffffffu) cpu_raise_noerr(c, EXC_DE);
			g[CPU_EAX] = (uint32_t)q;
			g[CPU_EDX] = (uint32_t)rm;
		}
	}
}

void exec_grp3(struct cpu *c, struct dec *d, unsigned size)
{
	uint32_t *g = c->s.gpr;
	uint32_t v;
	switch (d->reg) {
	case 0:
	case 1: /* TEST r/m, imm */
		v = rm_read(c, d, size);
		{
			uint32_t imm = size == 1 ? fetch8(c) : size == 2 ? fetch16(c) : fetch32(c);
			alu_op(c, 4, v, imm, size);
		}
		return;
	case 2: /* NOT */
		rm_write(c, d, size, ~rm_read(c, d, size));
		return;
	case 3: /* NEG */
		v = rm_read(c, d, size);
		rm_write(c, d, size, alu_op(c, 5, 0, v, size));
		return;
	case 4: /* MUL */
		v = rm_read(c, d, size);
		if (size == 1) {
			uint32_t r = (g[CPU_EAX] & 0xff) * v;
			reg_write(c, CPU_EAX, 2, r);
			mul_flags(c, r, r > 0xff, 1);
		} else if (size == 2) {
			uint32_t r = (g[CPU_EAX] & 0xffff) * v;
			reg_write(c, CPU_EAX, 2, r);
			reg_write(c, CPU_EDX, 2, r >> 16);
			mul_flags(c, r, r > 0xffff, 2);
		} else {
			uint64_t r = (uint64_t)g[CPU_EAX] * v;
			g[CPU_EAX] = (uint32_t)r;
			g[CPU_EDX] = (uint32_t)(r >> 32);
			mul_flags(c, (uint32_t)r, r >> 32, 4);
		}
		return;
	case 5: /* IMUL */
		v = rm_read(c, d, size);
		if (size == 1) {
			int32_t r = (int8_t)g[CPU_EAX] * (int8_t)v;
			reg_write(c, CPU_EAX, 2, (uint32_t)r);
			mul_flags(c, (uint32_t)r, r != (int8_t)r, 1);
		} else if (size == 2) {
			int32_t r = (int16_t)g[CPU_EAX] * (int16_t)v;
			reg_write(c, CPU_EAX, 2, (uint32_t)r);
			reg_write(c, CPU_EDX, 2, (uint32_t)r >> 16);
			mul_flags(c, (uint32_t)r, r != (int16_t)r, 2);
		} else {
			int64_t r = (int64_t)(int32_t)g[CPU_EAX] * (int32_t)v;
			g[CPU_EAX] = (uint32_t)r;
			g[CPU_EDX] = (uint32_t)((uint64_t)r >> 32);
			mul_flags(c, (uint32_t)r, r != (int32_t)r, 4);
		}
		return;
	default: /* DIV / IDIV */
		v = rm_read(c, d, size);
		do_div(c, v, size, d->reg == 7);
		return;
	}
}

void exec_bcd(struct cpu *c, uint8_t op)
{
	uint32_t f = flags_get(c);
	uint8_t al = (uint8_t)c->s.gpr[CPU_EAX];
	switch (op) {
	case 0x27: /* DAA */
	case 0x2f: { /* DAS */
		uint8_t old = al;
		bool cf = f & F_CF, add = op == 0x27;
		f &= ~(F_CF | F_AF);
		if ((old & 0xf) > 9 || (c->s.eflags & F_AF)) {
			/* DAS keeps the borrow of this step; DAA's second step
			 * overwrites CF either way */
			if (!add && old < 6)
				f |= F_CF;
			al = add ? al + 6 : al - 6;
			f |= F_AF;
		}
		if (old > 0x99 || cf) {
			al = add ? al + 0x60 : al - 0x60;
			f |= F_CF;
		}
		f = (f & ~(F_SF | F_ZF | F_PF | F_OF)) | szp_flags(al, 1);
		reg_write(c, CPU_EAX, 1, al);
		break;
	}
	case 0x37: /* AAA */
	case 0x3f: /* AAS */
		if ((al & 0xf) > 9 || (f & F_AF)) {
			if (op == 0x37) {
				reg_write(c, CPU_EAX, 2, (uint32_t)((c->s.gpr[CPU_EAX] + 0x106) & 0xffff));
			} else {
				reg_write(c, CPU_EAX, 2, (uint32_t)((c->s.gpr[CPU_EAX] - 0x106) & 0xffff));
			}
			f |= F_AF | F_CF;
		} else {
			f &= ~(F_AF | F_CF);
		}
		reg_write(c, CPU_EAX, 1, c->s.gpr[CPU_EAX] & 0xf);
		f = (f & ~(F_SF | F_ZF | F_PF | F_OF)) | szp_flags(c->s.gpr[CPU_EAX] & 0xff, 1);
		break;
	default:
		break;
	}
	flags_put_arith(c, f);
}

void exec_bitop(struct cpu *c, struct dec *d, uint8_t op)
{
	unsigned size = d->o32 ? 4 : 2, bits = size * 8;
	uint32_t f = flags_get(c);
	if (op == 0xbc || op == 0xbd) { /* BSF / BSR */
		uint32_t v = rm_read(c, d, size);
		if (v == 0) {
			flags_put_arith(c, (f & ~F_ARITH) | F_ZF);
			return;   /* destination unchanged (as AMD and QEMU do) */
		}
		unsigned n = op == 0xbc ? (unsigned)__builtin_ctz(v) : 31u - (unsigned)__builtin_clz(v);
		reg_write(c, d->reg, size, n);
		flags_put_arith(c, f & ~F_ARITH);
		return;
	}
	unsigned kind;   /* 0 BT, 1 BTS, 2 BTR, 3 BTC */
	uint32_t bit;
	if (op == 0xba) {   /* group 8: BT/BTS/BTR/BTC r/m, imm8 */
		kind = d->reg - 4;
		bit = fetch8(c) & (bits - 1);
	} else {
		kind = (op >> 3) & 3;
		bit = reg_read(c, d->reg, size);
	}
	uint32_t v, nv;
	if (d->mod == 3 || op == 0xba) {
		bit &= bits - 1;
		v = rm_read(c, d, size);
		nv = kind == 1 ? v | (1u << bit) : kind == 2 ? v & ~(1u << bit) : kind == 3 ? v ^ (1u << bit) : v;
		if (kind)
			rm_write(c, d, size, nv);
	} else {
		/* memory form: the bit offset is signed and may address any byte */
		int32_t sbit = size == 2 ? (int16_t)bit : (int32_t)bit;
		uint32_t off = d->ea + (uint32_t)((sbit >> (size == 2 ? 4 : 5)) * (int32_t)size);
		if (!d->a32)
			off &= 0xffff;
		bit &= bits - 1;
		v = mem_read(c, d->easeg, off, size);
		nv = kind == 1 ? v | (1u << bit) : kind == 2 ? v & ~(1u << bit) : kind == 3 ? v ^ (1u << bit) : v;
		if (kind)
			mem_write(c, d->easeg, off, size, nv);
	}
	flags_put_arith(c, (f & ~F_CF) | ((v >> bit) & 1 ? F_CF : 0));
}
