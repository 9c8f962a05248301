/* vmcore/cpu — string instructions (MOVS CMPS STOS LODS SCAS INS OUTS) with
 * REP/REPE/REPNE and segment overrides.
 *
 * Every iteration commits ECX/ESI/EDI, so a fault in the middle restarts
 * the instruction with the remaining count. A long REP yields after a chunk
 * by rewinding EIP to the instruction, so interrupts are not held off. */
#include "vmcore/cpu/cpu_int.h"

#define REP_CHUNK 4096

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
	for (unsigned n = 0;; n++) {
		if (rep) {
			if ((g[CPU_ECX] & amask) == 0)
				return;
			if (n == REP_CHUNK) {
				c->s.eip = c->insn_eip;   /* resume later */
				return;
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
