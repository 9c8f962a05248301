/* Unit tests for vmcore/cpu/fpu*.c: the x87 stack, arithmetic with rounding
 * and precision control, integer/BCD/float conversions, compares into
 * EFLAGS, FCMOV, stack faults, unmasked exceptions and #MF, #NM, and the
 * FNSAVE/FRSTOR/FNSTENV formats. Expected values are IEEE bit patterns
 * worked out by hand, not computed by the host. */
#include "tests/unit/cpu/harness.h"
#include "vmcore/cpu/fpu_int.h"

static struct harness h;

#define DATA 0x3000u

static int setup_pm(void **state)
{
	(void)state;
	h_init(&h, true);
	return 0;
}

static int setup_rm(void **state)
{
	(void)state;
	h_init(&h, false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_free(&h);
	return 0;
}

static int run(const uint8_t *code, size_t n)
{
	h_code(&h, code, n);
	struct cpu_state *st = h_get(&h);
	st->eip = H_CODE;
	st->halted = 0;
	h_put(&h);
	/* runs to the HLT that ends every snippet */
	return h_run(&h, 1000);
}

static uint64_t r64(uint32_t a)
{
	uint64_t v;
	memcpy(&v, h.ram + a, 8);
	return v;
}

static uint16_t r16(uint32_t a)
{
	uint16_t v;
	memcpy(&v, h.ram + a, 2);
	return v;
}

static void w64(uint32_t a, uint64_t v)
{
	memcpy(h.ram + a, &v, 8);
}

/* fild dword [0x3000]; fild dword [0x3004]; fdivp; fstp qword [0x3010]; fnstsw ax; hlt */
static const uint8_t divide[] = {
	0xdb, 0x05, 0x00, 0x30, 0x00, 0x00,
	0xdb, 0x05, 0x04, 0x30, 0x00, 0x00,
	0xde, 0xf9,
	0xdd, 0x1d, 0x10, 0x30, 0x00, 0x00,
	0xdf, 0xe0, 0xf4,
};

static void test_fninit_state_and_fnstcw(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0xdb, 0xe3, 0xd9, 0x3d, 0x00, 0x30, 0x00, 0x00, 0xdf, 0xe0, 0xf4 };
	assert_int_equal(run(code, sizeof(code)), -1);
	assert_int_equal(r16(DATA), 0x037f);
	assert_int_equal(h.st.gpr[CPU_EAX] & 0xffff, 0);
	assert_int_equal(h.st.fpu.ftw, 0);
}

static void test_fdiv_seven_by_three_double(void **state)
{
	(void)state;
	h_w32(&h, DATA, 7);
	h_w32(&h, DATA + 4, 3);
	assert_int_equal(run(divide, sizeof(divide)), -1);
	assert_int_equal(r64(DATA + 0x10), 0x4002aaaaaaaaaaabull);   /* 2.3333333333333335 */
	assert_true(h.st.gpr[CPU_EAX] & FSW_PE);                       /* inexact */
	assert_int_equal(h.st.fpu.ftw, 0);                             /* both popped */
}

static void test_rounding_control_changes_fistp(void **state)
{
	(void)state;
	/* fldcw [0x3020]; fild [0x3000]; fild [0x3004]; fdivp; fistp dword [0x3010]; hlt */
	static const uint8_t code[] = {
		0xd9, 0x2d, 0x20, 0x30, 0x00, 0x00,
		0xdb, 0x05, 0x00, 0x30, 0x00, 0x00,
		0xdb, 0x05, 0x04, 0x30, 0x00, 0x00,
		0xde, 0xf9,
		0xdb, 0x1d, 0x10, 0x30, 0x00, 0x00, 0xf4,
	};
	h_w32(&h, DATA, 7);
	h_w32(&h, DATA + 4, 3);
	h_w32(&h, DATA + 0x20, 0x077f);   /* round down */
	assert_int_equal(run(code, sizeof(code)), -1);
	assert_int_equal(h_r32(&h, DATA + 0x10), 2);
	h_w32(&h, DATA + 0x20, 0x0b7f);   /* round up */
	assert_int_equal(run(code, sizeof(code)), -1);
	assert_int_equal(h_r32(&h, DATA + 0x10), 3);
	h_w32(&h, DATA, (uint32_t)-7);
	h_w32(&h, DATA + 0x20, 0x0f7f);   /* chop */
	assert_int_equal(run(code, sizeof(code)), -1);
	assert_int_equal(h_r32(&h, DATA + 0x10), (uint32_t)-2);
}

static void test_precision_control_24_bits(void **state)
{
	(void)state;
	/* fldcw [0x3020]; fld1; fild [0x3004]; fdivp; fstp tword [0x3010]; hlt */
	static const uint8_t code[] = {
		0xd9, 0x2d, 0x20, 0x30, 0x00, 0x00,
		0xd9, 0xe8,
		0xdb, 0x05, 0x04, 0x30, 0x00, 0x00,
		0xde, 0xf9,
		0xdb, 0x3d, 0x10, 0x30, 0x00, 0x00, 0xf4,
	};
	h_w32(&h, DATA + 4, 3);
	h_w32(&h, DATA + 0x20, 0x007f);   /* PC = single, round to nearest */
	assert_int_equal(run(code, sizeof(code)), -1);
	assert_int_equal(r64(DATA + 0x10), 0xaaaaab0000000000ull);
	assert_int_equal(r16(DATA + 0x18), 0x3ffd);
	h_w32(&h, DATA + 0x20, 0x037f);   /* PC = extended */
	assert_int_equal(run(code, sizeof(code)), -1);
	assert_int_equal(r64(DATA + 0x10), 0xaaaaaaaaaaaaaaabull);
}

static void test_fld_m80_fstp_m80_keeps_bits(void **state)
{
	(void)state;
	/* fld tword [0x3000]; fstp tword [0x3010]; hlt: a signalling NaN passes
	 * through unchanged and raises nothing (80-bit loads do not convert) */
	static const uint8_t code[] = { 0xdb, 0x2d, 0x00, 0x30, 0x00, 0x00, 0xdb, 0x3d, 0x10, 0x30, 0x00, 0x00, 0xf4 };
	w64(DATA, 0x8000000000000001ull);
	memcpy(h.ram + DATA + 8, "\xff\x7f", 2);
	assert_int_equal(run(code, sizeof(code)), -1);
	assert_int_equal(r64(DATA + 0x10), 0x8000000000000001ull);
	assert_int_equal(r16(DATA + 0x18), 0x7fff);
	assert_int_equal(h.st.fpu.fsw & FSW_EXC, 0);
}

static void test_fstp_from_empty_is_stack_underflow(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0xdb, 0xe3, 0xdd, 0x1d, 0x10, 0x30, 0x00, 0x00, 0xdf, 0xe0, 0xf4 };
	assert_int_equal(run(code, sizeof(code)), -1);
	assert_int_equal(r64(DATA + 0x10), 0xfff8000000000000ull);   /* double indefinite */
	uint16_t sw = (uint16_t)h.st.gpr[CPU_EAX];
	assert_true(sw & FSW_IE);
	assert_true(sw & FSW_SF);
	assert_false(sw & FSW_C1);      /* underflow, not overflow */
	assert_false(sw & FSW_ES);      /* masked */
}

static void test_ninth_push_is_stack_overflow(void **state)
{
	(void)state;
	static const uint8_t code[] = {
		0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8,
		0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xee, 0xdf, 0xe0, 0xf4,
	};
	assert_int_equal(run(code, sizeof(code)), -1);
	uint16_t sw = (uint16_t)h.st.gpr[CPU_EAX];
	assert_true(sw & FSW_IE);
	assert_true(sw & FSW_SF);
	assert_true(sw & FSW_C1);
	assert_int_equal(h.st.fpu.ftw, 0xff);
}

static void test_unmasked_zero_divide_raises_mf_on_next_insn(void **state)
{
	(void)state;
	/* fldcw [0x3020]; fld1; fldz; fdivp; fwait; hlt */
	static const uint8_t code[] = {
		0xd9, 0x2d, 0x20, 0x30, 0x00, 0x00, 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0x9b, 0xf4,
	};
	h_get(&h)->cr0 |= CR0_NE;
	h_put(&h);
	h_w32(&h, DATA + 0x20, 0x037b);   /* ZE unmasked */
	assert_int_equal(run(code, sizeof(code)), EXC_MF);
	assert_int_equal(h.st.eip, H_CODE + 12);   /* at the FWAIT */
	assert_true(h.st.fpu.fsw & FSW_ZE);
	assert_true(h.st.fpu.fsw & FSW_ES);
	/* the destination and the stack are unchanged: 1.0 and 0.0 remain */
	assert_int_equal(h.st.fpu.ftw, 0xc0);
}

static void test_ts_gives_nm_and_mp_ts_fwait_nm(void **state)
{
	(void)state;
	static const uint8_t fld1[] = { 0xd9, 0xe8, 0xf4 };
	static const uint8_t fwait[] = { 0x9b, 0xf4 };
	h_get(&h)->cr0 |= CR0_TS;
	h_put(&h);
	assert_int_equal(run(fld1, sizeof(fld1)), EXC_NM);
	assert_int_equal(run(fwait, sizeof(fwait)), -1);   /* MP=0: FWAIT ignores TS */
	h_get(&h)->cr0 |= CR0_MP;
	h_put(&h);
	assert_int_equal(run(fwait, sizeof(fwait)), EXC_NM);
	h_get(&h)->cr0 = (h.st.cr0 & ~CR0_TS) | CR0_EM;
	h_put(&h);
	assert_int_equal(run(fld1, sizeof(fld1)), EXC_NM);
}

static void test_fcomi_sets_eflags_and_fcmov_moves(void **state)
{
	(void)state;
	/* fninit; fild [0x3000] (2); fld1; fcomi st1; fcmovb st1; fstp qword [0x3010]; hlt */
	static const uint8_t code[] = {
		0xdb, 0xe3, 0xdb, 0x05, 0x00, 0x30, 0x00, 0x00, 0xd9, 0xe8,
		0xdb, 0xf1, 0xda, 0xc1, 0xdd, 0x1d, 0x10, 0x30, 0x00, 0x00, 0xf4,
	};
	h_w32(&h, DATA, 2);
	assert_int_equal(run(code, sizeof(code)), -1);
	assert_true(h.st.eflags & F_CF);
	assert_false(h.st.eflags & (F_ZF | F_PF));
	assert_int_equal(r64(DATA + 0x10), 0x4000000000000000ull);   /* 2.0 moved */
}

static void test_fucompp_unordered_with_nan(void **state)
{
	(void)state;
	/* fninit; fld qword [0x3000] (QNaN); fld1; fucompp; fnstsw ax; hlt */
	static const uint8_t code[] = {
		0xdb, 0xe3, 0xdd, 0x05, 0x00, 0x30, 0x00, 0x00, 0xd9, 0xe8, 0xda, 0xe9, 0xdf, 0xe0, 0xf4,
	};
	w64(DATA, 0x7ff8000000000000ull);
	assert_int_equal(run(code, sizeof(code)), -1);
	uint16_t sw = (uint16_t)h.st.gpr[CPU_EAX];
	assert_int_equal(sw & (FSW_C0 | FSW_C2 | FSW_C3), FSW_C0 | FSW_C2 | FSW_C3);
	assert_false(sw & FSW_IE);   /* FUCOM: a QNaN is not invalid */
	assert_int_equal(h.st.fpu.ftw, 0);
}

static void test_fbstp_fbld_round_trip(void **state)
{
	(void)state;
	/* fild dword [0x3000]; fbstp [0x3010]; fbld [0x3010]; fistp dword [0x3020]; hlt */
	static const uint8_t code[] = {
		0xdb, 0x05, 0x00, 0x30, 0x00, 0x00, 0xdf, 0x35, 0x10, 0x30, 0x00, 0x00,
		0xdf, 0x25, 0x10, 0x30, 0x00, 0x00, 0xdb, 0x1d, 0x20, 0x30, 0x00, 0x00, 0xf4,
	};
	h_w32(&h, DATA, (uint32_t)-1234567);
	assert_int_equal(run(code, sizeof(code)), -1);
	assert_int_equal(h_r32(&h, DATA + 0x10), 0x01234567);
	assert_int_equal(h.ram[DATA + 0x19], 0x80);   /* sign byte */
	assert_int_equal(h_r32(&h, DATA + 0x20), (uint32_t)-1234567);
}

static void test_fxam_empty_and_fsqrt(void **state)
{
	(void)state;
	/* fninit; fxam; fnstsw ax; hlt */
	static const uint8_t code[] = { 0xdb, 0xe3, 0xd9, 0xe5, 0xdf, 0xe0, 0xf4 };
	assert_int_equal(run(code, sizeof(code)), -1);
	assert_int_equal(h.st.gpr[CPU_EAX] & (FSW_C0 | FSW_C2 | FSW_C3), FSW_C0 | FSW_C3);
	/* fild [0x3000] (2); fsqrt; fstp qword [0x3010]; hlt */
	static const uint8_t sq[] = { 0xdb, 0x05, 0x00, 0x30, 0x00, 0x00, 0xd9, 0xfa,
				      0xdd, 0x1d, 0x10, 0x30, 0x00, 0x00, 0xf4 };
	h_w32(&h, DATA, 2);
	assert_int_equal(run(sq, sizeof(sq)), -1);
	assert_int_equal(r64(DATA + 0x10), 0x3ff6a09e667f3bcdull);   /* sqrt(2) */
}

static void test_fnsave_frstor_32bit_protected(void **state)
{
	(void)state;
	/* fninit; fld1; fldpi; fnsave [0x3100]; fnstsw ax; frstor [0x3100]; fstp qword [0x3010]; hlt */
	static const uint8_t code[] = {
		0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xeb, 0xdd, 0x35, 0x00, 0x31, 0x00, 0x00, 0xdf, 0xe0,
		0xdd, 0x25, 0x00, 0x31, 0x00, 0x00, 0xdd, 0x1d, 0x10, 0x30, 0x00, 0x00, 0xf4,
	};
	assert_int_equal(run(code, sizeof(code)), -1);
	assert_int_equal(r16(0x3100), 0x037f);                  /* FCW */
	assert_int_equal((r16(0x3104) >> 11) & 7, 6);           /* TOP = 6 */
	assert_int_equal(r16(0x3108), 0x0fff);                  /* tags: ST0, ST1 valid */
	assert_int_equal(h_r32(&h, 0x310c), H_CODE + 4);        /* FIP: the FLDPI */
	assert_int_equal(r16(0x3110), 0x08);                    /* FCS */
	assert_int_equal(r64(0x311c), 0xc90fdaa22168c235ull);   /* ST0 = pi (round to nearest) */
	assert_int_equal(r16(0x3124), 0x4000);
	assert_int_equal(r64(0x3126), 0x8000000000000000ull);   /* ST1 = 1.0 */
	assert_int_equal(h.st.gpr[CPU_EAX] & 0xffff, 0);        /* FNSAVE reinitialised */
	assert_int_equal(r64(DATA + 0x10), 0x400921fb54442d18ull);   /* pi restored */
}

static void test_fnstenv_16bit_real_mode_format(void **state)
{
	(void)state;
	/* fninit; fld1; fnstenv [0x3000]; fnstcw [0x3020]; hlt (16-bit code) */
	static const uint8_t code[] = {
		0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0x36, 0x00, 0x30, 0xd9, 0x3e, 0x20, 0x30, 0xf4,
	};
	struct cpu_state *st = h_get(&h);
	st->seg[CPU_SEG_CS].selector = 0x0100;
	st->seg[CPU_SEG_CS].base = 0x1000;
	st->eip = 0;
	h_put(&h);
	memcpy(h.ram + 0x1000, code, sizeof(code));
	cpu_interp_ops.invalidate_code(h.c, 0x1000, sizeof(code));
	assert_int_equal(h_run(&h, 1000), -1);
	assert_int_equal(r16(DATA), 0x037f);
	assert_int_equal((r16(DATA + 2) >> 11) & 7, 7);
	assert_int_equal(r16(DATA + 4), 0x3fff);                /* physical 7 valid */
	assert_int_equal(r16(DATA + 6), 0x1002);                /* FIP: linear 0x1002, low 16 */
	assert_int_equal(r16(DATA + 8) & 0xf000, 0);            /* FIP bits 16-19 */
	assert_int_equal(r16(DATA + 8) & 0x7ff, 0x1e8);         /* FOP: D9 E8 */
	assert_int_equal(r16(DATA + 0x20), 0x037f | 0x3f);      /* FNSTENV masks all */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fninit_state_and_fnstcw, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_fdiv_seven_by_three_double, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_rounding_control_changes_fistp, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_precision_control_24_bits, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_fld_m80_fstp_m80_keeps_bits, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_fstp_from_empty_is_stack_underflow, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_ninth_push_is_stack_overflow, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_unmasked_zero_divide_raises_mf_on_next_insn, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_ts_gives_nm_and_mp_ts_fwait_nm, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_fcomi_sets_eflags_and_fcmov_moves, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_fucompp_unordered_with_nan, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_fbstp_fbld_round_trip, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_fxam_empty_and_fsqrt, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_fnsave_frstor_32bit_protected, setup_pm, teardown),
		cmocka_unit_test_setup_teardown(test_fnstenv_16bit_real_mode_format, setup_rm, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
