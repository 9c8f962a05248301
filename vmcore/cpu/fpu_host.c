/* vmcore/cpu — x87 operations executed on the host's own x87.
 *
 * The host is x86 (x86-64 keeps the x87 unit), so the exact result of a
 * guest x87 operation — rounding control, precision control, denormals,
 * NaN propagation, FPREM's partial remainder, the condition codes and the
 * exception flags — is what the host x87 computes with the guest's control
 * word loaded. Each helper starts and ends with FNINIT, so the host's x87
 * stack is empty around it (the x86-64 ABI requires that at calls) and no
 * host state leaks into the guest or back. All exceptions are masked on
 * the host; the caller applies the guest's masks to the returned flags.
 *
 * Transcendentals (FSIN, FCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1) are
 * thereby as precise as the host CPU's microcode, which may differ from
 * Intel's in the last bit on AMD hosts. */
#include "vmcore/cpu/fpu_int.h"

#if !defined(__x86_64__) && !defined(__i386__)
#error "the x87 emulation runs guest x87 operations on the host's x87"
#endif

/* 16 bytes so the asm operands cover any memory format */
struct mem16 {
	uint8_t b[16];
};

#define HOST_OP(body)                                                                     \
	__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t" body          \
			 "\n\tfnstsw %[sw]\n\tfstpt %[r0]\n\tfstpt %[r1]\n\tfninit"             \
			 : [r0] "=m"(*r0), [r1] "=m"(*r1), [sw] "=m"(sw)                        \
			 : [a] "m"(*a), [b] "m"(*b), [cw] "m"(hcw))

uint16_t fpu_host_op(enum fpu_hop op, uint16_t cw, const struct f80 *a, const struct f80 *b,
		     struct f80 *r0, struct f80 *r1)
{
	uint16_t hcw = (uint16_t)(cw | 0x3f), sw = 0;
	/* stack inside the asm: ST0 = a, ST1 = b (a third slot for pushes) */
	switch (op) {
	case HOP_ADD: HOST_OP("fadd %%st(1), %%st"); break;
	case HOP_MUL: HOST_OP("fmul %%st(1), %%st"); break;
	case HOP_COM: HOST_OP("fcom %%st(1)"); break;
	case HOP_UCOM: HOST_OP("fucom %%st(1)"); break;
	case HOP_SUB: HOST_OP("fsub %%st(1), %%st"); break;
	case HOP_SUBR: HOST_OP("fsubr %%st(1), %%st"); break;
	case HOP_DIV: HOST_OP("fdiv %%st(1), %%st"); break;
	case HOP_DIVR: HOST_OP("fdivr %%st(1), %%st"); break;
	case HOP_PREM: HOST_OP("fprem"); break;
	case HOP_PREM1: HOST_OP("fprem1"); break;
	case HOP_SCALE: HOST_OP("fscale"); break;
	/* these take ST0 and ST1 and pop: the result is left in r0 */
	case HOP_YL2X: HOST_OP("fyl2x"); break;
	case HOP_YL2XP1: HOST_OP("fyl2xp1"); break;
	case HOP_PATAN: HOST_OP("fpatan"); break;
	case HOP_SQRT: HOST_OP("fsqrt"); break;
	case HOP_RNDINT: HOST_OP("frndint"); break;
	case HOP_XTRACT: HOST_OP("fxtract"); break;
	case HOP_2XM1: HOST_OP("f2xm1"); break;
	case HOP_PTAN: HOST_OP("fptan"); break;
	case HOP_SIN: HOST_OP("fsin"); break;
	case HOP_COS: HOST_OP("fcos"); break;
	case HOP_SINCOS: HOST_OP("fsincos"); break;
	case HOP_TST: HOST_OP("ftst"); break;
	case HOP_XAM: HOST_OP("fxam"); break;
	case HOP_LD1: HOST_OP("fld1"); break;
	case HOP_LDL2T: HOST_OP("fldl2t"); break;
	case HOP_LDL2E: HOST_OP("fldl2e"); break;
	case HOP_LDPI: HOST_OP("fldpi"); break;
	case HOP_LDLG2: HOST_OP("fldlg2"); break;
	case HOP_LDLN2: HOST_OP("fldln2"); break;
	case HOP_LDZ: HOST_OP("fldz"); break;
	}
	return sw;
}

#define HOST_LOAD(insn)                                                                 \
	__asm__ volatile("fninit\n\tfldcw %[cw]\n\t" insn " %[m]\n\tfnstsw %[sw]\n\t"      \
			 "fstpt %[r]\n\tfninit"                                                \
			 : [r] "=m"(*r), [sw] "=m"(sw)                                         \
			 : [m] "m"(*(const struct mem16 *)mem), [cw] "m"(hcw))

uint16_t fpu_host_load(enum fpu_mfmt fmt, uint16_t cw, const uint8_t *mem, struct f80 *r)
{
	uint16_t hcw = (uint16_t)(cw | 0x3f), sw = 0;
	switch (fmt) {
	case MF_F32: HOST_LOAD("flds"); break;
	case MF_F64: HOST_LOAD("fldl"); break;
	case MF_F80: HOST_LOAD("fldt"); break;
	case MF_I16: HOST_LOAD("filds"); break;
	case MF_I32: HOST_LOAD("fildl"); break;
	case MF_I64: HOST_LOAD("fildll"); break;
	case MF_BCD: HOST_LOAD("fbld"); break;
	}
	return sw;
}

#define HOST_STORE(insn)                                                                \
	__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\t" insn " %[m]\n\t"          \
			 "fnstsw %[sw]\n\tfninit"                                              \
			 : [m] "=m"(*(struct mem16 *)mem), [sw] "=m"(sw)                       \
			 : [a] "m"(*a), [cw] "m"(hcw))

uint16_t fpu_host_store(enum fpu_mfmt fmt, uint16_t cw, const struct f80 *a, uint8_t *mem)
{
	uint16_t hcw = (uint16_t)(cw | 0x3f), sw = 0;
	switch (fmt) {
	case MF_F32: HOST_STORE("fstps"); break;
	case MF_F64: HOST_STORE("fstpl"); break;
	case MF_F80: HOST_STORE("fstpt"); break;
	case MF_I16: HOST_STORE("fistps"); break;
	case MF_I32: HOST_STORE("fistpl"); break;
	case MF_I64: HOST_STORE("fistpll"); break;
	case MF_BCD: HOST_STORE("fbstp"); break;
	}
	return sw;
}
