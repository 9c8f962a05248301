/* vmcore/cpu — segment registers: descriptor fetch, the checks of MOV/POP
 * Sreg, and limit/type checks for segments that are not flat.
 *
 * Flat segments (base anything, limit 4 GiB, expand-up, writable data) are
 * marked fast so ordinary accesses skip all checks; everything else comes
 * through seg_check_slow(). */
#include "vmcore/cpu/cpu_int.h"

uint32_t desc_base(uint32_t lo, uint32_t hi)
{
	return (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
}

uint32_t desc_limit(uint32_t lo, uint32_t hi)
{
	uint32_t l = (lo & 0xffff) | (hi & 0xf0000);
	return (hi & 0x800000) ? (l << 12) | 0xfff : l;
}

void seg_set_cache(struct cpu_segment *s, uint16_t sel, uint32_t lo, uint32_t hi)
{
	s->selector = sel;
	s->base = desc_base(lo, hi);
	s->limit = desc_limit(lo, hi);
	s->type = (hi >> 8) & 0xf;
	s->s = (hi >> 12) & 1;
	s->dpl = (hi >> 13) & 3;
	s->present = (hi >> 15) & 1;
	s->avl = (hi >> 20) & 1;
	s->db = (hi >> 22) & 1;
	s->g = (hi >> 23) & 1;
	s->unusable = 0;
}

int desc_load(struct cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
	uint32_t base, limit;
	if (sel & 4) {
		if (c->s.ldtr.unusable)
			return -1;
		base = c->s.ldtr.base;
		limit = c->s.ldtr.limit;
	} else {
		base = c->s.gdt.base;
		limit = c->s.gdt.limit;
	}
	if ((uint32_t)(sel & ~7u) + 7 > limit)
		return -1;
	*lo = sys_read(c, base + (sel & ~7u), 4);
	*hi = sys_read(c, base + (sel & ~7u) + 4, 4);
	return 0;
}

void desc_set_accessed(struct cpu *c, uint16_t sel, uint32_t hi)
{
	if (hi & 0x100)
		return;
	uint32_t base = (sel & 4) ? c->s.ldtr.base : c->s.gdt.base;
	sys_write(c, base + (sel & ~7u) + 4, 4, hi | 0x100);
}

void seg_refresh_fast(struct cpu *c, int seg)
{
	const struct cpu_segment *s = &c->s.seg[seg];
	bool data_rw = s->s && !(s->type & 8) && (s->type & 2) && !(s->type & 4);
	c->seg_fast[seg] = seg != CPU_SEG_CS && s->limit == 0xffffffffu &&
			   (!c->pmode || (!s->unusable && data_rw));
	if (seg == CPU_SEG_CS) {
		c->code32 = s->db;
		c->fetch_lin = TLB_INVALID;
	} else if (seg == CPU_SEG_SS) {
		c->stack32 = s->db;
	}
}

void seg_load_real(struct cpu *c, int seg, uint16_t sel)
{
	struct cpu_segment *s = &c->s.seg[seg];
	s->selector = sel;
	s->base = (uint32_t)sel << 4;
	s->unusable = 0;
	s->present = 1;
	s->s = 1;
	if (seg != CPU_SEG_CS)
		s->type |= 2;   /* real mode: data segments are writable */
	seg_refresh_fast(c, seg);
}

void seg_load(struct cpu *c, int seg, uint16_t sel)
{
	if (!c->pmode || (c->s.eflags & F_VM)) {
		seg_load_real(c, seg, sel);
		return;
	}
	uint32_t lo, hi;
	uint16_t err = sel & 0xfffc;
	struct cpu_segment *s = &c->s.seg[seg];
	if ((sel & ~3u) == 0) {
		if (seg == CPU_SEG_SS)
			cpu_raise(c, EXC_GP, 0);
		s->selector = sel;
		s->unusable = 1;
		s->present = 0;
		seg_refresh_fast(c, seg);
		return;
	}
	if (desc_load(c, sel, &lo, &hi) < 0)
		cpu_raise(c, EXC_GP, err);
	unsigned type = (hi >> 8) & 0xf, dpl = (hi >> 13) & 3, rpl = sel & 3;
	bool is_seg = hi & 0x1000, code = type & 8;
	if (seg == CPU_SEG_SS) {
		if (rpl != c->cpl || !is_seg || code || !(type & 2) || dpl != c->cpl)
			cpu_raise(c, EXC_GP, err);
		if (!(hi & 0x8000))
			cpu_raise(c, EXC_SS, err);
	} else {
		if (!is_seg || (code && !(type & 2)))
			cpu_raise(c, EXC_GP, err);
		bool conforming = code && (type & 4);
		if (!conforming && (rpl > dpl || c->cpl > dpl))
			cpu_raise(c, EXC_GP, err);
		if (!(hi & 0x8000))
			cpu_raise(c, EXC_NP, err);
	}
	desc_set_accessed(c, sel, hi);
	seg_set_cache(s, sel, lo, hi | 0x100);
	seg_refresh_fast(c, seg);
}

/* After a return to an outer level: data segments more privileged than the
 * new CPL become null. */
void seg_validate_for_cpl(struct cpu *c, int seg)
{
	struct cpu_segment *s = &c->s.seg[seg];
	if (s->unusable)
		return;
	bool conforming_code = (s->type & 8) && (s->type & 4);
	if (!conforming_code && s->dpl < c->cpl) {
		s->selector = 0;
		s->unusable = 1;
		s->present = 0;
		seg_refresh_fast(c, seg);
	}
}

uint32_t seg_check_slow(struct cpu *c, int seg, uint32_t off, unsigned size, bool write)
{
	const struct cpu_segment *s = &c->s.seg[seg];
	int vec = seg == CPU_SEG_SS ? EXC_SS : EXC_GP;
	if (c->pmode) {
		if (s->unusable)
			cpu_raise(c, vec, 0);
		if (write && ((s->type & 8) || !(s->type & 2)))
			cpu_raise(c, vec, 0);
		if (!write && (s->type & 8) && !(s->type & 2))
			cpu_raise(c, vec, 0);
	}
	uint64_t last = (uint64_t)off + size - 1;
	if (!(s->type & 8) && (s->type & 4)) {   /* expand-down */
		uint64_t upper = s->db ? 0xffffffffu : 0xffffu;
		if (off <= s->limit || last > upper)
			cpu_raise(c, vec, 0);
	} else if (last > s->limit) {
		cpu_raise(c, vec, 0);
	}
	return s->base + off;
}
