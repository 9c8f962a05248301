/* vmcore/cpu — string instructions (MOVS CMPS STOS LODS SCAS INS OUTS) with
 * REP/REPE/REPNE and segment overrides.
 *
 * Every iteration commits ECX/ESI/EDI, so a fault in the middle restarts
 * the instruction with the remaining count. A long REP yields after a chunk
 * by rewinding EIP to the instruction, so interrupts are not held off.
 *
 * REP MOVS and REP STOS (forward, 32-bit addresses, flat segments) copy or
 * fill up to the next page boundary of either side in one memmove/memset
 * when the TLB already holds the pages (a write tag for the destination:
 * the page is dirty-logged and holds no decoded code); anything else
 * (first touch, a fault, code pages, MMIO, an overlap where element order
 * matters, an element straddling a page) goes element by element, so
 * faults, A/D bits and self-modifying code behave exactly as before. */
#include "vmcore/cpu/cpu_int.h"

#define REP_CHUNK 4096

/* Elements of a REP MOVS/STOS done in bulk inside one page (0: none,
 * take one element the slow way). At most @max. */
static uint32_t rep_bulk(struct cpu *c, unsigned kind, unsigned size, int sseg, uint32_t max)
{
	uint32_t *g = c->s.gpr;
	bool user = c->cpl == 3;
	uint32_t dlin = c->s.seg[CPU_SEG_ES].base + g[CPU_EDI];
	uint32_t n = g[CPU_ECX] < max ? g[CPU_ECX] : max;
	uint32_t room = (0x1000 - (dlin & 0xfff)) / size;
	if (room < n)
		n = room;
	const struct tlb_entry *de = &c->tlb[user][(dlin >> 12) & (TLB_SIZE - 1)];
	if (n == 0 || de->tag_w != (dlin & ~0xfffu))
		return 0;
	uint8_t *d = (uint8_t *)(de->addend + dlin);
	if (kind == 0xaa) {
		uint32_t v = g[CPU_EAX];
		if (size == 1) {
			memset(d, (int)(v & 0xff), n);
		} else if (size == 2) {
			uint16_t w = (uint16_t)v;
			for (uint32_t k = 0; k < n; k++)
				memcpy(d + 2 * k, &w, 2);
		} else {
			for (uint32_t k = 0; k < n; k++)
				memcpy(d + 4 * k, &v, 4);
		}
	} else {
		uint32_t slin = c->s.seg[sseg].base + g[CPU_ESI];
		uint32_t sroom = (0x1000 - (slin & 0xfff)) / size;
		if (sroom < n)
			n = sroom;
		const struct tlb_entry *se = &c->tlb[user][(slin >> 12) & (TLB_SIZE - 1)];
		if (n == 0 || se->tag_r != (slin & ~0xfffu))
			return 0;
		const uint8_t *src = (const uint8_t *)(se->addend + slin);
		if (d > src && d < src + n * size)
			return 0;   /* a forward element copy would replicate: not a memmove */
		memmove(d, src, n * size);
		g[CPU_ESI] += n * size;
	}
	g[CPU_EDI] += n * size;
	g[CPU_ECX] -= n;
	return n;
}

void exec_string(struct cpu *c, struct dec *d, uint8_t op)
{
	uint32_t *g = c->s.gpr;
	unsigned size = (op & 1) ? (d->o32 ? 4 : 2) : 1;
	uint32_t amask = d->a32 ? 0xffffffffu : 0xffffu;
	uint32_t step = (c->s.eflags & F_DF) ? -size : size;
	int sseg = d->seg >= 0 ? d->seg : CPU_SEG_DS;
	bool rep = d->rep != 0;
	unsigned kind = op & 0xfe;

	if (kind == 0x6c || kind == 0x6e) {
		if (!io_allowed(c, (uint16_t)g[CPU_EDX], size))
			cpu_raise(c, EXC_GP, 0);
	}
	bool bulk = rep && (kind == 0xa4 || kind == 0xaa) && d->a32 && !(c->s.eflags & F_DF) &&
		    c->seg_fast[CPU_SEG_ES] && (kind == 0xaa || c->seg_fast[sseg]);
	for (unsigned n = 0;; n++) {
		if (rep) {
			if ((g[CPU_ECX] & amask) == 0)
				return;
			if (n >= REP_CHUNK) {
				c->s.eip = c->insn_eip;   /* resume later */
				return;
			}
			if (bulk) {
				uint32_t k = rep_bulk(c, kind, size, sseg, REP_CHUNK - n);
				if (k) {
					n += k - 1;
					continue;
				}
			}
		}
		uint32_t si = g[CPU_ESI] & amask, di = g[CPU_EDI] & amask;
		uint32_t v;
		bool stop = false;
		switch (kind) {
		case 0xa4: /* MOVS */
			v = mem_read(c, sseg, si, size);
			mem_write(c, CPU_SEG_ES, di, size, v);
			g[CPU_ESI] = (g[CPU_ESI] & ~amask) | ((si + step) & amask);
			g[CPU_EDI] = (g[CPU_EDI] & ~amask) | ((di + step) & amask);
			break;
		case 0xa6: { /* CMPS */
			uint32_t a = mem_read(c, sseg, si, size);
			uint32_t b = mem_read(c, CPU_SEG_ES, di, size);
			alu_op(c, 7, a, b, size);
			g[CPU_ESI] = (g[CPU_ESI] & ~amask) | ((si + step) & amask);
			g[CPU_EDI] = (g[CPU_EDI] & ~amask) | ((di + step) & amask);
			stop = true;
			break;
		}
		case 0xaa: /* STOS */
			mem_write(c, CPU_SEG_ES, di, size, g[CPU_EAX]);
			g[CPU_EDI] = (g[CPU_EDI] & ~amask) | ((di + step) & amask);
			break;
		case 0xac: /* LODS */
			v = mem_read(c, sseg, si, size);
			reg_write(c, CPU_EAX, size, v);
			g[CPU_ESI] = (g[CPU_ESI] & ~amask) | ((si + step) & amask);
			break;
		case 0xae: /* SCAS */
			v = mem_read(c, CPU_SEG_ES, di, size);
			alu_op(c, 7, g[CPU_EAX], v, size);
			g[CPU_EDI] = (g[CPU_EDI] & ~amask) | ((di + step) & amask);
			stop = true;
			break;
		case 0x6c: /* INS */
			/* probe the destination before the port read has side effects */
			mem_write(c, CPU_SEG_ES, di, size, mem_read(c, CPU_SEG_ES, di, size));
			v = c->bus && c->bus->pio_read ? c->bus->pio_read(c->bus->opaque, (uint16_t)g[CPU_EDX], size)
						      : size_mask(size);
			mem_write(c, CPU_SEG_ES, di, size, v);
			g[CPU_EDI] = (g[CPU_EDI] & ~amask) | ((di + step) & amask);
			break;
		default: /* OUTS */
			v = mem_read(c, sseg, si, size);
			if (c->bus && c->bus->pio_write)
				c->bus->pio_write(c->bus->opaque, (uint16_t)g[CPU_EDX], size, v);
			g[CPU_ESI] = (g[CPU_ESI] & ~amask) | ((si + step) & amask);
			break;
		}
		if (!rep)
			return;
		g[CPU_ECX] = (g[CPU_ECX] & ~amask) | ((g[CPU_ECX] - 1) & amask);
		if (stop) {
			bool zf = flags_cond(c, 4);
			if ((d->rep == 0xf3 && !zf) || (d->rep == 0xf2 && zf))
				return;
		}
	}
}
