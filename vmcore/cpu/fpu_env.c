/* vmcore/cpu — x87 environment: FNINIT, the full tag word, and the four
 * memory formats of FLDENV/FNSTENV/FRSTOR/FNSAVE (16- or 32-bit operand
 * size, real or protected mode; SDM vol. 1 figures 8-9 to 8-12).
 *
 * cpu_state.fpu keeps the abridged tag (FXSAVE); the 2-bit tags stored
 * here are derived from the register contents, as hardware does. */
#include "vmcore/cpu/fpu_int.h"

void fpu_init(struct cpu *c)
{
	struct cpu_fxsave *f = &c->s.fpu;
	f->fcw = 0x37f;
	f->fsw = 0;
	f->ftw = 0;
	f->fop = 0;
	f->fip = f->fdp = 0;
	f->fcs = f->fds = 0;
}

void fpu_update_es(struct cpu *c)
{
	struct cpu_fxsave *f = &c->s.fpu;
	if (f->fsw & ~f->fcw & FSW_EXC)
		f->fsw |= FSW_ES | FSW_B;
	else
		f->fsw &= (uint16_t)~(FSW_ES | FSW_B);
}

/* 00 valid, 01 zero, 10 special (NaN, infinity, denormal, unsupported). */
static unsigned tag_of(const uint8_t *reg)
{
	struct f80 v = f80_from_bytes(reg);
	unsigned e = v.se & 0x7fff;
	if (e == 0x7fff)
		return 2;
	if (e == 0)
		return v.m == 0 ? 1 : 2;
	return (v.m >> 63) ? 0 : 2;
}

uint16_t fpu_tag_word(const struct cpu *c)
{
	uint16_t tw = 0;
	for (unsigned p = 0; p < 8; p++) {
		unsigned t = (c->s.fpu.ftw & (1u << p)) ? tag_of(c->s.fpu.st[p]) : 3;
		tw |= (uint16_t)(t << (2 * p));
	}
	return tw;
}

static uint8_t abridged(uint16_t tw)
{
	uint8_t a = 0;
	for (unsigned p = 0; p < 8; p++)
		if (((tw >> (2 * p)) & 3) != 3)
			a |= (uint8_t)(1u << p);
	return a;
}

/* Offset of memory operand byte @i; 16-bit addressing wraps at 64 KiB. */
static uint32_t at(const struct dec *d, uint32_t i)
{
	return d->a32 ? d->ea + i : (d->ea + i) & 0xffff;
}

static uint32_t rd(struct cpu *c, const struct dec *d, uint32_t i, unsigned size)
{
	return mem_read(c, d->easeg, at(d, i), size);
}

static void wr(struct cpu *c, const struct dec *d, uint32_t i, unsigned size, uint32_t v)
{
	mem_write(c, d->easeg, at(d, i), size, v);
}

/* Reads the environment into @e (fields of the FXSAVE image); returns its size. */
static unsigned env_read(struct cpu *c, const struct dec *d, struct cpu_fxsave *e, uint16_t *tw)
{
	if (d->o32) {
		e->fcw = (uint16_t)rd(c, d, 0, 2);
		e->fsw = (uint16_t)rd(c, d, 4, 2);
		*tw = (uint16_t)rd(c, d, 8, 2);
		if (c->pmode) {
			e->fip = rd(c, d, 12, 4);
			uint32_t x = rd(c, d, 16, 4);
			e->fcs = (uint16_t)x;
			e->fop = (uint16_t)((x >> 16) & 0x7ff);
			e->fdp = rd(c, d, 20, 4);
			e->fds = (uint16_t)rd(c, d, 24, 2);
		} else {
			uint32_t x = rd(c, d, 16, 4);
			e->fip = (rd(c, d, 12, 2)) | ((x >> 12) & 0xffff) << 16;
			e->fop = (uint16_t)(x & 0x7ff);
			e->fdp = rd(c, d, 20, 2) | ((rd(c, d, 24, 4) >> 12) & 0xffff) << 16;
			e->fcs = e->fds = 0;
		}
		return 28;
	}
	e->fcw = (uint16_t)rd(c, d, 0, 2);
	e->fsw = (uint16_t)rd(c, d, 2, 2);
	*tw = (uint16_t)rd(c, d, 4, 2);
	if (c->pmode) {
		e->fip = rd(c, d, 6, 2);
		e->fcs = (uint16_t)rd(c, d, 8, 2);
		e->fdp = rd(c, d, 10, 2);
		e->fds = (uint16_t)rd(c, d, 12, 2);
		e->fop = 0;
	} else {
		uint32_t x = rd(c, d, 8, 2);
		e->fip = rd(c, d, 6, 2) | ((x >> 12) & 0xf) << 16;
		e->fop = (uint16_t)(x & 0x7ff);
		e->fdp = rd(c, d, 10, 2) | ((rd(c, d, 12, 2) >> 12) & 0xf) << 16;
		e->fcs = e->fds = 0;
	}
	return 14;
}

void fpu_ldenv(struct cpu *c, const struct dec *d, bool regs)
{
	struct cpu_fxsave e = c->s.fpu;
	uint16_t tw;
	unsigned off = env_read(c, d, &e, &tw);
	if (regs) {
		/* all reads first: a fault leaves the FPU untouched */
		unsigned top = (e.fsw >> 11) & 7;
		for (unsigned i = 0; i < 8; i++) {
			uint8_t b[10];
			for (unsigned k = 0; k < 10; k += 2) {
				uint16_t w = (uint16_t)rd(c, d, off + i * 10 + k, 2);
				memcpy(b + k, &w, 2);
			}
			uint8_t *reg = e.st[(top + i) & 7];
			memset(reg, 0, 16);
			memcpy(reg, b, 10);
		}
	}
	e.fcw = (uint16_t)((e.fcw & 0x1f3f) | 0x40);
	e.ftw = abridged(tw);
	c->s.fpu = e;
	fpu_update_es(c);
}

/* Real-mode formats store 20-bit linear instruction and data pointers. */
static uint32_t real_lin(uint16_t sel, uint32_t off)
{
	return ((uint32_t)sel << 4) + (off & 0xffff);
}

void fpu_stenv(struct cpu *c, const struct dec *d, bool regs)
{
	const struct cpu_fxsave *f = &c->s.fpu;
	uint16_t tw = fpu_tag_word(c);
	unsigned off;
	if (d->o32) {
		wr(c, d, 0, 4, 0xffff0000u | f->fcw);
		wr(c, d, 4, 4, 0xffff0000u | f->fsw);
		wr(c, d, 8, 4, 0xffff0000u | tw);
		if (c->pmode) {
			wr(c, d, 12, 4, f->fip);
			wr(c, d, 16, 4, f->fcs | (uint32_t)(f->fop & 0x7ff) << 16);
			wr(c, d, 20, 4, f->fdp);
			wr(c, d, 24, 4, 0xffff0000u | f->fds);
		} else {
			uint32_t ip = real_lin(f->fcs, f->fip), dp = real_lin(f->fds, f->fdp);
			wr(c, d, 12, 4, 0xffff0000u | (ip & 0xffff));
			wr(c, d, 16, 4, (ip >> 16) << 12 | (f->fop & 0x7ffu));
			wr(c, d, 20, 4, 0xffff0000u | (dp & 0xffff));
			wr(c, d, 24, 4, (dp >> 16) << 12);
		}
		off = 28;
	} else {
		wr(c, d, 0, 2, f->fcw);
		wr(c, d, 2, 2, f->fsw);
		wr(c, d, 4, 2, tw);
		if (c->pmode) {
			wr(c, d, 6, 2, f->fip);
			wr(c, d, 8, 2, f->fcs);
			wr(c, d, 10, 2, f->fdp);
			wr(c, d, 12, 2, f->fds);
		} else {
			uint32_t ip = real_lin(f->fcs, f->fip), dp = real_lin(f->fds, f->fdp);
			wr(c, d, 6, 2, ip & 0xffff);
			wr(c, d, 8, 2, (ip >> 16) << 12 | (f->fop & 0x7ffu));
			wr(c, d, 10, 2, dp & 0xffff);
			wr(c, d, 12, 2, (dp >> 16) << 12);
		}
		off = 14;
	}
	if (regs) {
		for (unsigned i = 0; i < 8; i++) {
			const uint8_t *reg = f->st[fpu_phys(c, i)];
			for (unsigned k = 0; k < 10; k += 2) {
				uint16_t w;
				memcpy(&w, reg + k, 2);
				wr(c, d, off + i * 10 + k, 2, w);
			}
		}
		fpu_init(c);   /* FNSAVE reinitialises */
	} else {
		c->s.fpu.fcw |= 0x3f;   /* FNSTENV masks all exceptions */
	}
}
