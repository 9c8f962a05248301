/* tests/cpu — x87 differential test: our interpreter (which runs each x87
 * operation on the host's x87) against unicorn (QEMU's softfloat x87).
 *
 *   cpu_difftest_x87 [--seed N] [--count N] [--max-report N]
 *
 * Each case runs, in 32-bit flat protected mode on both sides:
 *   fninit; fldcw [cw]; k x fld tword [v_i]; 1-4 random x87 instructions;
 *   fnsave [save]; hlt
 * with a random rounding control, precision control 64 or 53 bits, all
 * exceptions masked, random normal operands (some small integers, some
 * zeros). It then compares the FNSAVE image (FCW, FSW, tag word, the eight
 * registers bit for bit), EFLAGS (FCOMI) and the memory operands the
 * instructions stored.
 *
 * Not compared (QEMU differs from hardware there, or approximates):
 * - the FSW exception flags PE, UE, DE and C1 (softfloat does not report
 *   "rounded up" in C1 and raises PE/UE/DE differently); IE, ZE, OE, SF,
 *   C0, C2, C3 and TOP are compared;
 * - FIP/FCS/FOP/FDP/FDS in the image (QEMU does not track them);
 * - constants (FLD1..FLDZ) under a rounding control other than nearest:
 *   QEMU returns the nearest value, hardware since the 387 rounds per RC;
 * - transcendentals (FSIN, FCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1,
 *   FSCALE, FPREM/FPREM1): QEMU computes them through host doubles, not
 *   to 64-bit precision;
 * - IE of FIST/FISTP out of range and of FBSTP (QEMU stores the integer
 *   indefinite but raises no IE; the stored value is compared);
 * - OF, SF and AF after FCOMI/FUCOMI (QEMU leaves them, the SDM clears
 *   them); ZF, PF and CF are compared;
 * - FST/FSTP ST(i) into an empty register: QEMU does not tag it valid
 *   (such cases are counted as excluded);
 * - C0, C2 and C3 unless the last instruction is a compare, FTST or FXAM
 *   (the SDM leaves them undefined after the others; QEMU clears them);
 * - 0/0: QEMU raises ZE where hardware raises IE (either is accepted when
 *   both sides raised one of them);
 * - FSQRT of a negative number: QEMU sets C2 and raises no IE (cases
 *   with an FSQRT where ours raised IE are excluded);
 * - FXTRACT is not generated: QEMU differs on zero (no ZE), infinities
 *   and NaNs;
 * - FBSTP out of range (ours raises IE and stores the BCD indefinite;
 *   QEMU stores a truncated value): the stored bytes are then not compared;
 *   and the sign of a BCD zero (a negative value rounded to 0 keeps its
 *   sign on hardware, QEMU stores +0);
 * - stack overflow/underflow: QEMU does not implement them (cases where
 *   ours reports a stack fault are counted as excluded);
 * - NaN, infinity, denormal and unsupported operands are not generated. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unicorn/unicorn.h>

#include "tests/cpu/difftest.h"
#include "vmcore/cpu/cpu_int.h"

#define MEM_SIZE 0x10000u
#define CODE 0x1000u
#define CW_AT 0x4000u
#define VALS 0x4100u    /* 8 x 16 bytes of fld tword operands */
#define MEMOP 0x4200u   /* the memory operands of the instructions (16 bytes each) */
#define SAVE 0x4300u    /* FNSAVE image (108 bytes) */
#define NVAL 8

static void put_f80(uint8_t *p, uint64_t *rng)
{
	uint64_t r = rng_next(rng);
	uint64_t m;
	uint16_t se;
	switch (r % 8) {
	case 0: m = 0; se = (uint16_t)(r & 0x8000); break;                     /* +-0 */
	case 1: case 2: {                                                       /* small integer */
		int v = (int)(rng_next(rng) % 200) - 100;
		if (v == 0) v = 1;
		unsigned a = (unsigned)(v < 0 ? -v : v), sh = (unsigned)__builtin_clz(a);
		m = (uint64_t)a << (32 + sh);
		se = (uint16_t)((0x3fff + 31 - sh) | (v < 0 ? 0x8000 : 0));
		break;
	}
	default:
		m = rng_next(rng) | 0x8000000000000000ull;
		se = (uint16_t)((0x3fff - 40 + (r >> 8) % 100) | (r & 0x8000));
		break;
	}
	memcpy(p, &m, 8);
	memcpy(p + 8, &se, 2);
}

/* Random finite memory operand bytes for format @f (0 m32fp, 1 m64fp,
 * 2 m16int, 3 m32int, 4 m64int, 5 m80fp, 6 BCD). */
static void put_memop(uint8_t *p, int f, uint64_t *rng)
{
	uint64_t r = rng_next(rng);
	memset(p, 0, 16);
	switch (f) {
	case 0: { uint32_t v = (uint32_t)(r & 0x807fffffu) | (uint32_t)(100 + (r >> 32) % 60) << 23; memcpy(p, &v, 4); break; }
	case 1: { uint64_t v = (r & 0x800fffffffffffffull) | (uint64_t)(1000 + (r >> 52) % 50) << 52; memcpy(p, &v, 8); break; }
	case 2: case 3: case 4: { int64_t v = (int64_t)(r % 20001) - 10000; memcpy(p, &v, f == 2 ? 2 : f == 3 ? 4 : 8); break; }
	case 5: put_f80(p, rng); break;
	default:
		for (int i = 0; i < 9; i++)
			p[i] = (uint8_t)((r >> (i * 3)) % 10 | ((rng_next(rng) % 10) << 4));
		p[9] = (uint8_t)(r & 0x80);
		break;
	}
}

/* Appends one random x87 instruction (its memory operand at @memop);
 * returns the memory format or -1. @rc_near: constants allowed (QEMU
 * ignores the rounding control for FLDPI and friends; the 387 and later
 * round them per RC, as ours does). */
enum { HAS_FIST = 1, HAS_FST_REG = 2, HAS_DIV = 4, HAS_SQRT = 8, HAS_FBSTP = 32,
       LAST_CC = 64 /* the last instruction sets C0-C3 (a compare, FTST, FXAM) */ };

static int gen_x87(uint8_t *c, unsigned *n, uint64_t *rng, uint32_t memop, bool rc_near, unsigned *has)
{
	static const uint8_t d9_ops[] = { 0xe0, 0xe1, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed,
					  0xee, 0xfa, 0xfc, 0xf6, 0xf7, 0xd0 };
	/* memory forms: opcode, reg, format */
	static const uint8_t mem_forms[][3] = {
		{ 0xd8, 0, 0 }, { 0xd8, 1, 0 }, { 0xd8, 2, 0 }, { 0xd8, 3, 0 }, { 0xd8, 4, 0 }, { 0xd8, 5, 0 },
		{ 0xd8, 6, 0 }, { 0xd8, 7, 0 }, { 0xdc, 0, 1 }, { 0xdc, 4, 1 }, { 0xdc, 5, 1 }, { 0xdc, 6, 1 },
		{ 0xdc, 7, 1 }, { 0xdc, 2, 1 }, { 0xda, 0, 3 }, { 0xda, 1, 3 }, { 0xda, 3, 3 }, { 0xda, 5, 3 },
		{ 0xde, 0, 2 }, { 0xde, 6, 2 }, { 0xde, 2, 2 }, { 0xd9, 0, 0 }, { 0xd9, 2, 0 }, { 0xd9, 3, 0 },
		{ 0xdd, 0, 1 }, { 0xdd, 2, 1 }, { 0xdd, 3, 1 }, { 0xdb, 0, 3 }, { 0xdb, 2, 3 }, { 0xdb, 3, 3 },
		{ 0xdb, 5, 5 }, { 0xdb, 7, 5 }, { 0xdf, 0, 2 }, { 0xdf, 2, 2 }, { 0xdf, 3, 2 }, { 0xdf, 5, 4 },
		{ 0xdf, 7, 4 }, { 0xdf, 4, 6 }, { 0xdf, 6, 6 },
	};
	uint64_t r = rng_next(rng);
	unsigned i = (unsigned)(r >> 8) & 7;
	*has &= ~(unsigned)LAST_CC;
	switch (r % 10) {
	case 0: case 1: /* D8/DC/DE register arithmetic and compares */
		c[(*n)++] = (uint8_t)(0xd8 + 4 * (unsigned)((r >> 16) % 2));
		c[(*n)++] = (uint8_t)(0xc0 | ((r >> 24) & 0x3f));
		if (((c[*n - 1] >> 3) & 7) >= 6) *has |= HAS_DIV;
		if (((c[*n - 1] >> 3) & 6) == 2) *has |= LAST_CC;
		return -1;
	case 2:
		c[(*n)++] = 0xde;
		c[(*n)++] = (r >> 16) % 5 == 0 ? 0xd9 : (uint8_t)(0xc0 | ((r >> 24) & 0x0f) | (((r >> 30) & 3) + 4) << 3);
		if (c[*n - 1] == 0xd9) *has |= LAST_CC;
		else if (c[*n - 1] >= 0xf0) *has |= HAS_DIV;
		return -1;
	case 3: /* FLD ST(i), FXCH, FST/FSTP ST(i), FFREE, FUCOM(P)(P) */
		switch ((r >> 16) % 6) {
		case 0: c[(*n)++] = 0xd9; c[(*n)++] = (uint8_t)(0xc0 | i); break;
		case 1: c[(*n)++] = 0xd9; c[(*n)++] = (uint8_t)(0xc8 | i); break;
		case 2: c[(*n)++] = 0xdd; c[(*n)++] = (uint8_t)(0xd0 | i | ((r >> 20) & 8)); *has |= HAS_FST_REG; break;
		case 3: c[(*n)++] = 0xdd; c[(*n)++] = (uint8_t)(0xc0 | i); break;
		case 4: c[(*n)++] = 0xdd; c[(*n)++] = (uint8_t)(0xe0 | i | ((r >> 20) & 8)); *has |= LAST_CC; break;
		default: c[(*n)++] = 0xda; c[(*n)++] = 0xe9; *has |= LAST_CC; break;
		}
		return -1;
	case 4: /* one-operand, constants, FDECSTP/FINCSTP, FNOP */
		c[(*n)++] = 0xd9;
		do
			c[*n] = d9_ops[rng_next(rng) % sizeof(d9_ops)];
		while (!rc_near && c[*n] >= 0xe8 && c[*n] <= 0xee);
		if (c[*n] == 0xe4 || c[*n] == 0xe5) *has |= LAST_CC;
		if (c[*n] == 0xfa) *has |= HAS_SQRT;
		(*n)++;
		return -1;
	case 5: /* FCOMI/FUCOMI(P), FCMOVcc */
		switch ((r >> 16) % 3) {
		case 0: c[(*n)++] = (uint8_t)(0xdb + 4 * ((r >> 20) & 1)); c[(*n)++] = (uint8_t)(0xe8 + 8 * ((r >> 21) & 1) + i); break;
		default: c[(*n)++] = (uint8_t)(0xda + ((r >> 20) & 1)); c[(*n)++] = (uint8_t)(0xc0 | ((r >> 24) & 0x1f)); break;
		}
		return -1;
	default: { /* memory forms, operand at [MEMOP] */
		const uint8_t *f = mem_forms[(r >> 16) % (sizeof(mem_forms) / sizeof(mem_forms[0]))];
		c[(*n)++] = f[0];
		c[(*n)++] = (uint8_t)(0x05 | f[1] << 3);
		memcpy(c + *n, &memop, 4);
		*n += 4;
		if ((f[0] == 0xdb || f[0] == 0xdf) && (f[1] == 2 || f[1] == 3 || (f[0] == 0xdf && f[1] == 7)))
			*has |= HAS_FIST;
		if (f[0] == 0xdf && f[1] == 6) *has |= HAS_FBSTP;
		if ((f[0] & 0xf9) == 0xd8 && f[1] >= 6) *has |= HAS_DIV;
		if ((f[0] & 0xf9) == 0xd8 && (f[1] == 2 || f[1] == 3)) *has |= LAST_CC;
		return f[2];
	}
	}
}

/* First valid register that differs in two FNSAVE images (same tag word),
 * or -1. Empty registers keep stale contents, which are not compared. */
static int regs_differ(const uint8_t *a, const uint8_t *b)
{
	uint16_t tw;
	memcpy(&tw, a + 8, 2);
	unsigned top = (a[5] >> 3) & 7;
	for (unsigned i = 0; i < 8; i++) {
		if (((tw >> (2 * ((top + i) & 7))) & 3) == 3)
			continue;
		if (memcmp(a + 28 + 10 * i, b + 28 + 10 * i, 10))
			return (int)i;
	}
	return -1;
}

/* Do the memory operands differ only in the sign of a BCD zero? (FBSTP
 * of a negative value that rounds to 0: hardware keeps the sign, QEMU
 * stores +0.) */
static bool only_bcd_zero_sign(const uint8_t *a, const uint8_t *b)
{
	for (unsigned q = 0; q < 4; q++) {
		const uint8_t *x = a + 16 * q, *y = b + 16 * q;
		if (!memcmp(x, y, 16))
			continue;
		static const uint8_t zero[9];
		if (memcmp(x, zero, 9) || memcmp(y, zero, 9) || (x[9] ^ y[9]) != 0x80 || memcmp(x + 10, y + 10, 6))
			return false;
	}
	return true;
}

/* The FSW bits compared for a case (see the exclusions at the top). */
static uint16_t sw_compared(unsigned has, uint16_t osw, uint16_t usw)
{
	uint16_t m = 0x7fff & ~(0x0020 | 0x0010 | 0x0002 | 0x0200 | 0x0080);
	if (!(has & LAST_CC))
		m &= ~(0x0100 | 0x0400 | 0x4000);
	if (has & (HAS_FIST | HAS_FBSTP))
		m &= ~0x0001;
	if ((has & HAS_DIV) && (osw & 0x0005) && (usw & 0x0005))
		m &= ~0x0005;   /* 0/0: QEMU raises ZE, hardware IE */
	if (has & HAS_SQRT)
		m &= ~(0x0001 | 0x0400);
	return m;
}

struct sides {
	uc_engine *uc;
	struct cpu *cpu;
	uint8_t *ram, *ucram;
};

static int setup(struct sides *s)
{
	if (uc_open(UC_ARCH_X86, UC_MODE_32, &s->uc) != UC_ERR_OK)
		return -1;
	s->ram = aligned_alloc(4096, MEM_SIZE);
	s->ucram = aligned_alloc(4096, MEM_SIZE);
	if (!s->ram || !s->ucram || uc_mem_map_ptr(s->uc, 0, MEM_SIZE, UC_PROT_ALL, s->ucram) != UC_ERR_OK)
		return -1;
	static const struct cpu_bus bus;
	struct cpu_config cfg = { .bus = &bus };
	if (cpu_interp_ops.create(&cfg, &s->cpu, NULL) < 0 || cpu_interp_ops.add_ram(s->cpu, 0, MEM_SIZE, s->ram) < 0)
		return -1;
	cpu_interp_trap_exceptions(s->cpu, true);
	return 0;
}

static void run_ours(struct sides *s, uint32_t eflags)
{
	struct cpu_state st;
	cpu_interp_ops.get_state(s->cpu, &st);
	for (int g = 0; g < CPU_SEG_COUNT; g++)
		st.seg[g] = (struct cpu_segment){ .limit = 0xffffffffu, .type = g == CPU_SEG_CS ? 0xb : 0x3,
						  .present = 1, .s = 1, .db = 1, .g = 1 };
	st.cr0 = 0x11 | CR0_NE;
	st.eip = CODE;
	st.eflags = eflags;
	st.halted = 0;
	st.gpr[CPU_ESP] = 0x8000;
	cpu_interp_ops.set_state(s->cpu, &st);
	cpu_interp_ops.invalidate_code(s->cpu, CODE, 0x100);
	struct havm_err err;
	cpu_interp_ops.run(s->cpu, 100, &err);
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, count = 20000;
	unsigned max_report = 10;
	for (int a = 1; a + 1 < argc; a += 2) {
		if (!strcmp(argv[a], "--seed")) seed = strtoull(argv[a + 1], NULL, 0);
		else if (!strcmp(argv[a], "--count")) count = strtoull(argv[a + 1], NULL, 0);
		else if (!strcmp(argv[a], "--max-report")) max_report = (unsigned)strtoul(argv[a + 1], NULL, 0);
		else {
			fprintf(stderr, "usage: %s [--seed N] [--count N] [--max-report N]\n", argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sides s;
	if (setup(&s) < 0) {
		printf("not ok 1 - x87: cannot set up unicorn or the interpreter\n1..1\n");
		return 1;
	}
	uint64_t rng = seed ^ 0x87, compared = 0, mismatches = 0, excluded = 0;
	for (uint64_t k = 0; k < count; k++) {
		memset(s.ram, 0, MEM_SIZE);
		uint8_t *c = s.ram + CODE;
		unsigned n = 0;
		uint64_t r = rng_next(&rng);
		uint16_t cw = (uint16_t)(0x027f | ((r & 3) << 10) | ((r >> 2) & 1 ? 0x100 : 0));
		memcpy(s.ram + CW_AT, &cw, 2);
		c[n++] = 0xdb; c[n++] = 0xe3;                          /* fninit */
		c[n++] = 0xd9; c[n++] = 0x2d;                          /* fldcw [CW_AT] */
		uint32_t a = CW_AT;
		memcpy(c + n, &a, 4); n += 4;
		unsigned nv = (unsigned)((r >> 4) % (NVAL + 1));
		for (unsigned v = 0; v < nv; v++) {
			put_f80(s.ram + VALS + 16 * v, &rng);
			c[n++] = 0xdb; c[n++] = 0x2d;                  /* fld tword [VALS + 16v] */
			a = VALS + 16 * v;
			memcpy(c + n, &a, 4); n += 4;
		}
		unsigned has = 0, body = n, ni = 1 + (unsigned)((r >> 8) % 4);
		for (unsigned q = 0; q < ni; q++) {
			int f = gen_x87(c, &n, &rng, MEMOP + 16 * q, (cw & 0x0c00) == 0, &has);
			if (f >= 0)
				put_memop(s.ram + MEMOP + 16 * q, f, &rng);
		}
		unsigned body_end = n;
		c[n++] = 0xdd; c[n++] = 0x35;                          /* fnsave [SAVE] */
		a = SAVE;
		memcpy(c + n, &a, 4); n += 4;
		c[n++] = 0xf4;
		memcpy(s.ucram, s.ram, MEM_SIZE);
		uint32_t eflags = 0x2 | ((uint32_t)(r >> 16) & F_ARITH);

		run_ours(&s, eflags);
		struct cpu_state st;
		cpu_interp_ops.get_state(s.cpu, &st);
		uc_ctl_remove_cache(s.uc, CODE, CODE + 0x100);
		uint32_t esp = 0x8000, ufl = eflags;
		uc_reg_write(s.uc, UC_X86_REG_ESP, &esp);
		uc_reg_write(s.uc, UC_X86_REG_EFLAGS, &ufl);
		uc_err ue = uc_emu_start(s.uc, CODE, CODE + n - 1, 0, 0);
		uc_reg_read(s.uc, UC_X86_REG_EFLAGS, &ufl);
		/* (FNSAVE reinitialised the FPU: look at the saved FSW.) An FST
		 * ST(i) into an empty register leaves it tagged empty in QEMU
		 * (hardware tags it valid): such cases are excluded too. QEMU implements no stack faults (an empty register reads as its
		 * stale contents, a push over a full stack just overwrites): a case
		 * where ours reports one is excluded */
		if ((s.ram[SAVE + 4] & 0x40) || ((has & HAS_FST_REG) && memcmp(s.ram + SAVE + 8, s.ucram + SAVE + 8, 2)) ||
		    ((has & HAS_SQRT) && (s.ram[SAVE + 4] & 0x01))) {
			excluded++;
			continue;
		}
		compared++;

		char why[128] = "";
		const uint8_t *ou = s.ram + SAVE, *uu = s.ucram + SAVE;
		uint16_t osw, usw;
		memcpy(&osw, ou + 4, 2);
		memcpy(&usw, uu + 4, 2);
		if (ue != UC_ERR_OK || cpu_interp_last_exception(s.cpu, NULL) >= 0)
			snprintf(why, sizeof(why), "exception: unicorn err %d, ours %d", ue,
				 cpu_interp_last_exception(s.cpu, NULL));
		else if (memcmp(ou, uu, 2))
			snprintf(why, sizeof(why), "fcw");
		else if ((osw ^ usw) & sw_compared(has, osw, usw))
			snprintf(why, sizeof(why), "fsw: unicorn %04x, ours %04x", usw, osw);
		else if (memcmp(ou + 8, uu + 8, 2) && !(has & HAS_FST_REG))
			snprintf(why, sizeof(why), "tag word");
		else if (regs_differ(ou, uu) >= 0)
			snprintf(why, sizeof(why), "register ST%d", regs_differ(ou, uu));
		else if (memcmp(s.ram + MEMOP, s.ucram + MEMOP, 64) && !((has & HAS_FBSTP) && (osw & 1)) &&
			 !((has & HAS_FBSTP) && only_bcd_zero_sign(s.ram + MEMOP, s.ucram + MEMOP)))
			snprintf(why, sizeof(why), "stored memory operand");
		else if ((st.eflags ^ ufl) & (F_ZF | F_PF | F_CF))
			snprintf(why, sizeof(why), "eflags: unicorn %08x, ours %08x", ufl, st.eflags);
		if (why[0]) {
			if (++mismatches <= max_report) {
				printf("# MISMATCH x87 seed=%" PRIu64 " case=%" PRIu64 ": %s\n#   insns:", seed, k, why);
				for (unsigned b = body; b < body_end; b++)
					printf(" %02x", c[b]);
				if (!strcmp(why, "stored memory operand")) {
					printf("\n#   memory unicorn / ours:");
					for (unsigned b = 0; b < 64; b++)
						if (s.ucram[MEMOP + b] != s.ram[MEMOP + b])
							printf(" +%u:%02x/%02x", b, s.ucram[MEMOP + b], s.ram[MEMOP + b]);
				}
				printf("\n#   cw %04x, %u values; tags unicorn %02x%02x ours %02x%02x; regs (ST0..7) unicorn / ours:\n",
				       cw, nv, uu[9], uu[8], ou[9], ou[8]);
				for (unsigned q = 0; q < 8; q++) {
					printf("#   ");
					for (int b = 9; b >= 0; b--) printf("%02x", uu[28 + 10 * q + b]);
					printf(" / ");
					for (int b = 9; b >= 0; b--) printf("%02x", ou[28 + 10 * q + b]);
					printf("\n");
				}
			}
		}
	}
	bool good = mismatches == 0 && compared >= count / 4;
	printf("%s 1 - x87: %" PRIu64 " cases compared (%" PRIu64 " excluded: stack fault, QEMU's FST ST(i) tag or FSQRT), %" PRIu64
	       " mismatches, seed %" PRIu64 "\n1..1\n", good ? "ok" : "not ok", compared, excluded, mismatches, seed);
	cpu_interp_ops.free(s.cpu);
	uc_close(s.uc);
	free(s.ram);
	free(s.ucram);
	return good ? 0 : 1;
}
