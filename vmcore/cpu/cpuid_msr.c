/* vmcore/cpu — CPUID, RDTSC and the MSRs.
 *
 * CPUID advertises exactly what the interpreter implements: a family-6
 * "GenuineIntel" with TSC, MSR, PSE, CX8 and CMOV (and FPU once fpu.c
 * implements the x87). No APIC: without firmware to set LVT0 to ExtINT the
 * PIC's interrupts would never arrive (see docs/cpu.md). */
#include "vmcore/cpu/cpu_int.h"

#define CPUID_FPU  (1u << 0)
#define CPUID_PSE  (1u << 3)
#define CPUID_TSC  (1u << 4)
#define CPUID_MSR  (1u << 5)
#define CPUID_CX8  (1u << 8)
#define CPUID_CMOV (1u << 15)

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

uint32_t cpu_cpuid_features(void)
{
	return CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_CX8 | CPUID_CMOV |
	       (fpu_implemented ? CPUID_FPU : 0);
}

void exec_cpuid(struct cpu *c)
{
	uint32_t *g = c->s.gpr;
	switch (g[CPU_EAX]) {
	case 0:
		g[CPU_EAX] = 1;
		g[CPU_EBX] = 0x756e6547; /* "Genu" */
		g[CPU_EDX] = 0x49656e69; /* "ineI" */
		g[CPU_ECX] = 0x6c65746e; /* "ntel" */
		break;
	case 1:
		g[CPU_EAX] = 0x0633;     /* family 6, model 3, stepping 3 */
		g[CPU_EBX] = 0;
		g[CPU_ECX] = 0;
		g[CPU_EDX] = cpu_cpuid_features();
		break;
	case 0x80000000u:
		g[CPU_EAX] = 0x80000000u;  /* no extended leaves */
		g[CPU_EBX] = g[CPU_ECX] = g[CPU_EDX] = 0;
		break;
	default:
		/* Intel returns the highest basic leaf for out-of-range inputs */
		g[CPU_EAX] = g[CPU_EBX] = g[CPU_ECX] = g[CPU_EDX] = 0;
		break;
	}
}

static uint64_t tsc_now(struct cpu *c)
{
	/* the TSC counts retired instructions: deterministic and monotonic */
	return c->s.tsc + c->stats.instructions;
}

void exec_rdtsc(struct cpu *c)
{
	if ((c->s.cr4 & CR4_TSD) && c->pmode && c->cpl != 0)
		cpu_raise(c, EXC_GP, 0);
	uint64_t t = tsc_now(c);
	c->s.gpr[CPU_EAX] = (uint32_t)t;
	c->s.gpr[CPU_EDX] = (uint32_t)(t >> 32);
}

void exec_rdmsr(struct cpu *c)
{
	if (c->pmode && c->cpl != 0)
		cpu_raise(c, EXC_GP, 0);
	uint64_t v;
	switch (c->s.gpr[CPU_ECX]) {
	case MSR_TSC: v = tsc_now(c); break;
	case MSR_SYSENTER_CS: v = c->s.sysenter_cs; break;
	case MSR_SYSENTER_ESP: v = c->s.sysenter_esp; break;
	case MSR_SYSENTER_EIP: v = c->s.sysenter_eip; break;
	default: cpu_raise(c, EXC_GP, 0);
	}
	c->s.gpr[CPU_EAX] = (uint32_t)v;
	c->s.gpr[CPU_EDX] = (uint32_t)(v >> 32);
}

void exec_wrmsr(struct cpu *c)
{
	if (c->pmode && c->cpl != 0)
		cpu_raise(c, EXC_GP, 0);
	uint64_t v = ((uint64_t)c->s.gpr[CPU_EDX] << 32) | c->s.gpr[CPU_EAX];
	switch (c->s.gpr[CPU_ECX]) {
	case MSR_TSC: c->s.tsc = v - c->stats.instructions; break;
	case MSR_SYSENTER_CS: c->s.sysenter_cs = (uint32_t)v; break;
	case MSR_SYSENTER_ESP: c->s.sysenter_esp = (uint32_t)v; break;
	case MSR_SYSENTER_EIP: c->s.sysenter_eip = (uint32_t)v; break;
	default: cpu_raise(c, EXC_GP, 0);
	}
}
