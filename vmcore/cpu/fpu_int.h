/* vmcore/cpu — private interface of the x87 FPU files (fpu.c dispatch and
 * arithmetic, fpu_env.c environment/save/restore, fpu_host.c host x87).
 *
 * The register stack lives in cpu_state.fpu (FXSAVE layout): st[] holds
 * the eight physical registers as exact 80-bit bit patterns, TOP is in FSW
 * bits 11-13 and ftw is the abridged tag (1 = not empty). Values are never
 * converted to a C type: every operation runs on the host's own x87 with
 * the guest's control word (fpu_host.c), so results, rounding, precision
 * control and exception flags are those of real hardware. */
#ifndef HAVM_VMCORE_CPU_FPU_INT_H
#define HAVM_VMCORE_CPU_FPU_INT_H

#include "vmcore/cpu/cpu_int.h"

/* An 80-bit extended value as stored in memory: 64-bit significand, then
 * sign and 15-bit exponent (the layout FLD m80/FSTP m80 use). */
struct f80 {
	uint64_t m;
	uint16_t se;
};

/* FSW bits */
#define FSW_IE 0x0001u
#define FSW_DE 0x0002u
#define FSW_ZE 0x0004u
#define FSW_OE 0x0008u
#define FSW_UE 0x0010u
#define FSW_PE 0x0020u
#define FSW_SF 0x0040u
#define FSW_ES 0x0080u
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_C3 0x4000u
#define FSW_B  0x8000u
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)
#define FSW_EXC 0x003fu

/* The "real indefinite" QNaN of masked invalid operations. */
static const struct f80 F80_INDEFINITE = { 0xc000000000000000ull, 0xffff };

static inline unsigned fpu_top(const struct cpu *c)
{
	return (c->s.fpu.fsw >> 11) & 7;
}

static inline void fpu_set_top(struct cpu *c, unsigned top)
{
	c->s.fpu.fsw = (uint16_t)((c->s.fpu.fsw & ~0x3800u) | ((top & 7) << 11));
}

static inline unsigned fpu_phys(const struct cpu *c, unsigned i)
{
	return (fpu_top(c) + i) & 7;
}

static inline bool fpu_empty(const struct cpu *c, unsigned i)
{
	return !(c->s.fpu.ftw & (1u << fpu_phys(c, i)));
}

static inline struct f80 f80_from_bytes(const uint8_t *p)
{
	struct f80 v;
	memcpy(&v.m, p, 8);
	memcpy(&v.se, p + 8, 2);
	return v;
}

static inline void f80_to_bytes(uint8_t *p, struct f80 v)
{
	memcpy(p, &v.m, 8);
	memcpy(p + 8, &v.se, 2);
}

static inline struct f80 fpu_st(const struct cpu *c, unsigned i)
{
	return f80_from_bytes(c->s.fpu.st[fpu_phys(c, i)]);
}

/* Writes ST(i) and marks it valid. */
static inline void fpu_st_set(struct cpu *c, unsigned i, struct f80 v)
{
	unsigned p = fpu_phys(c, i);
	memset(c->s.fpu.st[p], 0, 16);
	f80_to_bytes(c->s.fpu.st[p], v);
	c->s.fpu.ftw |= (uint8_t)(1u << p);
}

static inline void fpu_pop(struct cpu *c)
{
	c->s.fpu.ftw &= (uint8_t)~(1u << fpu_phys(c, 0));
	fpu_set_top(c, fpu_top(c) + 1);
}

/* fpu_host.c: operations on the host x87 ----------------------------- */

enum fpu_hop {
	/* two operands, a = ST0-side operand, b = the other */
	HOP_ADD, HOP_MUL, HOP_COM, HOP_UCOM, HOP_SUB, HOP_SUBR, HOP_DIV, HOP_DIVR,
	HOP_PREM, HOP_PREM1, HOP_SCALE, HOP_YL2X, HOP_YL2XP1, HOP_PATAN,
	/* one operand (a) */
	HOP_SQRT, HOP_RNDINT, HOP_XTRACT, HOP_2XM1, HOP_PTAN, HOP_SIN, HOP_COS,
	HOP_SINCOS, HOP_TST, HOP_XAM,
	/* constants */
	HOP_LD1, HOP_LDL2T, HOP_LDL2E, HOP_LDPI, HOP_LDLG2, HOP_LDLN2, HOP_LDZ,
};

/* Memory formats of loads and stores. */
enum fpu_mfmt { MF_F32, MF_F64, MF_F80, MF_I16, MF_I32, MF_I64, MF_BCD };

/* Runs @op with the guest control word @cw (exceptions masked on the
 * host); r0 receives the new ST0, r1 the value below it (FXTRACT, FPTAN,
 * FSINCOS). Returns the host status word after the operation. */
uint16_t fpu_host_op(enum fpu_hop op, uint16_t cw, const struct f80 *a, const struct f80 *b,
		     struct f80 *r0, struct f80 *r1);
/* Converts @fmt bytes at @mem to extended precision. */
uint16_t fpu_host_load(enum fpu_mfmt fmt, uint16_t cw, const uint8_t *mem, struct f80 *r);
/* Converts @a to @fmt (rounded per @cw) into @mem (up to 10 bytes). */
uint16_t fpu_host_store(enum fpu_mfmt fmt, uint16_t cw, const struct f80 *a, uint8_t *mem);

/* fpu_env.c: control instructions -------------------------------------- */

void fpu_init(struct cpu *c);                                  /* FNINIT */
void fpu_ldenv(struct cpu *c, const struct dec *d, bool regs); /* FLDENV / FRSTOR */
void fpu_stenv(struct cpu *c, const struct dec *d, bool regs); /* FNSTENV / FNSAVE */
uint16_t fpu_tag_word(const struct cpu *c);                    /* full 2-bit tags */
void fpu_update_es(struct cpu *c);     /* ES/B from the flags the control word unmasks */

#endif
