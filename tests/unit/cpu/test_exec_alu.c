/* Unit tests for vmcore/cpu/exec_alu.c: shift/rotate flags by 0, 1 and n,
 * divide faults, BCD adjust. */
#include "tests/unit/cpu/harness.h"

static struct harness h;

static int setup(void **state)
{
	(void)state;
	h_init(&h, true);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_free(&h);
	return 0;
}

#define RUN(eax, flags, ...) do { \
	static const uint8_t code_[] = { __VA_ARGS__ }; \
	h_code(&h, code_, sizeof(code_)); \
	h_get(&h)->eip = H_CODE; \
	h.st.gpr[CPU_EAX] = (eax); \
	h.st.eflags = 0x2 | (flags); \
	h_put(&h); \
} while (0)

static void test_shl_by_zero_changes_nothing(void **state)
{
	(void)state;
	RUN(0x1234, F_CF | F_ZF | F_OF, 0xc1, 0xe0, 0x00);   /* shl eax, 0 */
	assert_int_equal(h_run(&h, 1), -1);
	assert_int_equal(h.st.gpr[CPU_EAX], 0x1234);
	assert_int_equal(h.st.eflags & F_ARITH, F_CF | F_ZF | F_OF);
}

static void test_shl_by_one_sets_of_from_msb_xor_cf(void **state)
{
	(void)state;
	RUN(0x40000000, 0, 0xd1, 0xe0);                      /* shl eax, 1 */
	h_run(&h, 1);
	assert_int_equal(h.st.gpr[CPU_EAX], 0x80000000u);
	assert_int_equal(h.st.eflags & (F_CF | F_OF | F_SF | F_ZF), F_OF | F_SF);
}

static void test_shr_by_n_puts_last_bit_out_in_cf(void **state)
{
	(void)state;
	RUN(0x10, 0, 0xc1, 0xe8, 0x05);                      /* shr eax, 5 */
	h_run(&h, 1);
	assert_int_equal(h.st.gpr[CPU_EAX], 0);
	assert_true(h.st.eflags & F_CF);
	assert_true(h.st.eflags & F_ZF);
}

static void test_sar_keeps_sign(void **state)
{
	(void)state;
	RUN(0x80000000u, 0, 0xc1, 0xf8, 0x1f);               /* sar eax, 31 */
	h_run(&h, 1);
	assert_int_equal(h.st.gpr[CPU_EAX], 0xffffffffu);
	assert_false(h.st.eflags & F_CF);
	assert_true(h.st.eflags & F_SF);
}

static void test_rol_by_one_sets_cf_and_of(void **state)
{
	(void)state;
	RUN(0x80000001u, 0, 0xd1, 0xc0);                     /* rol eax, 1 */
	h_run(&h, 1);
	assert_int_equal(h.st.gpr[CPU_EAX], 3);
	assert_int_equal(h.st.eflags & (F_CF | F_OF), F_CF | F_OF);
}

static void test_rcr_by_one_rotates_cf_in(void **state)
{
	(void)state;
	RUN(2, F_CF, 0xd1, 0xd8);                             /* rcr eax, 1 */
	h_run(&h, 1);
	assert_int_equal(h.st.gpr[CPU_EAX], 0x80000001u);
	/* CF = old bit 0; OF = old MSB xor old CF */
	assert_int_equal(h.st.eflags & (F_CF | F_OF), F_OF);
}

static void test_rcl_byte_by_nine_is_identity(void **state)
{
	(void)state;
	RUN(0x81, F_CF, 0xb1, 0x09, 0xd2, 0xd0);             /* mov cl, 9; rcl al, cl */
	h_run(&h, 2);
	assert_int_equal(h.st.gpr[CPU_EAX] & 0xff, 0x81);
	assert_true(h.st.eflags & F_CF);
}

static void test_div_by_zero_raises_de_at_the_instruction(void **state)
{
	(void)state;
	RUN(5, 0, 0x31, 0xc9, 0xf7, 0xf1);                   /* xor ecx, ecx; div ecx */
	assert_int_equal(h_run(&h, 2), EXC_DE);
	assert_int_equal(h.st.eip, H_CODE + 2);
	assert_int_equal(h.st.gpr[CPU_EAX], 5);
}

static void test_idiv_overflow_raises_de(void **state)
{
	(void)state;
	/* edx:eax = -2^31, ecx = -1: the quotient 2^31 does not fit */
	RUN(0x80000000u, 0, 0xba, 0xff, 0xff, 0xff, 0xff, 0xb9, 0xff, 0xff, 0xff, 0xff, 0xf7, 0xf9);
	assert_int_equal(h_run(&h, 3), EXC_DE);
	assert_int_equal(h.st.eip, H_CODE + 10);
}

static void test_div_byte_quotient_overflow_raises_de(void **state)
{
	(void)state;
	RUN(0x1000, 0, 0xb1, 0x10, 0xf6, 0xf1);              /* mov cl, 16; div cl */
	assert_int_equal(h_run(&h, 2), EXC_DE);
}

static void test_daa_after_bcd_add(void **state)
{
	(void)state;
	RUN(0x79, 0, 0x04, 0x35, 0x27);                      /* add al, 0x35; daa */
	h_run(&h, 2);
	assert_int_equal(h.st.gpr[CPU_EAX] & 0xff, 0x14);   /* 79 + 35 = 114 */
	assert_true(h.st.eflags & F_CF);
}

static void test_das_keeps_borrow_of_low_digit(void **state)
{
	(void)state;
	RUN(0x05, F_AF, 0x2f);                                 /* das with AL=05, AF=1 */
	h_run(&h, 1);
	assert_int_equal(h.st.gpr[CPU_EAX] & 0xff, 0xff);
	assert_true(h.st.eflags & F_CF);
}

static void test_aaa_carries_into_ah(void **state)
{
	(void)state;
	RUN(0x0009, 0, 0x04, 0x03, 0x37);                    /* add al, 3; aaa */
	h_run(&h, 2);
	assert_int_equal(h.st.gpr[CPU_EAX] & 0xffff, 0x0102);
	assert_int_equal(h.st.eflags & (F_CF | F_AF), F_CF | F_AF);
}

static void test_aam_zero_raises_de(void **state)
{
	(void)state;
	RUN(0x55, 0, 0xd4, 0x00);
	assert_int_equal(h_run(&h, 1), EXC_DE);
}

static void test_adc_carry_chain(void **state)
{
	(void)state;
	/* stc; mov eax,-1; adc eax,0 -> 0, CF=1, ZF=1 */
	RUN(0, 0, 0xf9, 0xb8, 0xff, 0xff, 0xff, 0xff, 0x83, 0xd0, 0x00);
	h_run(&h, 3);
	assert_int_equal(h.st.gpr[CPU_EAX], 0);
	assert_int_equal(h.st.eflags & (F_CF | F_ZF | F_OF), F_CF | F_ZF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shl_by_zero_changes_nothing),
		cmocka_unit_test(test_shl_by_one_sets_of_from_msb_xor_cf),
		cmocka_unit_test(test_shr_by_n_puts_last_bit_out_in_cf),
		cmocka_unit_test(test_sar_keeps_sign),
		cmocka_unit_test(test_rol_by_one_sets_cf_and_of),
		cmocka_unit_test(test_rcr_by_one_rotates_cf_in),
		cmocka_unit_test(test_rcl_byte_by_nine_is_identity),
		cmocka_unit_test(test_div_by_zero_raises_de_at_the_instruction),
		cmocka_unit_test(test_idiv_overflow_raises_de),
		cmocka_unit_test(test_div_byte_quotient_overflow_raises_de),
		cmocka_unit_test(test_daa_after_bcd_add),
		cmocka_unit_test(test_das_keeps_borrow_of_low_digit),
		cmocka_unit_test(test_aaa_carries_into_ah),
		cmocka_unit_test(test_aam_zero_raises_de),
		cmocka_unit_test(test_adc_carry_chain),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
