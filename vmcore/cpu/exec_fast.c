/* vmcore/cpu — fast paths: the decoder that turns the hottest instruction
 * forms into pre-decoded records (struct insn) and their handlers.
 *
 * Only prefix-free forms (plus 0x66, segment overrides, and REP on string
 * ops) of MOV (incl. moffs), ALU, TEST, LEA, INC/DEC, NOT/NEG, MUL/IMUL/
 * DIV/IDIV, PUSH/POP/PUSHF, shifts, SHLD/SHRD, MOVZX/MOVSX, SETcc, CMOVcc,
 * XCHG, CBW/CWD, BSWAP, LEAVE, CLD/STD, the string ops and near branches
 * are decoded here; anything else ends the block and runs through
 * exec_one(). Handlers must behave exactly like exec_one(): the run loop
 * has already advanced EIP to the next instruction (as fetching would) and
 * set the restart point, so a fault unwinds the same way. The 32-bit
 * register forms get their own handlers, chosen at decode time. */
#include "vmcore/cpu/cpu_int.h"

#define f_ea insn_ea
#define f_cf insn_cf
#define f_jump insn_jump

HOT_INLINE uint32_t f_rm_read(struct cpu *c, const struct insn *i, unsigned size)
{
	if (!i->mem)
		return reg_read(c, i->rm, size);
	return mem_read(c, i->seg, f_ea(c, i), size);
}

HOT_INLINE void f_rm_write(struct cpu *c, const struct insn *i, unsigned size, uint32_t v)
{
	if (!i->mem)
		reg_write(c, i->rm, size, v);
	else
		mem_write(c, i->seg, f_ea(c, i), size, v);
}

void insn_fallback(struct cpu *c, const struct insn *i)
{
	(void)i;
	exec_one(c);
}

/* ALU: op 0-7 as in the opcode map, 8 = TEST (AND without the write). */
static uint32_t f_alu(struct cpu *c, unsigned op, uint32_t a, uint32_t b, unsigned size)
{
	return alu_op(c, op == 8 ? 4 : op, a, b, size);
}

static void h_alu_rm_r(struct cpu *c, const struct insn *i)
{
	unsigned size = i->size;
	uint32_t src = reg_read(c, i->reg, size);
	if (i->mem) {
		uint32_t ea = f_ea(c, i);
		uint32_t v = f_alu(c, i->op, mem_read(c, i->seg, ea, size), src, size);
		if (i->op < 7)
			mem_write(c, i->seg, ea, size, v);
	} else {
		uint32_t v = f_alu(c, i->op, reg_read(c, i->rm, size), src, size);
		if (i->op < 7)
			reg_write(c, i->rm, size, v);
	}
}

static void h_alu_r_rm(struct cpu *c, const struct insn *i)
{
	unsigned size = i->size;
	uint32_t v = f_alu(c, i->op, reg_read(c, i->reg, size), f_rm_read(c, i, size), size);
	if (i->op < 7)
		reg_write(c, i->reg, size, v);
}

static void h_alu_rm_i(struct cpu *c, const struct insn *i)
{
	unsigned size = i->size;
	if (i->mem) {
		uint32_t ea = f_ea(c, i);
		uint32_t v = f_alu(c, i->op, mem_read(c, i->seg, ea, size), i->imm, size);
		if (i->op < 7)
			mem_write(c, i->seg, ea, size, v);
	} else {
		uint32_t v = f_alu(c, i->op, reg_read(c, i->rm, size), i->imm, size);
		if (i->op < 7)
			reg_write(c, i->rm, size, v);
	}
}

/* 32-bit register forms: dst in i->reg, source register in i->rm or i->imm. */
#define ALU_FAST(NAME, EXPR, LF, WRITE)                                                  \
	static void h_##NAME##_rr(struct cpu *c, const struct insn *i)                   \
	{                                                                                \
		uint32_t a = c->s.gpr[i->reg], b = c->s.gpr[i->rm], r = (EXPR);          \
		if (WRITE)                                                               \
			c->s.gpr[i->reg] = r;                                            \
		lazy_set(c, LF, 4, a, b, r);                                             \
	}                                                                                \
	static void h_##NAME##_ri(struct cpu *c, const struct insn *i)                   \
	{                                                                                \
		uint32_t a = c->s.gpr[i->reg], b = i->imm, r = (EXPR);                   \
		if (WRITE)                                                               \
			c->s.gpr[i->reg] = r;                                            \
		lazy_set(c, LF, 4, a, b, r);                                             \
	}
ALU_FAST(add, a + b, LF_ADD, 1)
ALU_FAST(or, a | b, LF_LOGIC, 1)
ALU_FAST(and, a & b, LF_LOGIC, 1)
ALU_FAST(sub, a - b, LF_SUB, 1)
ALU_FAST(xor, a ^ b, LF_LOGIC, 1)
ALU_FAST(cmp, a - b, LF_SUB, 0)
ALU_FAST(test, a & b, LF_LOGIC, 0)

/* indexed by ALU op (8 = TEST); NULL: ADC/SBB take the generic handler */
static const insn_fn alu_rr32[9] = { h_add_rr, h_or_rr, NULL, NULL, h_and_rr, h_sub_rr, h_xor_rr, h_cmp_rr, h_test_rr };
static const insn_fn alu_ri32[9] = { h_add_ri, h_or_ri, NULL, NULL, h_and_ri, h_sub_ri, h_xor_ri, h_cmp_ri, h_test_ri };

static void h_mov_rr32(struct cpu *c, const struct insn *i) { c->s.gpr[i->reg] = c->s.gpr[i->rm]; }
static void h_mov_r_m32(struct cpu *c, const struct insn *i) { c->s.gpr[i->reg] = mem_read(c, i->seg, f_ea(c, i), 4); }
static void h_mov_m_r32(struct cpu *c, const struct insn *i) { mem_write(c, i->seg, f_ea(c, i), 4, c->s.gpr[i->reg]); }
static void h_mov_rm_r(struct cpu *c, const struct insn *i) { f_rm_write(c, i, i->size, reg_read(c, i->reg, i->size)); }
static void h_mov_r_rm(struct cpu *c, const struct insn *i) { reg_write(c, i->reg, i->size, f_rm_read(c, i, i->size)); }
static void h_mov_rm_i(struct cpu *c, const struct insn *i) { f_rm_write(c, i, i->size, i->imm); }
static void h_mov_r_i(struct cpu *c, const struct insn *i) { reg_write(c, i->rm, i->size, i->imm); }
static void h_mov_r_i32(struct cpu *c, const struct insn *i) { c->s.gpr[i->rm] = i->imm; }
static void h_lea(struct cpu *c, const struct insn *i) { reg_write(c, i->reg, i->size, f_ea(c, i)); }
static void h_lea32(struct cpu *c, const struct insn *i) { c->s.gpr[i->reg] = f_ea(c, i); }
static void h_nop(struct cpu *c, const struct insn *i) { (void)c; (void)i; }

static void h_inc32(struct cpu *c, const struct insn *i)
{
	uint32_t cf = f_cf(c), v = c->s.gpr[i->rm], t = v + 1;
	c->s.gpr[i->rm] = t;
	c->s.eflags = (c->s.eflags & ~F_CF) | cf;
	lazy_set(c, LF_INC, 4, v, 1, t);
}

static void h_dec32(struct cpu *c, const struct insn *i)
{
	uint32_t cf = f_cf(c), v = c->s.gpr[i->rm], t = v - 1;
	c->s.gpr[i->rm] = t;
	c->s.eflags = (c->s.eflags & ~F_CF) | cf;
	lazy_set(c, LF_DEC, 4, v, 1, t);
}

/* INC/DEC r/m (FE/FF /0 /1, and 16-bit 40-4F with i->mem false); op 1 = DEC */
static void h_incdec(struct cpu *c, const struct insn *i)
{
	unsigned size = i->size;
	uint32_t ea = i->mem ? f_ea(c, i) : 0;
	uint32_t v = i->mem ? mem_read(c, i->seg, ea, size) : reg_read(c, i->rm, size);
	uint32_t cf = f_cf(c);
	uint32_t t = (v + (i->op ? -1u : 1u)) & size_mask(size);
	if (i->mem)
		mem_write(c, i->seg, ea, size, t);
	else
		reg_write(c, i->rm, size, t);
	c->s.eflags = (c->s.eflags & ~F_CF) | cf;
	lazy_set(c, i->op ? LF_DEC : LF_INC, size, v & size_mask(size), 1, t);
}

static void h_push_r(struct cpu *c, const struct insn *i) { push(c, i->size, c->s.gpr[i->rm]); }
static void h_push_i(struct cpu *c, const struct insn *i) { push(c, i->size, i->imm); }
static void h_push_rm(struct cpu *c, const struct insn *i) { push(c, i->size, f_rm_read(c, i, i->size)); }

static void h_pop_r(struct cpu *c, const struct insn *i)
{
	uint32_t v = pop(c, i->size);
	reg_write(c, i->rm, i->size, v);
}

static void h_push_r32(struct cpu *c, const struct insn *i) { push(c, 4, c->s.gpr[i->rm]); }
static void h_pop_r32(struct cpu *c, const struct insn *i) { c->s.gpr[i->rm] = pop(c, 4); }

/* i->op: 0 = count in i->imm, 1 = count in CL; i->reg is the shift op */
static void h_shift(struct cpu *c, const struct insn *i)
{
	unsigned size = i->size;
	uint32_t ea = i->mem ? f_ea(c, i) : 0;
	uint32_t v = i->mem ? mem_read(c, i->seg, ea, size) : reg_read(c, i->rm, size);
	unsigned cnt = i->op ? c->s.gpr[CPU_ECX] & 0xff : i->imm;
	if ((cnt & 0x1f) == 0)
		return;
	v = shift_op(c, i->reg, v, cnt, size);
	if (i->mem)
		mem_write(c, i->seg, ea, size, v);
	else
		reg_write(c, i->rm, size, v);
}

/* MOVZX/MOVSX: i->size is the source size, i->op 1 = sign-extend */
static void h_movx(struct cpu *c, const struct insn *i)
{
	uint32_t v = f_rm_read(c, i, i->size);
	if (i->op)
		v = i->size == 1 ? (uint32_t)(int8_t)v : (uint32_t)(int16_t)v;
	reg_write(c, i->reg, i->o32 ? 4 : 2, v);
}

static void h_setcc(struct cpu *c, const struct insn *i) { f_rm_write(c, i, 1, flags_cond(c, i->op) ? 1 : 0); }

static void h_jcc(struct cpu *c, const struct insn *i)
{
	if (flags_cond(c, i->op))
		f_jump(c, i, c->s.eip + i->imm);
}

/* JZ/JNZ: ZF is "result == 0" for every lazy op (flags_cond's rule) */
static void h_jz(struct cpu *c, const struct insn *i)
{
	bool z = c->lf_op != LF_NONE ? c->lf_r == 0 : (c->s.eflags & F_ZF) != 0;
	if (z != (i->op & 1))
		f_jump(c, i, c->s.eip + i->imm);
}

static void h_jmp(struct cpu *c, const struct insn *i) { f_jump(c, i, c->s.eip + i->imm); }
static void h_jmp_rm(struct cpu *c, const struct insn *i) { f_jump(c, i, f_rm_read(c, i, i->size)); }

static void h_call(struct cpu *c, const struct insn *i)
{
	uint32_t v = c->s.eip;
	if (!i->o32)
		v &= 0xffff;
	uint32_t target = v + i->imm;
	if (!i->o32)
		target &= 0xffff;
	if (unlikely(target > c->s.seg[CPU_SEG_CS].limit))
		cpu_raise(c, EXC_GP, 0);
	push(c, i->size, v);
	c->s.eip = target;
}

/* 32-bit forms, inline kinds in the run loop (same code there) */
static void h_call32(struct cpu *c, const struct insn *i)
{
	uint32_t target = c->s.eip + i->imm;
	if (unlikely(target > c->s.seg[CPU_SEG_CS].limit))
		cpu_raise(c, EXC_GP, 0);
	push(c, 4, c->s.eip);
	c->s.eip = target;
}

static void h_ret32(struct cpu *c, const struct insn *i)
{
	uint32_t v = stack_read(c, 0, 4);
	f_jump(c, i, v);
	sp_set(c, c->s.gpr[CPU_ESP] + 4 + i->imm);
}

static void h_call_rm(struct cpu *c, const struct insn *i)
{
	uint32_t v = f_rm_read(c, i, i->size);
	push(c, i->size, c->s.eip);
	f_jump(c, i, v);
}

static void h_ret(struct cpu *c, const struct insn *i)
{
	uint32_t v = stack_read(c, 0, i->size);
	f_jump(c, i, v);
	sp_set(c, c->s.gpr[CPU_ESP] + i->size + i->imm);
}

/* IMUL r, r/m (0F AF): i->op 0; IMUL r, r/m, imm (69/6B): i->op 1 */
static void h_imul(struct cpu *c, const struct insn *i)
{
	unsigned size = i->size;
	uint32_t v = f_rm_read(c, i, size);
	uint32_t a = i->op ? i->imm : reg_read(c, i->reg, size);
	reg_write(c, i->reg, size, imul_op(c, a, v, size));
}

/* CMOVcc: the source is read (and may fault) whatever the condition */
static void h_cmov(struct cpu *c, const struct insn *i)
{
	uint32_t v = f_rm_read(c, i, i->size);
	if (flags_cond(c, i->op))
		reg_write(c, i->reg, i->size, v);
}

/* F6/F7 /2-/7 (NOT NEG MUL IMUL DIV IDIV) through exec_grp3(), which
 * fetches nothing for these */
static void h_grp3(struct cpu *c, const struct insn *i)
{
	struct dec d = { .o32 = i->o32, .mod = i->mem ? 0 : 3, .reg = i->reg, .rm = i->rm,
			 .easeg = i->seg, .ea = i->mem ? f_ea(c, i) : 0 };
	exec_grp3(c, &d, i->size);
}

/* SHLD/SHRD: i->op bit 0 = count in CL, bit 1 = left */
static void h_shiftd(struct cpu *c, const struct insn *i)
{
	unsigned size = i->size;
	uint32_t v = f_rm_read(c, i, size);
	unsigned cnt = (i->op & 1) ? c->s.gpr[CPU_ECX] & 0xff : i->imm;
	if ((cnt & 0x1f) == 0)
		return;
	f_rm_write(c, i, size, shiftd_op(c, i->op & 2, v, reg_read(c, i->reg, size), cnt, size));
}

/* XCHG r/m, r: the memory write comes first so a fault changes nothing */
static void h_xchg(struct cpu *c, const struct insn *i)
{
	unsigned size = i->size;
	uint32_t v = f_rm_read(c, i, size);
	f_rm_write(c, i, size, reg_read(c, i->reg, size));
	reg_write(c, i->reg, size, v);
}

static void h_cbw(struct cpu *c, const struct insn *i)
{
	uint32_t *g = c->s.gpr;
	if (i->o32)
		g[CPU_EAX] = (uint32_t)(int16_t)g[CPU_EAX];
	else
		reg_write(c, CPU_EAX, 2, (uint32_t)(int8_t)g[CPU_EAX]);
}

static void h_cwd(struct cpu *c, const struct insn *i)
{
	uint32_t *g = c->s.gpr;
	if (i->o32)
		g[CPU_EDX] = (int32_t)g[CPU_EAX] < 0 ? 0xffffffffu : 0;
	else
		reg_write(c, CPU_EDX, 2, (g[CPU_EAX] & 0x8000) ? 0xffff : 0);
}

static void h_bswap(struct cpu *c, const struct insn *i) { c->s.gpr[i->rm] = __builtin_bswap32(c->s.gpr[i->rm]); }
static void h_pushf(struct cpu *c, const struct insn *i) { push(c, i->size, flags_get(c) & ~(F_VM | F_RF)); }
static void h_cld(struct cpu *c, const struct insn *i) { (void)i; c->s.eflags &= ~F_DF; }
static void h_std(struct cpu *c, const struct insn *i) { (void)i; c->s.eflags |= F_DF; }

static void h_leave(struct cpu *c, const struct insn *i)
{
	unsigned size = i->size;
	uint32_t ebp = c->s.gpr[CPU_EBP] & sp_mask(c);
	uint32_t v = mem_read(c, CPU_SEG_SS, ebp, size);
	sp_set(c, ebp + size);
	reg_write(c, CPU_EBP, size, v);
}

/* MOVS/CMPS/STOS/LODS/SCAS: i->imm the opcode, i->op the REP prefix (0,
 * 0xf2, 0xf3), i->seg the override (0xff none), i->eamask the address
 * size. A REP form is a block's last record (i->end): exec_string()
 * restarts it from insn_eip after a chunk, which only the last record sets. */
static void h_string(struct cpu *c, const struct insn *i)
{
	struct dec d = { .o32 = i->o32, .a32 = i->eamask == 0xffffffffu,
			 .seg = i->seg == 0xff ? -1 : (int8_t)i->seg, .rep = i->op };
	exec_string(c, &d, (uint8_t)i->imm);
}

bool insn_ends_block(const struct insn *i)
{
	return i->end;
}

/* ---- decoder ---- */

static uint8_t kind_of(insn_fn fn)
{
	static const struct { insn_fn fn; uint8_t kind; } kinds[] = {
		{ h_add_rr, INSN_K_ADD_RR }, { h_add_ri, INSN_K_ADD_RI }, { h_sub_rr, INSN_K_SUB_RR },
		{ h_sub_ri, INSN_K_SUB_RI }, { h_xor_rr, INSN_K_XOR_RR }, { h_xor_ri, INSN_K_XOR_RI },
		{ h_cmp_rr, INSN_K_CMP_RR }, { h_cmp_ri, INSN_K_CMP_RI }, { h_test_rr, INSN_K_TEST_RR },
		{ h_inc32, INSN_K_INC32 }, { h_dec32, INSN_K_DEC32 }, { h_mov_rr32, INSN_K_MOV_RR },
		{ h_mov_r_i32, INSN_K_MOV_RI }, { h_mov_r_m32, INSN_K_MOV_RM }, { h_mov_m_r32, INSN_K_MOV_MR },
		{ h_jz, INSN_K_JZ }, { h_push_r32, INSN_K_PUSH_R32 }, { h_pop_r32, INSN_K_POP_R32 },
		{ h_lea32, INSN_K_LEA32 }, { h_call32, INSN_K_CALL32 }, { h_ret32, INSN_K_RET32 },
		{ h_jmp, INSN_K_JMP },
	};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (kinds[k].fn == fn)
			return kinds[k].kind;
	return INSN_K_CALL;
}

struct src {
	const uint8_t *p;
	unsigned n, avail;
};

static bool get(struct src *s, unsigned size, uint32_t *v)
{
	if (s->n + size > s->avail)
		return false;
	const uint8_t *p = s->p + s->n;
	*v = size == 1 ? p[0] : size == 2 ? (uint32_t)(p[0] | p[1] << 8)
		: (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	s->n += size;
	return true;
}

static bool get_s8(struct src *s, uint32_t *v)
{
	if (!get(s, 1, v))
		return false;
	*v = (uint32_t)(int8_t)*v;
	return true;
}

/* ModRM/SIB/displacement into the record's address formula */
static bool modrm(struct src *s, bool a32, int seg, struct insn *i)
{
	uint32_t m, x = 0;
	if (!get(s, 1, &m))
		return false;
	unsigned mod = m >> 6, rm = m & 7;
	i->reg = (m >> 3) & 7;
	i->rm = (uint8_t)rm;
	i->mem = mod != 3;
	if (!i->mem)
		return true;
	uint8_t dseg = CPU_SEG_DS;
	i->disp = 0;
	if (a32) {
		i->eamask = 0xffffffffu;
		unsigned base = rm;
		if (rm == 4) {
			if (!get(s, 1, &x))
				return false;
			base = x & 7;
			unsigned idx = (x >> 3) & 7;
			if (idx != 4) {
				i->index = (uint8_t)idx;
				i->imask = 0xffffffffu;
				i->scale = (uint8_t)(x >> 6);
			}
		}
		if (base == 5 && mod == 0) {
			if (!get(s, 4, &i->disp))
				return false;
		} else {
			i->base = (uint8_t)base;
			i->bmask = 0xffffffffu;
			if (base == CPU_ESP || base == CPU_EBP)
				dseg = CPU_SEG_SS;
		}
		if (mod == 1 && !get_s8(s, &x))
			return false;
		if (mod == 2 && !get(s, 4, &x))
			return false;
		if (mod)
			i->disp += x;
	} else {
		static const uint8_t b16[8] = { CPU_EBX, CPU_EBX, CPU_EBP, CPU_EBP, CPU_ESI, CPU_EDI, CPU_EBP, CPU_EBX };
		static const uint8_t x16[8] = { CPU_ESI, CPU_EDI, CPU_ESI, CPU_EDI, 8, 8, 8, 8 };
		i->eamask = 0xffff;
		if (rm == 6 && mod == 0) {
			if (!get(s, 2, &i->disp))
				return false;
		} else {
			i->base = b16[rm];
			i->bmask = 0xffffffffu;
			if (x16[rm] < 8) {
				i->index = x16[rm];
				i->imask = 0xffffffffu;
			}
			if (rm == 2 || rm == 3 || rm == 6)
				dseg = CPU_SEG_SS;
		}
		if (mod == 1 && !get_s8(s, &x))
			return false;
		if (mod == 2 && !get(s, 2, &x))
			return false;
		if (mod)
			i->disp += x;
	}
	i->seg = seg >= 0 ? (uint8_t)seg : dseg;
	return true;
}

static bool decode_0f(struct src *s, bool o32, bool a32, int seg, struct insn *i)
{
	uint32_t op;
	if (!get(s, 1, &op))
		return false;
	if (op >= 0x80 && op <= 0x8f) {
		if (!get(s, o32 ? 4 : 2, &i->imm))
			return false;
		if (!o32)
			i->imm = (uint32_t)(int16_t)i->imm;
		i->op = op & 0xf;
		i->fn = (op & 0xe) == 4 ? h_jz : h_jcc;
		i->end = true;
		return true;
	}
	if (op >= 0x90 && op <= 0x9f) {
		if (!modrm(s, a32, seg, i))
			return false;
		i->op = op & 0xf;
		i->fn = h_setcc;
		return true;
	}
	if (op >= 0x40 && op <= 0x4f) {
		if (!modrm(s, a32, seg, i))
			return false;
		i->size = o32 ? 4 : 2;
		i->op = op & 0xf;
		i->fn = h_cmov;
		return true;
	}
	if (op == 0xaf) {
		if (!modrm(s, a32, seg, i))
			return false;
		i->size = o32 ? 4 : 2;
		i->fn = h_imul;
		return true;
	}
	if (op == 0xa4 || op == 0xa5 || op == 0xac || op == 0xad) {
		if (!modrm(s, a32, seg, i) || (!(op & 1) && !get(s, 1, &i->imm)))
			return false;
		i->size = o32 ? 4 : 2;
		i->op = (uint8_t)((op & 1) | (op < 0xa8 ? 2 : 0));
		i->fn = h_shiftd;
		return true;
	}
	if (op >= 0xc8 && op <= 0xcf && o32) {   /* BSWAP (16-bit form undefined: slow path) */
		i->rm = op & 7;
		i->fn = h_bswap;
		return true;
	}
	if (op == 0xb6 || op == 0xb7 || op == 0xbe || op == 0xbf) {
		if (!modrm(s, a32, seg, i))
			return false;
		i->size = (op & 1) ? 2 : 1;
		i->op = (op & 8) ? 1 : 0;
		i->fn = h_movx;
		return true;
	}
	return false;
}

bool fast_decode(const uint8_t *p, unsigned avail, bool code32, struct insn *i)
{
	struct src s = { .p = p, .n = 0, .avail = avail };
	bool o32 = code32, a32 = code32;
	int seg = -1;
	uint32_t op, rep = 0;
	memset(i, 0, sizeof(*i));
	for (;;) {
		if (s.n >= 4 || !get(&s, 1, &op))
			return false;
		switch (op) {
		case 0x66: o32 = !code32; continue;
		case 0x26: seg = CPU_SEG_ES; continue;
		case 0x2e: seg = CPU_SEG_CS; continue;
		case 0x36: seg = CPU_SEG_SS; continue;
		case 0x3e: seg = CPU_SEG_DS; continue;
		case 0x64: seg = CPU_SEG_FS; continue;
		case 0x65: seg = CPU_SEG_GS; continue;
		case 0xf2: case 0xf3: rep = op; continue;
		default: break;
		}
		break;
	}
	/* REP only on the string ops (and the "rep ret" idiom, a plain RET) */
	if (rep && !((op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf) || op == 0xc3))
		return false;
	unsigned osz = o32 ? 4 : 2;
	i->o32 = o32;
	if (op == 0x0f) {
		if (!decode_0f(&s, o32, a32, seg, i))
			return false;
		goto done;
	}
	if (op < 0x40 && (op & 7) < 6) {          /* ALU 00-3D */
		unsigned aop = op >> 3;
		i->op = (uint8_t)aop;
		i->size = (uint8_t)((op & 1) ? osz : 1);
		if (op & 4) {                      /* AL/eAX, imm */
			if (!get(&s, i->size, &i->imm))
				return false;
			i->rm = CPU_EAX;
			if (i->size == 4 && alu_ri32[aop]) {
				i->reg = CPU_EAX;
				i->fn = alu_ri32[aop];
			} else {
				i->fn = h_alu_rm_i;
			}
			goto done;
		}
		if (!modrm(&s, a32, seg, i))
			return false;
		if (!i->mem && i->size == 4 && alu_rr32[aop]) {
			if (!(op & 2)) {           /* dst is r/m */
				uint8_t t = i->reg;
				i->reg = i->rm;
				i->rm = t;
			}
			i->fn = alu_rr32[aop];
		} else {
			i->fn = (op & 2) ? h_alu_r_rm : h_alu_rm_r;
		}
		goto done;
	}
	switch (op) {
	case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
	case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f:
		i->rm = op & 7;
		i->op = (op & 8) ? 1 : 0;
		i->size = (uint8_t)osz;
		i->fn = osz == 4 ? (i->op ? h_dec32 : h_inc32) : h_incdec;
		break;
	case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
		i->rm = op & 7;
		i->size = (uint8_t)osz;
		i->fn = osz == 4 ? h_push_r32 : h_push_r;
		break;
	case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
		i->rm = op & 7;
		i->size = (uint8_t)osz;
		i->fn = osz == 4 ? h_pop_r32 : h_pop_r;
		break;
	case 0x68:
		if (!get(&s, osz, &i->imm))
			return false;
		i->size = (uint8_t)osz;
		i->fn = h_push_i;
		break;
	case 0x6a:
		if (!get_s8(&s, &i->imm))
			return false;
		i->size = (uint8_t)osz;
		i->fn = h_push_i;
		break;
	case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
	case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f:
		if (!get_s8(&s, &i->imm))
			return false;
		i->op = op & 0xf;
		i->fn = (op & 0xe) == 4 ? h_jz : h_jcc;
		i->end = true;
		break;
	case 0x80: case 0x81: case 0x82: case 0x83:
		i->size = (uint8_t)((op & 1) ? osz : 1);
		if (!modrm(&s, a32, seg, i))
			return false;
		if (op == 0x83 ? !get_s8(&s, &i->imm) : !get(&s, i->size, &i->imm))
			return false;
		i->op = i->reg;
		if (!i->mem && i->size == 4 && alu_ri32[i->op]) {
			i->reg = i->rm;
			i->fn = alu_ri32[i->op];
		} else {
			i->fn = h_alu_rm_i;
		}
		break;
	case 0x84: case 0x85:
		i->size = (uint8_t)((op & 1) ? osz : 1);
		if (!modrm(&s, a32, seg, i))
			return false;
		i->op = 8;
		if (!i->mem && i->size == 4) {
			uint8_t t = i->reg;
			i->reg = i->rm;
			i->rm = t;
			i->fn = h_test_rr;
		} else {
			i->fn = h_alu_rm_r;
		}
		break;
	case 0xa8: case 0xa9:
		i->size = (uint8_t)((op & 1) ? osz : 1);
		if (!get(&s, i->size, &i->imm))
			return false;
		i->op = 8;
		i->rm = CPU_EAX;
		i->reg = CPU_EAX;
		i->fn = i->size == 4 ? h_test_ri : h_alu_rm_i;
		break;
	case 0x88: case 0x89: case 0x8a: case 0x8b:
		i->size = (uint8_t)((op & 1) ? osz : 1);
		if (!modrm(&s, a32, seg, i))
			return false;
		if (i->size != 4) {
			i->fn = (op & 2) ? h_mov_r_rm : h_mov_rm_r;
		} else if (i->mem) {
			i->fn = (op & 2) ? h_mov_r_m32 : h_mov_m_r32;
		} else {
			if (!(op & 2)) {
				uint8_t t = i->reg;
				i->reg = i->rm;
				i->rm = t;
			}
			i->fn = h_mov_rr32;
		}
		break;
	case 0x8d:
		if (!modrm(&s, a32, seg, i) || !i->mem)
			return false;
		i->size = (uint8_t)osz;
		i->fn = osz == 4 ? h_lea32 : h_lea;
		break;
	case 0x90:
		i->fn = h_nop;
		break;
	case 0x69: case 0x6b:
		i->size = (uint8_t)osz;
		if (!modrm(&s, a32, seg, i))
			return false;
		if (op == 0x6b ? !get_s8(&s, &i->imm) : !get(&s, osz, &i->imm))
			return false;
		i->op = 1;
		i->fn = h_imul;
		break;
	case 0x86: case 0x87:
		i->size = (uint8_t)((op & 1) ? osz : 1);
		if (!modrm(&s, a32, seg, i))
			return false;
		i->fn = h_xchg;
		break;
	case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
		i->size = (uint8_t)osz;
		i->reg = CPU_EAX;
		i->rm = op & 7;
		i->fn = h_xchg;
		break;
	case 0x98: i->fn = h_cbw; break;
	case 0x99: i->fn = h_cwd; break;
	case 0x9c:
		i->size = (uint8_t)osz;
		i->fn = h_pushf;
		break;
	case 0xa0: case 0xa1: case 0xa2: case 0xa3:   /* MOV AL/eAX <-> moffs */
		i->size = (uint8_t)((op & 1) ? osz : 1);
		if (!get(&s, a32 ? 4 : 2, &i->disp))
			return false;
		i->mem = true;
		i->eamask = a32 ? 0xffffffffu : 0xffffu;
		i->seg = (uint8_t)(seg >= 0 ? seg : CPU_SEG_DS);
		i->reg = CPU_EAX;
		i->fn = (op & 2) ? h_mov_rm_r : h_mov_r_rm;
		break;
	case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab: case 0xac: case 0xad: case 0xae: case 0xaf:
		i->imm = op;
		i->op = (uint8_t)rep;
		i->seg = (uint8_t)(seg >= 0 ? seg : 0xff);
		i->eamask = a32 ? 0xffffffffu : 0xffffu;
		i->fn = h_string;
		i->end = rep != 0;
		break;
	case 0xc9:
		i->size = (uint8_t)osz;
		i->fn = h_leave;
		break;
	case 0xf6: case 0xf7:
		i->size = (uint8_t)((op & 1) ? osz : 1);
		if (!modrm(&s, a32, seg, i))
			return false;
		if (i->reg <= 1) {                 /* TEST r/m, imm (/1 an alias) */
			if (!get(&s, i->size, &i->imm))
				return false;
			i->op = 8;
			i->fn = h_alu_rm_i;
		} else {
			i->fn = h_grp3;
		}
		break;
	case 0xfc: i->fn = h_cld; break;
	case 0xfd: i->fn = h_std; break;
	case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
		if (!get(&s, 1, &i->imm))
			return false;
		i->rm = op & 7;
		i->size = 1;
		i->fn = h_mov_r_i;
		break;
	case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
		if (!get(&s, osz, &i->imm))
			return false;
		i->rm = op & 7;
		i->size = (uint8_t)osz;
		i->fn = osz == 4 ? h_mov_r_i32 : h_mov_r_i;
		break;
	case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3:
		i->size = (uint8_t)((op & 1) ? osz : 1);
		if (!modrm(&s, a32, seg, i))
			return false;
		if (op <= 0xc1) {
			if (!get(&s, 1, &i->imm))
				return false;
		} else {
			i->imm = 1;
		}
		i->op = op >= 0xd2;
		i->fn = h_shift;
		break;
	case 0xc2: case 0xc3:
		if (op == 0xc2 && !get(&s, 2, &i->imm))
			return false;
		i->size = (uint8_t)osz;
		i->fn = osz == 4 ? h_ret32 : h_ret;
		i->end = true;
		break;
	case 0xc6: case 0xc7:
		i->size = (uint8_t)((op & 1) ? osz : 1);
		if (!modrm(&s, a32, seg, i) || i->reg != 0 || !get(&s, i->size, &i->imm))
			return false;
		i->fn = h_mov_rm_i;
		break;
	case 0xe8: case 0xe9:
		if (!get(&s, osz, &i->imm))
			return false;
		i->size = (uint8_t)osz;
		i->fn = op == 0xe8 ? (osz == 4 ? h_call32 : h_call) : h_jmp;
		i->end = true;
		break;
	case 0xeb:
		if (!get_s8(&s, &i->imm))
			return false;
		i->fn = h_jmp;
		i->end = true;
		break;
	case 0xfe: case 0xff:
		i->size = (uint8_t)(op == 0xff ? osz : 1);
		if (!modrm(&s, a32, seg, i))
			return false;
		if (i->reg <= 1) {
			i->op = i->reg;
			i->fn = h_incdec;
		} else if (op == 0xff && (i->reg == 2 || i->reg == 4)) {
			i->fn = i->reg == 2 ? h_call_rm : h_jmp_rm;
			i->end = true;
		} else if (op == 0xff && i->reg == 6) {
			i->fn = h_push_rm;
		} else {
			return false; /* FE /2-7 and FF /3,/5,/7: the slow path decides */
		}
		break;
	default:
		return false;
	}
done:
	i->len = (uint8_t)s.n;
	i->kind = kind_of(i->fn);
	return true;
}
