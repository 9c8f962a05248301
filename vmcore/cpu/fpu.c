/* vmcore/cpu — the x87 FPU.
 *
 * Not implemented yet: every x87 opcode raises #NM when CR0.EM or CR0.TS
 * says so (as hardware does) and #UD otherwise, and CPUID does not
 * advertise an FPU, so nothing silently computes a wrong result. */
#include "vmcore/cpu/cpu_int.h"

const bool fpu_implemented = false;

void fpu_reset(struct cpu *c)
{
	memset(&c->s.fpu, 0, sizeof(c->s.fpu));
	c->s.fpu.fcw = 0x37f;
}

void exec_fpu(struct cpu *c, struct dec *d, uint8_t op)
{
	(void)op;
	if (c->s.cr0 & (CR0_EM | CR0_TS))
		cpu_raise(c, EXC_NM, 0);
	decode_modrm(c, d);
	cpu_raise(c, EXC_UD, 0);
}
