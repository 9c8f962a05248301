/* Unit tests for vmcore/cpu/seg.c: limit and type checks of non-flat
 * segments, the checks of MOV Sreg, real-mode segment bases. */
#include "tests/unit/cpu/gdt.h"

static struct harness h;

static int setup(void **state)
{
	(void)state;
	h_init(&h, true);
	gdt_setup(&h);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_free(&h);
	return 0;
}

static int run(const uint8_t *code, size_t n, uint64_t insns)
{
	h_code(&h, code, n);
	enter_ring(&h, 0);
	struct cpu_state *st = h_get(&h);
	st->eip = H_CODE;
	st->gpr[CPU_ESP] = 0x8000;
	h_put(&h);
	return h_run(&h, insns);
}

/* mov ax, SEL; mov ds, ax */
#define LOAD_DS(sel) 0x66, 0xb8, (sel) & 0xff, (sel) >> 8, 0x8e, 0xd8

static void test_read_past_byte_granular_limit_is_gp(void **state)
{
	(void)state;
	h_w32(&h, 0x2ffc, 0xfeedf00d);
	static const uint8_t ok[] = { LOAD_DS(SEL_SMALL), 0xa1, 0xfc, 0x0f, 0, 0 };   /* mov eax, [0xffc] */
	assert_int_equal(run(ok, sizeof(ok), 3), -1);
	assert_int_equal(h.st.gpr[CPU_EAX], 0xfeedf00d);                               /* base 0x2000 */
	static const uint8_t bad[] = { LOAD_DS(SEL_SMALL), 0xa1, 0xfe, 0x0f, 0, 0 };  /* mov eax, [0xffe] */
	assert_int_equal(run(bad, sizeof(bad), 3), EXC_GP);
	assert_int_equal(h_errcode(&h), 0);
	assert_int_equal(h.st.eip, H_CODE + 6);
}

static void test_push_past_stack_limit_is_ss(void **state)
{
	(void)state;
	/* mov ax, SEL_SMALL; mov ss, ax; mov esp, 0x2000; push eax */
	static const uint8_t code[] = { 0x66, 0xb8, SEL_SMALL, 0, 0x8e, 0xd0, 0xbc, 0x00, 0x20, 0, 0, 0x50 };
	assert_int_equal(run(code, sizeof(code), 4), EXC_SS);
	assert_int_equal(h_errcode(&h), 0);
	assert_int_equal(h.st.gpr[CPU_ESP], 0x2000);   /* unchanged by the faulting push */
}

static void test_write_to_read_only_segment_is_gp(void **state)
{
	(void)state;
	static const uint8_t code[] = { LOAD_DS(SEL_RO), 0xa3, 0x00, 0x01, 0, 0 };   /* mov [0x100], eax */
	assert_int_equal(run(code, sizeof(code), 3), EXC_GP);
}

static void test_selector_outside_gdt_is_gp_with_selector(void **state)
{
	(void)state;
	static const uint8_t code[] = { LOAD_DS(0x1000) };
	assert_int_equal(run(code, sizeof(code), 2), EXC_GP);
	assert_int_equal(h_errcode(&h), 0x1000);
}

static void test_ss_with_other_dpl_is_gp(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0x66, 0xb8, SEL_DATA3, 0, 0x8e, 0xd0 };   /* mov ss, 0x23 */
	assert_int_equal(run(code, sizeof(code), 2), EXC_GP);
	assert_int_equal(h_errcode(&h), SEL_DATA3 & ~3);
}

static void test_access_through_null_ds_is_gp(void **state)
{
	(void)state;
	static const uint8_t code[] = { LOAD_DS(0), 0xa1, 0, 0, 0, 0 };
	assert_int_equal(run(code, sizeof(code), 3), EXC_GP);
	assert_int_equal(h.st.eip, H_CODE + 6);   /* the load itself is allowed */
}

static void test_load_sets_accessed_bit(void **state)
{
	(void)state;
	gdt_set(&h, 6, 0x20000fff, 0x00409200);   /* not accessed yet */
	static const uint8_t code[] = { LOAD_DS(SEL_SMALL) };
	assert_int_equal(run(code, sizeof(code), 2), -1);
	assert_true(h_r32(&h, GDT + 6 * 8 + 4) & 0x100);
}

static void test_real_mode_base_is_selector_times_16(void **state)
{
	(void)state;
	struct harness r;
	h_init(&r, false);
	h_w32(&r, 0x1010, 0x1234abcd);
	/* mov ax, 0x100; mov ds, ax; mov eax, [0x10] (16-bit code) */
	static const uint8_t code[] = { 0xb8, 0x00, 0x01, 0x8e, 0xd8, 0x66, 0xa1, 0x10, 0x00 };
	h_code(&r, code, sizeof(code));
	assert_int_equal(h_run(&r, 3), -1);
	assert_int_equal(r.st.gpr[CPU_EAX], 0x1234abcd);
	assert_int_equal(r.st.seg[CPU_SEG_DS].base, 0x1000);
	h_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_past_byte_granular_limit_is_gp),
		cmocka_unit_test(test_push_past_stack_limit_is_ss),
		cmocka_unit_test(test_write_to_read_only_segment_is_gp),
		cmocka_unit_test(test_selector_outside_gdt_is_gp_with_selector),
		cmocka_unit_test(test_ss_with_other_dpl_is_gp),
		cmocka_unit_test(test_access_through_null_ds_is_gp),
		cmocka_unit_test(test_load_sets_accessed_bit),
		cmocka_unit_test(test_real_mode_base_is_selector_times_16),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
