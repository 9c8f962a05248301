/* FPU guest: FNINIT's control/status/tag words; FADD, FMUL, FDIV, FSQRT
 * and FLDPI results against hand-checked IEEE double bit patterns; the
 * condition codes FNSTSW shows after FCOM; a masked zero divide giving
 * +inf and ZE, an unmasked one raising #MF (vector 16, CR0.NE=1) at the
 * next waiting instruction with FIP naming the FDIV; an FNSAVE/FRSTOR
 * round trip; #NM with CR0.TS=1 and success after CLTS. */
#include "trap.h"

void main(void);

static const u64 d_1_5 = 0x3ff8000000000000ull, d_2_25 = 0x4002000000000000ull;
static const u64 d_3 = 0x4008000000000000ull, d_7 = 0x401c000000000000ull;
static const u64 d_2 = 0x4000000000000000ull, d_0 = 0;
static volatile u32 mf_sw, mf_fip;

static void hook(struct frame *f)
{
	if (f->vec != 16)
		return;
	u32 env[7];
	u16 sw;
	__asm__ volatile("fnstsw %0\n\tfnstenv %1\n\tfnclex" : "=m"(sw), "=m"(env) : : "memory");
	mf_sw = sw;
	mf_fip = env[3];
}

static void expect64(const char *what, u64 exp, u64 got)
{
	if (exp == got)
		return;
	expect(what, (u32)(exp >> 32), (u32)(got >> 32));
	expect(what, (u32)exp, (u32)got);
}

static void test_fninit(void)
{
	u16 cw, sw;
	u32 env[7];
	begin("fninit_state");
	__asm__ volatile("fninit\n\tfnstcw %0\n\tfnstsw %1\n\tfnstenv %2" : "=m"(cw), "=m"(sw), "=m"(env) : : "memory");
	expect("control word", 0x037f, cw);
	expect("status word", 0, sw);
	expect("tag word", 0xffff, env[2] & 0xffff);
	end();
}

static void test_arith(void)
{
	u64 r;
	begin("arith_bit_patterns");
	__asm__ volatile("fninit\n\tfldl %1\n\tfaddl %2\n\tfstpl %0" : "=m"(r) : "m"(d_1_5), "m"(d_2_25));
	expect64("1.5+2.25", 0x400e000000000000ull, r);
	__asm__ volatile("fldl %1\n\tfmull %2\n\tfstpl %0" : "=m"(r) : "m"(d_3), "m"(d_7));
	expect64("3*7", 0x4035000000000000ull, r);
	__asm__ volatile("fldl %1\n\tfdivl %2\n\tfstpl %0" : "=m"(r) : "m"(d_7), "m"(d_3));
	expect64("7/3", 0x4002aaaaaaaaaaabull, r);
	__asm__ volatile("fldl %1\n\tfsqrt\n\tfstpl %0" : "=m"(r) : "m"(d_2));
	expect64("sqrt(2)", 0x3ff6a09e667f3bcdull, r);
	__asm__ volatile("fldpi\n\tfstpl %0" : "=m"(r));
	expect64("pi", 0x400921fb54442d18ull, r);
	u16 sw;
	__asm__ volatile("fnstsw %0" : "=m"(sw));
	expect("stack empty again (TOP)", 0, (sw >> 11) & 7);
	end();
}

/* FCOM ST(0) with @b, ST(0) = @a: the C3/C2/C0 bits of the status word. */
static u32 fcom_cc(const u64 *a, const u64 *b)
{
	u16 sw;
	__asm__ volatile("fldl %1\n\tfcompl %2\n\tfnstsw %%ax\n\tmovw %%ax, %0" : "=m"(sw) : "m"(*a), "m"(*b) : "eax");
	return sw & 0x4500;
}

static void test_fcom(void)
{
	static const u64 nan = 0x7ff8000000000000ull;
	begin("fcom_fnstsw_condition_codes");
	__asm__ volatile("fninit");
	expect("3 < 7: C0", 0x0100, fcom_cc(&d_3, &d_7));
	expect("7 > 3: none", 0, fcom_cc(&d_7, &d_3));
	expect("3 = 3: C3", 0x4000, fcom_cc(&d_3, &d_3));
	u32 cc = fcom_cc(&d_3, &nan);   /* invalid, masked */
	expect("3 vs NaN: C3 C2 C0", 0x4500, cc);
	end();
}

static void test_zero_divide(void)
{
	u64 r;
	u16 sw;
	begin("masked_zero_divide_gives_inf");
	__asm__ volatile("fninit\n\tfldl %2\n\tfdivl %3\n\tfnstsw %1\n\tfstpl %0" : "=m"(r), "=m"(sw) : "m"(d_2), "m"(d_0));
	expect64("2/0", 0x7ff0000000000000ull, r);
	expect("ZE set, ES clear", 0x04, sw & 0x84);
	end();

	begin("unmasked_zero_divide_mf");
	write_cr0(read_cr0() | 0x20);   /* NE: #MF, not FERR# */
	u16 cw = 0x037b;                /* ZE unmasked */
	u32 fdiv_at;
	clear_seen();
	mf_sw = mf_fip = 0xffffffff;
	__asm__ volatile("fninit\n\tfldcw %1\n\tfldl %2\n"
			 "3:\tfdivl %3\n\t"
			 "movl $3b, %0\n\t"
			 TRAP_RECOVER_PROLOGUE
			 "2:\tfwait\n1:"
			 : "=&r"(fdiv_at) : "m"(cw), "m"(d_2), "m"(d_0) : "memory");
	expect("trap count", 1, seen.count);
	expect("vector", 16, seen.vec);
	expect("saved EIP (the FWAIT)", fault_at, seen.eip);
	expect("status ZE|ES|B", 0x8084, mf_sw & 0x8084);
	expect("FIP (the FDIV)", fdiv_at, mf_fip);
	__asm__ volatile("fninit");
	end();
}

static void test_save_restore(void)
{
	u32 a[27], b[27];
	u16 cw = 0x0c7f, cw_after_save, cw_restored;   /* round toward zero */
	u64 r0, r1, r2;
	begin("fnsave_frstor_round_trip");
	__asm__ volatile("fninit\n\tfldcw %5\n\tfldl %3\n\tfldl %4\n\tfldpi\n\t"
			 "fnsave %0\n\tfnstcw %1\n\t"
			 "frstor %0\n\tfnstcw %2"
			 : "+m"(a), "=m"(cw_after_save), "=m"(cw_restored) : "m"(d_7), "m"(d_2), "m"(cw) : "memory");
	expect("FNSAVE re-initialises (CW)", 0x037f, cw_after_save);
	expect("FRSTOR restores CW", 0x0c7f, cw_restored);
	__asm__ volatile("fnsave %0\n\tfrstor %0" : "=m"(b) : : "memory");
	for (int i = 0; i < 27; i++)
		expect("FNSAVE image word after FRSTOR", a[i], b[i]);
	__asm__ volatile("fstpl %0\n\tfstpl %1\n\tfstpl %2" : "=m"(r0), "=m"(r1), "=m"(r2));
	expect64("ST0 (pi, chopped)", 0x400921fb54442d18ull, r0);
	expect64("ST1", d_2, r1);
	expect64("ST2", d_7, r2);
	end();
}

static void test_ts_nm(void)
{
	u64 r = 0;
	begin("cr0_ts_nm_then_clts");
	__asm__ volatile("fninit");
	write_cr0(read_cr0() | 0x08);
	clear_seen();
	__asm__ volatile(TRAP_RECOVER_PROLOGUE "2:\tfld1\n1:" : : : "memory");
	expect("trap count", 1, seen.count);
	expect("vector", 7, seen.vec);
	expect("saved EIP (the FLD1)", fault_at, seen.eip);
	clear_seen();
	__asm__ volatile("clts\n\tfld1\n\tfstpl %0" : "=m"(r));
	expect("no trap after CLTS", 0, seen.count);
	expect64("FLD1 result", 0x3ff0000000000000ull, r);
	end();
}

void main(void)
{
	serial_init();
	tables_init();
	trap_hook = hook;
	puts_serial("fpu: start\n");
	write_cr0(read_cr0() & ~0x0cu);   /* EM and TS clear */
	test_fninit();
	test_arith();
	test_fcom();
	test_zero_divide();
	test_save_restore();
	test_ts_nm();
	finish("fpu");
}
