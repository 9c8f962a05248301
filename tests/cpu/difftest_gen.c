/* tests/cpu — random instruction generator for the differential tester.
 *
 * Every integer opcode of the one- and two-byte maps that can run without
 * system setup (no far transfers, I/O, segment loads in protected mode,
 * interrupts, x87 or system registers) is described by a row: ModRM form,
 * immediate kind, and which ModRM.reg values are valid. The generator adds
 * random prefixes (operand size, address size, segment override, REP) and a
 * random ModRM/SIB/displacement. It also reports which flags the SDM leaves
 * undefined for the instruction, so the tester can mask them. */
#include "tests/cpu/difftest.h"

enum { M_NONE, M_ANY, M_MEM };
enum { I_0, I_B, I_Z, I_W, I_WB, I_A };

struct op_row {
	uint16_t op;      /* 0x0fxx for two-byte opcodes */
	uint8_t modrm;
	uint8_t imm;
	uint8_t regs;     /* allowed ModRM.reg values (bit mask); 0 = all */
	uint8_t modes;    /* 1 = 16-bit, 2 = 32-bit, 3 = both */
};

static const struct op_row rows[] = {
	/* ALU families */
#define ALU(b) { (b), M_ANY, I_0, 0, 3 }, { (b) + 1, M_ANY, I_0, 0, 3 }, { (b) + 2, M_ANY, I_0, 0, 3 }, \
	{ (b) + 3, M_ANY, I_0, 0, 3 }, { (b) + 4, M_NONE, I_B, 0, 3 }, { (b) + 5, M_NONE, I_Z, 0, 3 }
	ALU(0x00), ALU(0x08), ALU(0x10), ALU(0x18), ALU(0x20), ALU(0x28), ALU(0x30), ALU(0x38),
#undef ALU
	{ 0x06, M_NONE, I_0, 0, 3 }, { 0x0e, M_NONE, I_0, 0, 3 }, { 0x16, M_NONE, I_0, 0, 3 },
	{ 0x1e, M_NONE, I_0, 0, 3 },
	{ 0x07, M_NONE, I_0, 0, 1 }, { 0x1f, M_NONE, I_0, 0, 1 },
	{ 0x27, M_NONE, I_0, 0, 3 }, { 0x2f, M_NONE, I_0, 0, 3 }, { 0x37, M_NONE, I_0, 0, 3 },
	{ 0x3f, M_NONE, I_0, 0, 3 },
	{ 0x40, M_NONE, I_0, 0, 3 }, { 0x43, M_NONE, I_0, 0, 3 }, { 0x45, M_NONE, I_0, 0, 3 },
	{ 0x48, M_NONE, I_0, 0, 3 }, { 0x4a, M_NONE, I_0, 0, 3 }, { 0x4f, M_NONE, I_0, 0, 3 },
	{ 0x50, M_NONE, I_0, 0, 3 }, { 0x53, M_NONE, I_0, 0, 3 }, { 0x54, M_NONE, I_0, 0, 3 },
	{ 0x55, M_NONE, I_0, 0, 3 }, { 0x58, M_NONE, I_0, 0, 3 }, { 0x5b, M_NONE, I_0, 0, 3 },
	{ 0x5d, M_NONE, I_0, 0, 3 }, { 0x5e, M_NONE, I_0, 0, 3 },
	{ 0x60, M_NONE, I_0, 0, 3 }, { 0x61, M_NONE, I_0, 0, 3 }, { 0x62, M_MEM, I_0, 0, 3 },
	{ 0x63, M_ANY, I_0, 0, 2 },
	{ 0x68, M_NONE, I_Z, 0, 3 }, { 0x69, M_ANY, I_Z, 0, 3 }, { 0x6a, M_NONE, I_B, 0, 3 },
	{ 0x6b, M_ANY, I_B, 0, 3 },
	{ 0x70, M_NONE, I_B, 0, 3 }, { 0x71, M_NONE, I_B, 0, 3 }, { 0x72, M_NONE, I_B, 0, 3 },
	{ 0x73, M_NONE, I_B, 0, 3 }, { 0x74, M_NONE, I_B, 0, 3 }, { 0x75, M_NONE, I_B, 0, 3 },
	{ 0x76, M_NONE, I_B, 0, 3 }, { 0x77, M_NONE, I_B, 0, 3 }, { 0x78, M_NONE, I_B, 0, 3 },
	{ 0x79, M_NONE, I_B, 0, 3 }, { 0x7a, M_NONE, I_B, 0, 3 }, { 0x7b, M_NONE, I_B, 0, 3 },
	{ 0x7c, M_NONE, I_B, 0, 3 }, { 0x7d, M_NONE, I_B, 0, 3 }, { 0x7e, M_NONE, I_B, 0, 3 },
	{ 0x7f, M_NONE, I_B, 0, 3 },
	{ 0x80, M_ANY, I_B, 0, 3 }, { 0x81, M_ANY, I_Z, 0, 3 }, { 0x83, M_ANY, I_B, 0, 3 },
	{ 0x84, M_ANY, I_0, 0, 3 }, { 0x85, M_ANY, I_0, 0, 3 }, { 0x86, M_ANY, I_0, 0, 3 },
	{ 0x87, M_ANY, I_0, 0, 3 }, { 0x88, M_ANY, I_0, 0, 3 }, { 0x89, M_ANY, I_0, 0, 3 },
	{ 0x8a, M_ANY, I_0, 0, 3 }, { 0x8b, M_ANY, I_0, 0, 3 }, { 0x8c, M_ANY, I_0, 0x3f, 3 },
	{ 0x8d, M_MEM, I_0, 0, 3 }, { 0x8e, M_ANY, I_0, 0x39, 1 }, { 0x8f, M_ANY, I_0, 0x01, 3 },
	{ 0x90, M_NONE, I_0, 0, 3 }, { 0x91, M_NONE, I_0, 0, 3 }, { 0x93, M_NONE, I_0, 0, 3 },
	{ 0x96, M_NONE, I_0, 0, 3 }, { 0x98, M_NONE, I_0, 0, 3 }, { 0x99, M_NONE, I_0, 0, 3 },
	{ 0x9c, M_NONE, I_0, 0, 3 }, { 0x9e, M_NONE, I_0, 0, 3 }, { 0x9f, M_NONE, I_0, 0, 3 },
	{ 0xa0, M_NONE, I_A, 0, 3 }, { 0xa1, M_NONE, I_A, 0, 3 }, { 0xa2, M_NONE, I_A, 0, 3 },
	{ 0xa3, M_NONE, I_A, 0, 3 },
	{ 0xa4, M_NONE, I_0, 0, 3 }, { 0xa5, M_NONE, I_0, 0, 3 }, { 0xa6, M_NONE, I_0, 0, 3 },
	{ 0xa7, M_NONE, I_0, 0, 3 }, { 0xa8, M_NONE, I_B, 0, 3 }, { 0xa9, M_NONE, I_Z, 0, 3 },
	{ 0xaa, M_NONE, I_0, 0, 3 }, { 0xab, M_NONE, I_0, 0, 3 }, { 0xac, M_NONE, I_0, 0, 3 },
	{ 0xad, M_NONE, I_0, 0, 3 }, { 0xae, M_NONE, I_0, 0, 3 }, { 0xaf, M_NONE, I_0, 0, 3 },
	{ 0xb0, M_NONE, I_B, 0, 3 }, { 0xb4, M_NONE, I_B, 0, 3 }, { 0xb7, M_NONE, I_B, 0, 3 },
	{ 0xb8, M_NONE, I_Z, 0, 3 }, { 0xbb, M_NONE, I_Z, 0, 3 }, { 0xbe, M_NONE, I_Z, 0, 3 },
	{ 0xc0, M_ANY, I_B, 0, 3 }, { 0xc1, M_ANY, I_B, 0, 3 }, { 0xc2, M_NONE, I_W, 0, 3 },
	{ 0xc3, M_NONE, I_0, 0, 3 }, { 0xc4, M_MEM, I_0, 0, 1 }, { 0xc5, M_MEM, I_0, 0, 1 },
	{ 0xc6, M_ANY, I_B, 0x01, 3 }, { 0xc7, M_ANY, I_Z, 0x01, 3 }, { 0xc8, M_NONE, I_WB, 0, 3 },
	{ 0xc9, M_NONE, I_0, 0, 3 },
	{ 0xd0, M_ANY, I_0, 0, 3 }, { 0xd1, M_ANY, I_0, 0, 3 }, { 0xd2, M_ANY, I_0, 0, 3 },
	{ 0xd3, M_ANY, I_0, 0, 3 }, { 0xd4, M_NONE, I_B, 0, 3 }, { 0xd5, M_NONE, I_B, 0, 3 },
	{ 0xd7, M_NONE, I_0, 0, 3 },
	{ 0xe0, M_NONE, I_B, 0, 3 }, { 0xe1, M_NONE, I_B, 0, 3 }, { 0xe2, M_NONE, I_B, 0, 3 },
	{ 0xe3, M_NONE, I_B, 0, 3 }, { 0xe8, M_NONE, I_Z, 0, 3 }, { 0xe9, M_NONE, I_Z, 0, 3 },
	{ 0xeb, M_NONE, I_B, 0, 3 },
	{ 0xf5, M_NONE, I_0, 0, 3 },
	/* F6/F7 /1 (an undocumented TEST alias) is #UD in unicorn: not generated */
	{ 0xf6, M_ANY, I_0, 0xfd, 3 }, { 0xf7, M_ANY, I_0, 0xfd, 3 },
	{ 0xf8, M_NONE, I_0, 0, 3 }, { 0xf9, M_NONE, I_0, 0, 3 }, { 0xfa, M_NONE, I_0, 0, 3 },
	{ 0xfb, M_NONE, I_0, 0, 3 }, { 0xfc, M_NONE, I_0, 0, 3 }, { 0xfd, M_NONE, I_0, 0, 3 },
	{ 0xfe, M_ANY, I_0, 0x03, 3 }, { 0xff, M_ANY, I_0, 0x57, 3 },
	/* two-byte map */
	{ 0x0f1f, M_ANY, I_0, 0, 3 },
	{ 0x0f40, M_ANY, I_0, 0, 3 }, { 0x0f42, M_ANY, I_0, 0, 3 }, { 0x0f44, M_ANY, I_0, 0, 3 },
	{ 0x0f46, M_ANY, I_0, 0, 3 }, { 0x0f48, M_ANY, I_0, 0, 3 }, { 0x0f4a, M_ANY, I_0, 0, 3 },
	{ 0x0f4c, M_ANY, I_0, 0, 3 }, { 0x0f4f, M_ANY, I_0, 0, 3 },
	{ 0x0f80, M_NONE, I_Z, 0, 3 }, { 0x0f83, M_NONE, I_Z, 0, 3 }, { 0x0f85, M_NONE, I_Z, 0, 3 },
	{ 0x0f86, M_NONE, I_Z, 0, 3 }, { 0x0f8c, M_NONE, I_Z, 0, 3 }, { 0x0f8f, M_NONE, I_Z, 0, 3 },
	{ 0x0f91, M_ANY, I_0, 0, 3 }, { 0x0f92, M_ANY, I_0, 0, 3 }, { 0x0f94, M_ANY, I_0, 0, 3 },
	{ 0x0f97, M_ANY, I_0, 0, 3 }, { 0x0f9a, M_ANY, I_0, 0, 3 }, { 0x0f9c, M_ANY, I_0, 0, 3 },
	{ 0x0f9e, M_ANY, I_0, 0, 3 },
	{ 0x0fa0, M_NONE, I_0, 0, 3 }, { 0x0fa8, M_NONE, I_0, 0, 3 },
	{ 0x0fa1, M_NONE, I_0, 0, 1 }, { 0x0fa9, M_NONE, I_0, 0, 1 },
	{ 0x0fa3, M_ANY, I_0, 0, 3 }, { 0x0fa4, M_ANY, I_B, 0, 3 }, { 0x0fa5, M_ANY, I_0, 0, 3 },
	{ 0x0fab, M_ANY, I_0, 0, 3 }, { 0x0fac, M_ANY, I_B, 0, 3 }, { 0x0fad, M_ANY, I_0, 0, 3 },
	{ 0x0faf, M_ANY, I_0, 0, 3 }, { 0x0fb0, M_ANY, I_0, 0, 3 }, { 0x0fb1, M_ANY, I_0, 0, 3 },
	{ 0x0fb3, M_ANY, I_0, 0, 3 }, { 0x0fb4, M_MEM, I_0, 0, 1 }, { 0x0fb5, M_MEM, I_0, 0, 1 },
	{ 0x0fb6, M_ANY, I_0, 0, 3 }, { 0x0fb7, M_ANY, I_0, 0, 3 }, { 0x0fba, M_ANY, I_B, 0xf0, 3 },
	{ 0x0fbb, M_ANY, I_0, 0, 3 }, { 0x0fbc, M_ANY, I_0, 0, 3 }, { 0x0fbd, M_ANY, I_0, 0, 3 },
	{ 0x0fbe, M_ANY, I_0, 0, 3 }, { 0x0fbf, M_ANY, I_0, 0, 3 },
	{ 0x0fc0, M_ANY, I_0, 0, 3 }, { 0x0fc1, M_ANY, I_0, 0, 3 }, { 0x0fc7, M_MEM, I_0, 0x02, 3 },
	{ 0x0fc8, M_NONE, I_0, 0, 3 }, { 0x0fcb, M_NONE, I_0, 0, 3 }, { 0x0fcf, M_NONE, I_0, 0, 3 },
};

uint64_t rng_next(uint64_t *s)
{
	/* splitmix64: small, seedable, good enough for test vectors */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rnd(uint64_t *s, unsigned n)
{
	return (unsigned)(rng_next(s) % n);
}

static void put(struct gen_insn *g, uint8_t b)
{
	if (g->len < sizeof(g->bytes))
		g->bytes[g->len++] = b;
}

static void put_n(struct gen_insn *g, uint32_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		put(g, (uint8_t)(v >> (8 * i)));
}

/* A displacement that keeps most addresses near the registers' values. */
static uint32_t rnd_disp(uint64_t *s)
{
	switch (rnd(s, 4)) {
	case 0: return 0;
	case 1: return rnd(s, 256) - 128;
	case 2: return rnd(s, 0x2000);
	default: return 0x10000 + rnd(s, 0x20000);
	}
}

static void gen_modrm(uint64_t *s, struct gen_insn *g, const struct op_row *r, bool a32)
{
	unsigned mod = r->modrm == M_MEM ? rnd(s, 3) : rnd(s, 4);
	unsigned reg, rm = rnd(s, 8);
	do {
		reg = rnd(s, 8);
	} while (r->regs && !(r->regs & (1u << reg)));
	if (r->op == 0xff && (reg == 2 || reg == 4))
		mod = 3;   /* indirect CALL/JMP through a register the tester aims */
	g->rm = (uint8_t)rm;
	g->reg = (uint8_t)reg;
	g->mod = (uint8_t)mod;
	put(g, (uint8_t)(mod << 6 | reg << 3 | rm));
	if (mod == 3)
		return;
	if (a32) {
		if (rm == 4)
			put(g, (uint8_t)rnd(s, 256));
		bool sib_disp32 = rm == 4 && mod == 0 && (g->bytes[g->len - 1] & 7) == 5;
		if (mod == 1) put(g, (uint8_t)rnd_disp(s));
		else if (mod == 2 || (mod == 0 && rm == 5) || sib_disp32) put_n(g, rnd_disp(s), 4);
	} else {
		if (mod == 1) put(g, (uint8_t)rnd_disp(s));
		else if (mod == 2 || (mod == 0 && rm == 6)) put_n(g, rnd_disp(s), 2);
	}
}

bool is_near_branch(const struct gen_insn *g)
{
	unsigned op = g->op;
	return (op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3) || op == 0xe8 || op == 0xe9 ||
	       op == 0xeb || op == 0xc2 || op == 0xc3 || (op >= 0x0f80 && op <= 0x0f8f) ||
	       (op == 0xff && (g->reg == 2 || g->reg == 4));
}

static void gen_one(uint64_t *s, struct gen_insn *g, bool mode32);

void gen_insn(uint64_t *s, struct gen_insn *g, bool mode32)
{
	/* Exclusion: unicorn 2.0.1 aborts ("tcg fatal error") on near branches
	 * with a 16-bit operand size in 32-bit code, so none are generated. */
	do {
		gen_one(s, g, mode32);
	} while (mode32 && !g->o32 && is_near_branch(g));
}

static void gen_one(uint64_t *s, struct gen_insn *g, bool mode32)
{
	const struct op_row *r;
	do {
		r = &rows[rnd(s, sizeof(rows) / sizeof(rows[0]))];
	} while (!(r->modes & (mode32 ? 2 : 1)));
	memset(g, 0, sizeof(*g));
	g->o32 = g->a32 = mode32;
	static const uint8_t segp[] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
	unsigned np = rnd(s, 4) == 0 ? 1 + rnd(s, 2) : 0;
	for (unsigned i = 0; i < np; i++) {
		switch (rnd(s, 4)) {
		case 0: put(g, 0x66); g->o32 = !mode32; break;
		case 1: if (mode32) { put(g, 0x67); g->a32 = !mode32; } break;
		case 2: {
			uint8_t sp = segp[rnd(s, 6)];
			put(g, sp);
			g->cs_override = g->cs_override || sp == 0x2e;
			break;
		}
		default: break;
		}
	}
	uint8_t op = (uint8_t)r->op;
	bool string = r->op < 0x100 && ((op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf));
	if (string && rnd(s, 2)) {
		g->rep = rnd(s, 2) ? 0xf3 : 0xf2;
		put(g, g->rep);
	}
	g->string = string;
	if (r->op >= 0x100)
		put(g, 0x0f);
	put(g, op);
	g->op = r->op;
	if (r->modrm != M_NONE)
		gen_modrm(s, g, r, g->a32);
	unsigned zs = g->o32 ? 4 : 2;
	switch (r->imm) {
	case I_B: g->imm = (uint8_t)rnd(s, 256); put(g, (uint8_t)g->imm); g->immsz = 1; break;
	case I_Z: put_n(g, (uint32_t)rng_next(s), zs); g->immsz = (uint8_t)zs; break;
	case I_W: put_n(g, rnd(s, 64), 2); break;
	case I_WB: put_n(g, rnd(s, 64), 2); put(g, (uint8_t)rnd(s, 4)); break;
	case I_A: put_n(g, 0x10000 + rnd(s, 0x8000), g->a32 ? 4 : 2); break;
	default: break;
	}
}

/* Flags the SDM leaves undefined after @g, given the shift count @cnt
 * (CL or imm8 where it applies) and the divisor/source value. */
uint32_t gen_undef_flags(const struct gen_insn *g, unsigned cnt)
{
	const uint32_t CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
	unsigned op = g->op, reg = g->reg;
	unsigned size = (op < 0x100 && !(op & 1) && (op == 0xc0 || op == 0xd0 || op == 0xd2 || op == 0xf6)) ? 1
			: (g->o32 ? 4 : 2);
	unsigned bits = size * 8;
	if (op < 0x40 && ((op >> 3) == 1 || (op >> 3) == 4 || (op >> 3) == 6) && (op & 7) < 6)
		return AF;   /* OR AND XOR */
	switch (op) {
	case 0x80: case 0x81: case 0x83:
		return (reg == 1 || reg == 4 || reg == 6) ? AF : 0;
	case 0x84: case 0x85: case 0xa8: case 0xa9:
		return AF;
	case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
		cnt &= 0x1f;
		if (cnt == 0)
			return 0;
		uint32_t u = cnt != 1 ? OF : 0;
		if (reg >= 4)
			u |= AF;
		if ((reg == 4 || reg == 5 || reg == 6) && cnt >= bits)
			u |= CF | OF;
		return u;
	}
	case 0xf6: case 0xf7:
		if (reg <= 1) return AF;
		if (reg == 4 || reg == 5) return SF | ZF | AF | PF;
		if (reg >= 6) return CF | PF | AF | ZF | SF | OF;
		return 0;
	case 0x69: case 0x6b: case 0x0faf:
		return SF | ZF | AF | PF;
	case 0x27: case 0x2f: return OF;
	case 0x37: case 0x3f: return OF | SF | ZF | PF;
	case 0xd4: case 0xd5: return OF | AF | CF;
	case 0x0fa3: case 0x0fab: case 0x0fb3: case 0x0fbb: case 0x0fba:
		return OF | SF | AF | PF;
	case 0x0fbc: case 0x0fbd:
		return CF | OF | SF | AF | PF;
	case 0x0fa4: case 0x0fa5: case 0x0fac: case 0x0fad:
		cnt &= 0x1f;
		if (cnt == 0)
			return 0;
		return AF | (cnt != 1 ? OF : 0) | (cnt > bits ? CF | OF : 0);
	default:
		return 0;
	}
}
