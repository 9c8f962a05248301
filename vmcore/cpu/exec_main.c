/* vmcore/cpu — the one-byte opcode map: prefixes, then one switch whose
 * hot cases (MOV, ALU, Jcc, PUSH/POP, CALL/RET) are handled inline; the
 * rest is delegated to the exec_*.c file of its concept. */
#include "vmcore/cpu/cpu_int.h"

void jump_near(struct cpu *c, const struct dec *d, uint32_t target)
{
	if (!d->o32)
		target &= 0xffff;
	if (unlikely(target > c->s.seg[CPU_SEG_CS].limit))
		cpu_raise(c, EXC_GP, 0);
	c->s.eip = target;
}

static inline uint32_t fetch_imm(struct cpu *c, unsigned size)
{
	return size == 1 ? fetch8(c) : size == 2 ? fetch16(c) : fetch32(c);
}

static void exec_popf(struct cpu *c, struct dec *d)
{
	unsigned size = d->o32 ? 4 : 2;
	uint32_t v = stack_read(c, 0, size);
	uint32_t mask = F_ARITH | F_TF | F_DF | F_NT;
	if (d->o32)
		mask |= F_AC | F_ID;
	if (!c->pmode || c->cpl == 0)
		mask |= F_IOPL | F_IF;
	else if (c->cpl <= ((c->s.eflags & F_IOPL) >> 12))
		mask |= F_IF;
	pop(c, size);
	flags_set(c, v, mask);
}

static void exec_load_far_ptr(struct cpu *c, struct dec *d, int seg)
{
	decode_modrm(c, d);
	if (d->mod == 3)
		cpu_raise(c, EXC_UD, 0);
	unsigned size = d->o32 ? 4 : 2;
	uint32_t off = mem_read(c, d->easeg, d->ea, size);
	uint16_t sel = (uint16_t)mem_read(c, d->easeg, d->ea + size, 2);
	seg_load(c, seg, sel);
	reg_write(c, d->reg, size, off);
}

static void exec_pusha(struct cpu *c, struct dec *d)
{
	unsigned size = d->o32 ? 4 : 2;
	uint32_t esp = c->s.gpr[CPU_ESP];
	/* check the lowest slot first so a fault happens before any write */
	mem_read(c, CPU_SEG_SS, (esp - 8 * size) & sp_mask(c), size);
	for (int r = 0; r < 8; r++)
		push(c, size, r == CPU_ESP ? esp : c->s.gpr[r]);
}

static void exec_popa(struct cpu *c, struct dec *d)
{
	unsigned size = d->o32 ? 4 : 2;
	uint32_t v[8];
	for (int r = 7; r >= 0; r--)
		v[r] = stack_read(c, (7 - r) * size, size);
	for (int r = 0; r < 8; r++)
		if (r != CPU_ESP)
			reg_write(c, r, size, v[r]);
	sp_set(c, c->s.gpr[CPU_ESP] + 8 * size);
}

static void exec_bound(struct cpu *c, struct dec *d)
{
	decode_modrm(c, d);
	if (d->mod == 3)
		cpu_raise(c, EXC_UD, 0);
	unsigned size = d->o32 ? 4 : 2;
	int32_t lo, hi, v;
	if (size == 4) {
		lo = (int32_t)mem_read(c, d->easeg, d->ea, 4);
		hi = (int32_t)mem_read(c, d->easeg, d->ea + 4, 4);
		v = (int32_t)c->s.gpr[d->reg];
	} else {
		lo = (int16_t)mem_read(c, d->easeg, d->ea, 2);
		hi = (int16_t)mem_read(c, d->easeg, d->ea + 2, 2);
		v = (int16_t)c->s.gpr[d->reg];
	}
	if (v < lo || v > hi)
		cpu_raise(c, EXC_BR, 0);
}

static void exec_arpl(struct cpu *c, struct dec *d)
{
	if (!c->pmode)
		cpu_raise(c, EXC_UD, 0);
	decode_modrm(c, d);
	uint16_t dst = (uint16_t)rm_read(c, d, 2), src = (uint16_t)reg_read(c, d->reg, 2);
	uint32_t f = flags_get(c);
	if ((dst & 3) < (src & 3)) {
		rm_write(c, d, 2, (dst & ~3u) | (src & 3));
		f |= F_ZF;
	} else {
		f &= ~F_ZF;
	}
	flags_put_arith(c, f);
}

static void exec_grp5(struct cpu *c, struct dec *d, unsigned size)
{
	decode_modrm(c, d);
	uint32_t v;
	switch (d->reg) {
	case 0:
	case 1: {
		v = rm_read(c, d, size);
		uint32_t cf = flags_cf(c) ? F_CF : 0;
		uint32_t r = (v + (d->reg ? -1u : 1u)) & size_mask(size);
		rm_write(c, d, size, r);
		c->s.eflags = (c->s.eflags & ~F_CF) | cf;
		lazy_set(c, d->reg ? LF_DEC : LF_INC, size, v & size_mask(size), 1, r);
		return;
	}
	case 2: /* CALL near indirect */
		v = rm_read(c, d, size);
		push(c, size, c->s.eip);
		jump_near(c, d, v);
		return;
	case 3: /* CALL far indirect */
	case 5: { /* JMP far indirect */
		if (d->mod == 3)
			cpu_raise(c, EXC_UD, 0);
		uint32_t off = mem_read(c, d->easeg, d->ea, size);
		uint16_t sel = (uint16_t)mem_read(c, d->easeg, d->ea + size, 2);
		exec_far_jmp_call(c, d, sel, off, d->reg == 3);
		return;
	}
	case 4:
		jump_near(c, d, rm_read(c, d, size));
		return;
	case 6:
		v = rm_read(c, d, size);
		push(c, size, v);
		return;
	default:
		cpu_raise(c, EXC_UD, 0);
	}
}

static void exec_cli_sti(struct cpu *c, bool set)
{
	if (c->pmode && c->cpl > ((c->s.eflags & F_IOPL) >> 12))
		cpu_raise(c, EXC_GP, 0);
	if (set) {
		if (!(c->s.eflags & F_IF))
			c->s.irq_shadow = 1;
		c->s.eflags |= F_IF;
	} else {
		c->s.eflags &= ~F_IF;
	}
}

static void exec_aam_aad(struct cpu *c, uint8_t op)
{
	uint8_t imm = fetch8(c);
	uint32_t ax = c->s.gpr[CPU_EAX];
	uint8_t al = (uint8_t)ax, ah = (uint8_t)(ax >> 8), r;
	if (op == 0xd4) {
		if (imm == 0)
			cpu_raise(c, EXC_DE, 0);
		reg_write(c, CPU_EAX, 2, ((uint32_t)(al / imm) << 8) | (al % imm));
		r = al % imm;
	} else {
		r = (uint8_t)(al + ah * imm);
		reg_write(c, CPU_EAX, 2, r);
	}
	lazy_set(c, LF_LOGIC, 1, 0, 0, r);
}

void exec_one(struct cpu *c)
{
	struct dec d = { .o32 = c->code32, .a32 = c->code32, .seg = -1 };
	uint32_t *g = c->s.gpr;
	uint8_t op;
	unsigned size;
	uint32_t v, t;

next:
	op = fetch8(c);
	switch (op) {
	/* ALU ops 00-3F */
	case 0x00: case 0x01: case 0x02: case 0x03: case 0x08: case 0x09: case 0x0a: case 0x0b:
	case 0x10: case 0x11: case 0x12: case 0x13: case 0x18: case 0x19: case 0x1a: case 0x1b:
	case 0x20: case 0x21: case 0x22: case 0x23: case 0x28: case 0x29: case 0x2a: case 0x2b:
	case 0x30: case 0x31: case 0x32: case 0x33: case 0x38: case 0x39: case 0x3a: case 0x3b: {
		unsigned aop = op >> 3;
		size = (op & 1) ? (d.o32 ? 4 : 2) : 1;
		decode_modrm(c, &d);
		if (op & 2) {
			v = alu_op(c, aop, reg_read(c, d.reg, size), rm_read(c, &d, size), size);
			if (aop != 7)
				reg_write(c, d.reg, size, v);
		} else {
			v = alu_op(c, aop, rm_read(c, &d, size), reg_read(c, d.reg, size), size);
			if (aop != 7)
				rm_write(c, &d, size, v);
		}
		return;
	}
	case 0x04: case 0x05: case 0x0c: case 0x0d: case 0x14: case 0x15: case 0x1c: case 0x1d:
	case 0x24: case 0x25: case 0x2c: case 0x2d: case 0x34: case 0x35: case 0x3c: case 0x3d: {
		unsigned aop = op >> 3;
		size = (op & 1) ? (d.o32 ? 4 : 2) : 1;
		t = fetch_imm(c, size);
		v = alu_op(c, aop, reg_read(c, CPU_EAX, size), t, size);
		if (aop != 7)
			reg_write(c, CPU_EAX, size, v);
		return;
	}
	case 0x06: push(c, d.o32 ? 4 : 2, c->s.seg[CPU_SEG_ES].selector); return;
	case 0x0e: push(c, d.o32 ? 4 : 2, c->s.seg[CPU_SEG_CS].selector); return;
	case 0x16: push(c, d.o32 ? 4 : 2, c->s.seg[CPU_SEG_SS].selector); return;
	case 0x1e: push(c, d.o32 ? 4 : 2, c->s.seg[CPU_SEG_DS].selector); return;
	case 0x07: case 0x17: case 0x1f: {
		int seg = op == 0x07 ? CPU_SEG_ES : op == 0x17 ? CPU_SEG_SS : CPU_SEG_DS;
		size = d.o32 ? 4 : 2;
		v = stack_read(c, 0, size);
		seg_load(c, seg, (uint16_t)v);
		pop(c, size);
		if (seg == CPU_SEG_SS)
			c->s.irq_shadow = 1;
		return;
	}
	case 0x0f: exec_0f(c, &d); return;
	case 0x26: d.seg = CPU_SEG_ES; goto next;
	case 0x2e: d.seg = CPU_SEG_CS; goto next;
	case 0x36: d.seg = CPU_SEG_SS; goto next;
	case 0x3e: d.seg = CPU_SEG_DS; goto next;
	case 0x64: d.seg = CPU_SEG_FS; goto next;
	case 0x65: d.seg = CPU_SEG_GS; goto next;
	case 0x66: d.o32 = !c->code32; goto next;
	case 0x67: d.a32 = !c->code32; goto next;
	case 0xf0: d.lock = true; goto next;
	case 0xf2: case 0xf3: d.rep = op; goto next;
	case 0x27: case 0x2f: case 0x37: case 0x3f: exec_bcd(c, op); return;
	case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
	case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
		size = d.o32 ? 4 : 2;
		uint32_t cf = flags_cf(c) ? F_CF : 0;
		v = reg_read(c, op & 7, size);
		t = (v + ((op & 8) ? -1u : 1u)) & size_mask(size);
		reg_write(c, op & 7, size, t);
		c->s.eflags = (c->s.eflags & ~F_CF) | cf;
		lazy_set(c, (op & 8) ? LF_DEC : LF_INC, size, v, 1, t);
		return;
	}
	case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
		push(c, d.o32 ? 4 : 2, g[op & 7]);
		return;
	case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
		size = d.o32 ? 4 : 2;
		v = pop(c, size);
		reg_write(c, op & 7, size, v);
		return;
	case 0x60: exec_pusha(c, &d); return;
	case 0x61: exec_popa(c, &d); return;
	case 0x62: exec_bound(c, &d); return;
	case 0x63: exec_arpl(c, &d); return;
	case 0x68: push(c, d.o32 ? 4 : 2, fetch_imm(c, d.o32 ? 4 : 2)); return;
	case 0x6a: push(c, d.o32 ? 4 : 2, (uint32_t)(int8_t)fetch8(c)); return;
	case 0x69: case 0x6b:
		size = d.o32 ? 4 : 2;
		decode_modrm(c, &d);
		v = rm_read(c, &d, size);
		t = op == 0x6b ? (uint32_t)(int8_t)fetch8(c) : fetch_imm(c, size);
		reg_write(c, d.reg, size, imul_op(c, v, t, size));
		return;
	case 0x6c: case 0x6d: case 0x6e: case 0x6f:
	case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab: case 0xac: case 0xad: case 0xae: case 0xaf:
		exec_string(c, &d, op);
		return;
	case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
	case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f:
		t = (uint32_t)(int8_t)fetch8(c);
		if (flags_cond(c, op & 0xf))
			jump_near(c, &d, c->s.eip + t);
		return;
	case 0x80: case 0x81: case 0x82: case 0x83:
		size = (op & 1) ? (d.o32 ? 4 : 2) : 1;
		decode_modrm(c, &d);
		v = rm_read(c, &d, size);
		t = op == 0x83 ? (uint32_t)(int8_t)fetch8(c) : fetch_imm(c, size);
		v = alu_op(c, d.reg, v, t, size);
		if (d.reg != 7)
			rm_write(c, &d, size, v);
		return;
	case 0x84: case 0x85:
		size = (op & 1) ? (d.o32 ? 4 : 2) : 1;
		decode_modrm(c, &d);
		alu_op(c, 4, rm_read(c, &d, size), reg_read(c, d.reg, size), size);
		return;
	case 0x86: case 0x87:
		size = (op & 1) ? (d.o32 ? 4 : 2) : 1;
		decode_modrm(c, &d);
		v = rm_read(c, &d, size);
		rm_write(c, &d, size, reg_read(c, d.reg, size));
		reg_write(c, d.reg, size, v);
		return;
	case 0x88: case 0x89:
		size = (op & 1) ? (d.o32 ? 4 : 2) : 1;
		decode_modrm(c, &d);
		rm_write(c, &d, size, reg_read(c, d.reg, size));
		return;
	case 0x8a: case 0x8b:
		size = (op & 1) ? (d.o32 ? 4 : 2) : 1;
		decode_modrm(c, &d);
		reg_write(c, d.reg, size, rm_read(c, &d, size));
		return;
	case 0x8c:
		decode_modrm(c, &d);
		if (d.reg > 5)
			cpu_raise(c, EXC_UD, 0);
		rm_write(c, &d, d.mod == 3 && d.o32 ? 4 : 2, c->s.seg[d.reg].selector);
		return;
	case 0x8d:
		decode_modrm(c, &d);
		if (d.mod == 3)
			cpu_raise(c, EXC_UD, 0);
		reg_write(c, d.reg, d.o32 ? 4 : 2, d.ea);
		return;
	case 0x8e:
		decode_modrm(c, &d);
		if (d.reg == CPU_SEG_CS || d.reg > 5)
			cpu_raise(c, EXC_UD, 0);
		seg_load(c, d.reg, (uint16_t)rm_read(c, &d, 2));
		if (d.reg == CPU_SEG_SS)
			c->s.irq_shadow = 1;
		return;
	case 0x8f: {
		size = d.o32 ? 4 : 2;
		v = stack_read(c, 0, size);
		/* the address is computed with ESP already incremented */
		uint32_t old = g[CPU_ESP];
		sp_set(c, old + size);
		decode_modrm(c, &d);
		if (d.reg != 0)
			cpu_raise(c, EXC_UD, 0);
		rm_write(c, &d, size, v);
		return;
	}
	case 0x90:
		return;
	case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
		size = d.o32 ? 4 : 2;
		v = reg_read(c, op & 7, size);
		reg_write(c, op & 7, size, reg_read(c, CPU_EAX, size));
		reg_write(c, CPU_EAX, size, v);
		return;
	case 0x98:
		if (d.o32) g[CPU_EAX] = (uint32_t)(int16_t)g[CPU_EAX];
		else reg_write(c, CPU_EAX, 2, (uint32_t)(int8_t)g[CPU_EAX]);
		return;
	case 0x99:
		if (d.o32) g[CPU_EDX] = (int32_t)g[CPU_EAX] < 0 ? 0xffffffffu : 0;
		else reg_write(c, CPU_EDX, 2, (g[CPU_EAX] & 0x8000) ? 0xffff : 0);
		return;
	case 0x9a: case 0xea: {
		uint32_t off = fetch_imm(c, d.o32 ? 4 : 2);
		uint16_t sel = fetch16(c);
		exec_far_jmp_call(c, &d, sel, off, op == 0x9a);
		return;
	}
	case 0x9b: fpu_wait(c); return;   /* FWAIT */
	case 0x9c:
		v = flags_get(c) & ~(F_VM | F_RF);
		push(c, d.o32 ? 4 : 2, v);
		return;
	case 0x9d: exec_popf(c, &d); return;
	case 0x9e:
		flags_set(c, g[CPU_EAX] >> 8, F_SF | F_ZF | F_AF | F_PF | F_CF);
		return;
	case 0x9f:
		reg_write(c, 4, 1, (flags_get(c) & 0xd7) | 2);
		return;
	case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
		size = (op & 1) ? (d.o32 ? 4 : 2) : 1;
		uint32_t off = d.a32 ? fetch32(c) : fetch16(c);
		int seg = d.seg >= 0 ? d.seg : CPU_SEG_DS;
		if (op & 2) mem_write(c, seg, off, size, reg_read(c, CPU_EAX, size));
		else reg_write(c, CPU_EAX, size, mem_read(c, seg, off, size));
		return;
	}
	case 0xa8: case 0xa9:
		size = (op & 1) ? (d.o32 ? 4 : 2) : 1;
		alu_op(c, 4, reg_read(c, CPU_EAX, size), fetch_imm(c, size), size);
		return;
	case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
		reg_write(c, op & 7, 1, fetch8(c));
		return;
	case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
		size = d.o32 ? 4 : 2;
		reg_write(c, op & 7, size, fetch_imm(c, size));
		return;
	case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
		size = (op & 1) ? (d.o32 ? 4 : 2) : 1;
		decode_modrm(c, &d);
		v = rm_read(c, &d, size);
		unsigned cnt = op <= 0xc1 ? fetch8(c) : op <= 0xd1 ? 1 : g[CPU_ECX] & 0xff;
		if ((cnt & 0x1f) == 0)
			return;
		unsigned sop = d.reg;
		rm_write(c, &d, size, shift_op(c, sop, v, cnt, size));
		return;
	}
	case 0xc2: case 0xc3: {
		size = d.o32 ? 4 : 2;
		uint16_t imm = op == 0xc2 ? fetch16(c) : 0;
		v = stack_read(c, 0, size);
		jump_near(c, &d, v);
		sp_set(c, g[CPU_ESP] + size + imm);
		return;
	}
	case 0xc4: exec_load_far_ptr(c, &d, CPU_SEG_ES); return;
	case 0xc5: exec_load_far_ptr(c, &d, CPU_SEG_DS); return;
	case 0xc6: case 0xc7:
		size = (op & 1) ? (d.o32 ? 4 : 2) : 1;
		decode_modrm(c, &d);
		if (d.reg != 0)
			cpu_raise(c, EXC_UD, 0);
		rm_write(c, &d, size, fetch_imm(c, size));
		return;
	case 0xc8: exec_enter(c, &d); return;
	case 0xc9: {
		size = d.o32 ? 4 : 2;
		uint32_t ebp = g[CPU_EBP] & sp_mask(c);
		v = mem_read(c, CPU_SEG_SS, ebp, size);
		sp_set(c, ebp + size);
		reg_write(c, CPU_EBP, size, v);
		return;
	}
	case 0xca: exec_retf(c, &d, fetch16(c)); return;
	case 0xcb: exec_retf(c, &d, 0); return;
	case 0xcc: cpu_deliver(c, EXC_BP, false, 0, true, c->s.eip); return;
	case 0xcd: {
		uint8_t n = fetch8(c);
		cpu_deliver(c, n, false, 0, true, c->s.eip);
		return;
	}
	case 0xce:
		if (flags_get(c) & F_OF)
			cpu_deliver(c, EXC_OF, false, 0, true, c->s.eip);
		return;
	case 0xcf: exec_iret(c, &d); return;
	case 0xd4: case 0xd5: exec_aam_aad(c, op); return;
	case 0xd6: /* SALC */
		reg_write(c, CPU_EAX, 1, flags_cf(c) ? 0xff : 0);
		return;
	case 0xd7: {
		uint32_t off = g[CPU_EBX] + (g[CPU_EAX] & 0xff);
		if (!d.a32)
			off &= 0xffff;
		reg_write(c, CPU_EAX, 1, mem_read(c, d.seg >= 0 ? d.seg : CPU_SEG_DS, off, 1));
		return;
	}
	case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf:
		exec_fpu(c, &d, op);
		return;
	case 0xe0: case 0xe1: case 0xe2: case 0xe3: {
		t = (uint32_t)(int8_t)fetch8(c);
		uint32_t cnt = d.a32 ? g[CPU_ECX] : g[CPU_ECX] & 0xffff;
		bool take;
		if (op == 0xe3) {
			take = cnt == 0;
		} else {
			cnt--;
			take = cnt != 0;
			if (op == 0xe0) take = take && !(flags_get(c) & F_ZF);
			else if (op == 0xe1) take = take && (flags_get(c) & F_ZF);
		}
		if (take)
			jump_near(c, &d, c->s.eip + t);
		if (op != 0xe3)
			reg_write(c, CPU_ECX, d.a32 ? 4 : 2, cnt);
		return;
	}
	case 0xe4: case 0xe5: case 0xe6: case 0xe7: case 0xec: case 0xed: case 0xee: case 0xef:
		exec_io(c, &d, op);
		return;
	case 0xe8:
		size = d.o32 ? 4 : 2;
		t = fetch_imm(c, size);
		v = c->s.eip;
		if (!d.o32)
			v &= 0xffff;
		{
			uint32_t target = v + t;
			if (!d.o32)
				target &= 0xffff;
			if (unlikely(target > c->s.seg[CPU_SEG_CS].limit))
				cpu_raise(c, EXC_GP, 0);
			push(c, size, v);
			c->s.eip = target;
		}
		return;
	case 0xe9:
		t = fetch_imm(c, d.o32 ? 4 : 2);
		jump_near(c, &d, c->s.eip + t);
		return;
	case 0xeb:
		t = (uint32_t)(int8_t)fetch8(c);
		jump_near(c, &d, c->s.eip + t);
		return;
	case 0xf1: cpu_deliver(c, EXC_DB, false, 0, false, c->s.eip); return;
	case 0xf4:
		if (c->pmode && c->cpl != 0)
			cpu_raise(c, EXC_GP, 0);
		c->s.halted = 1;
		return;
	case 0xf5: flags_set(c, flags_get(c) ^ F_CF, F_CF); return;
	case 0xf6: case 0xf7:
		decode_modrm(c, &d);
		exec_grp3(c, &d, (op & 1) ? (d.o32 ? 4 : 2) : 1);
		return;
	case 0xf8: flags_set(c, 0, F_CF); return;
	case 0xf9: flags_set(c, F_CF, F_CF); return;
	case 0xfa: exec_cli_sti(c, false); return;
	case 0xfb: exec_cli_sti(c, true); return;
	case 0xfc: c->s.eflags &= ~F_DF; return;
	case 0xfd: c->s.eflags |= F_DF; return;
	case 0xfe:
		decode_modrm(c, &d);
		if (d.reg > 1)
			cpu_raise(c, EXC_UD, 0);
		{
			uint32_t cf = flags_cf(c) ? F_CF : 0;
			v = rm_read(c, &d, 1);
			t = (v + (d.reg ? 0xffu : 1u)) & 0xff;
			rm_write(c, &d, 1, t);
			c->s.eflags = (c->s.eflags & ~F_CF) | cf;
			lazy_set(c, d.reg ? LF_DEC : LF_INC, 1, v, 1, t);
		}
		return;
	case 0xff: exec_grp5(c, &d, d.o32 ? 4 : 2); return;
	default:
		cpu_raise(c, EXC_UD, 0);
	}
}
