/* vmcore/cpu — the two-byte (0F xx) opcode map: Jcc/SETcc/CMOVcc, MOVZX/
 * MOVSX, the 486 additions (BSWAP, CMPXCHG, XADD), CMPXCHG8B, double
 * shifts, bit ops; system ops go to exec_system.c. */
#include "vmcore/cpu/cpu_int.h"

static void exec_cmpxchg(struct cpu *c, struct dec *d, unsigned size)
{
	decode_modrm(c, d);
	uint32_t dst = rm_read(c, d, size), acc = reg_read(c, CPU_EAX, size);
	alu_op(c, 7, acc, dst, size);
	if ((acc & size_mask(size)) == (dst & size_mask(size))) {
		rm_write(c, d, size, reg_read(c, d->reg, size));
	} else {
		rm_write(c, d, size, dst);   /* the write always happens (locked cycle) */
		reg_write(c, CPU_EAX, size, dst);
	}
}

static void exec_cmpxchg8b(struct cpu *c, struct dec *d)
{
	decode_modrm(c, d);
	if (d->reg != 1 || d->mod == 3)
		cpu_raise(c, EXC_UD, 0);
	uint32_t *g = c->s.gpr;
	uint32_t lo = mem_read(c, d->easeg, d->ea, 4), hi = mem_read(c, d->easeg, d->ea + 4, 4);
	uint32_t f = flags_get(c);
	if (lo == g[CPU_EAX] && hi == g[CPU_EDX]) {
		mem_write(c, d->easeg, d->ea, 4, g[CPU_EBX]);
		mem_write(c, d->easeg, d->ea + 4, 4, g[CPU_ECX]);
		f |= F_ZF;
	} else {
		mem_write(c, d->easeg, d->ea, 4, lo);
		mem_write(c, d->easeg, d->ea + 4, 4, hi);
		g[CPU_EAX] = lo;
		g[CPU_EDX] = hi;
		f &= ~F_ZF;
	}
	flags_put_arith(c, f);
}

static void exec_xadd(struct cpu *c, struct dec *d, unsigned size)
{
	decode_modrm(c, d);
	uint32_t dst = rm_read(c, d, size), src = reg_read(c, d->reg, size);
	uint32_t sum = alu_op(c, 0, dst, src, size);
	if (d->mod == 3) {
		reg_write(c, d->reg, size, dst);
		reg_write(c, d->rm, size, sum);
	} else {
		rm_write(c, d, size, sum);
		reg_write(c, d->reg, size, dst);
	}
}

static void pushpop_seg(struct cpu *c, struct dec *d, int seg, bool is_push)
{
	unsigned size = d->o32 ? 4 : 2;
	if (is_push) {
		push(c, size, c->s.seg[seg].selector);
	} else {
		uint32_t v = stack_read(c, 0, size);
		seg_load(c, seg, (uint16_t)v);
		pop(c, size);
	}
}

static void load_far(struct cpu *c, struct dec *d, int seg)
{
	decode_modrm(c, d);
	if (d->mod == 3)
		cpu_raise(c, EXC_UD, 0);
	unsigned size = d->o32 ? 4 : 2;
	uint32_t off = mem_read(c, d->easeg, d->ea, size);
	uint16_t sel = (uint16_t)mem_read(c, d->easeg, d->ea + size, 2);
	seg_load(c, seg, sel);
	if (seg == CPU_SEG_SS)
		c->s.irq_shadow = 1;
	reg_write(c, d->reg, size, off);
}

void exec_0f(struct cpu *c, struct dec *d)
{
	uint8_t op = fetch8(c);
	unsigned size = d->o32 ? 4 : 2;
	uint32_t v, t;
	switch (op) {
	case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
	case 0x88: case 0x89: case 0x8a: case 0x8b: case 0x8c: case 0x8d: case 0x8e: case 0x8f:
		t = d->o32 ? fetch32(c) : (uint32_t)(int16_t)fetch16(c);
		if (flags_cond(c, op & 0xf))
			jump_near(c, d, c->s.eip + t);
		return;
	case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
	case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f:
		decode_modrm(c, d);
		v = rm_read(c, d, size);
		if (flags_cond(c, op & 0xf))
			reg_write(c, d->reg, size, v);
		return;
	case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
	case 0x98: case 0x99: case 0x9a: case 0x9b: case 0x9c: case 0x9d: case 0x9e: case 0x9f:
		decode_modrm(c, d);
		rm_write(c, d, 1, flags_cond(c, op & 0xf) ? 1 : 0);
		return;
	case 0xb6: case 0xb7: case 0xbe: case 0xbf:
		decode_modrm(c, d);
		if (op & 1) {
			v = rm_read(c, d, 2);
			if (op & 8) v = (uint32_t)(int16_t)v;
		} else {
			v = rm_read(c, d, 1);
			if (op & 8) v = (uint32_t)(int8_t)v;
		}
		reg_write(c, d->reg, size, v);
		return;
	case 0xc8: case 0xc9: case 0xca: case 0xcb: case 0xcc: case 0xcd: case 0xce: case 0xcf:
		/* a 16-bit BSWAP is undefined; like QEMU, swap all 32 bits */
		c->s.gpr[op & 7] = __builtin_bswap32(c->s.gpr[op & 7]);
		return;
	case 0xaf:
		decode_modrm(c, d);
		v = rm_read(c, d, size);
		reg_write(c, d->reg, size, imul_op(c, reg_read(c, d->reg, size), v, size));
		return;
	case 0xa4: case 0xa5: case 0xac: case 0xad: {
		decode_modrm(c, d);
		v = rm_read(c, d, size);
		unsigned cnt = (op & 1) ? c->s.gpr[CPU_ECX] & 0xff : fetch8(c);
		if ((cnt & 0x1f) == 0)
			return;
		rm_write(c, d, size, shiftd_op(c, op < 0xa8, v, reg_read(c, d->reg, size), cnt, size));
		return;
	}
	case 0xa3: case 0xab: case 0xb3: case 0xbb: case 0xba: case 0xbc: case 0xbd:
		decode_modrm(c, d);
		if (op == 0xba && d->reg < 4)
			cpu_raise(c, EXC_UD, 0);
		exec_bitop(c, d, op);
		return;
	case 0xb0: exec_cmpxchg(c, d, 1); return;
	case 0xb1: exec_cmpxchg(c, d, size); return;
	case 0xc0: exec_xadd(c, d, 1); return;
	case 0xc1: exec_xadd(c, d, size); return;
	case 0xc7: exec_cmpxchg8b(c, d); return;
	case 0xa0: pushpop_seg(c, d, CPU_SEG_FS, true); return;
	case 0xa1: pushpop_seg(c, d, CPU_SEG_FS, false); return;
	case 0xa8: pushpop_seg(c, d, CPU_SEG_GS, true); return;
	case 0xa9: pushpop_seg(c, d, CPU_SEG_GS, false); return;
	case 0xb2: load_far(c, d, CPU_SEG_SS); return;
	case 0xb4: load_far(c, d, CPU_SEG_FS); return;
	case 0xb5: load_far(c, d, CPU_SEG_GS); return;
	case 0xa2: exec_cpuid(c); return;
	case 0x31: exec_rdtsc(c); return;
	case 0x30: exec_wrmsr(c); return;
	case 0x32: exec_rdmsr(c); return;
	case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e: case 0x1f:
		decode_modrm(c, d);   /* multi-byte NOP / hint NOPs */
		return;
	default:
		exec_0f_system(c, d, op);
		return;
	}
}
