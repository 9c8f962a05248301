/* Unit tests for vmcore/cpu/exec_0f.c and cpuid_msr.c/fpu.c: CMPXCHG8B,
 * CMPXCHG, XADD, CPUID feature bits, MSRs, and #UD/#NM for what is not
 * implemented. */
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

static int run(const uint8_t *code, size_t n, uint64_t insns)
{
	h_code(&h, code, n);
	h_get(&h)->eip = H_CODE;
	h_put(&h);
	return h_run(&h, insns);
}

static void set_regs(uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	struct cpu_state *st = h_get(&h);
	st->gpr[CPU_EAX] = eax;
	st->gpr[CPU_EBX] = ebx;
	st->gpr[CPU_ECX] = ecx;
	st->gpr[CPU_EDX] = edx;
	h_put(&h);
}

static const uint8_t cmpxchg8b[] = { 0x0f, 0xc7, 0x0d, 0x00, 0x30, 0x00, 0x00 };   /* cmpxchg8b [0x3000] */

static void test_cmpxchg8b_equal_stores_ecx_ebx(void **state)
{
	(void)state;
	h_w32(&h, 0x3000, 0x11111111);
	h_w32(&h, 0x3004, 0x22222222);
	set_regs(0x11111111, 0xaaaaaaaa, 0xbbbbbbbb, 0x22222222);
	assert_int_equal(run(cmpxchg8b, sizeof(cmpxchg8b), 1), -1);
	assert_int_equal(h_r32(&h, 0x3000), 0xaaaaaaaa);
	assert_int_equal(h_r32(&h, 0x3004), 0xbbbbbbbb);
	assert_true(h.st.eflags & F_ZF);
}

static void test_cmpxchg8b_unequal_loads_edx_eax(void **state)
{
	(void)state;
	h_w32(&h, 0x3000, 0x33333333);
	h_w32(&h, 0x3004, 0x44444444);
	set_regs(0x11111111, 0xaaaaaaaa, 0xbbbbbbbb, 0x22222222);
	assert_int_equal(run(cmpxchg8b, sizeof(cmpxchg8b), 1), -1);
	assert_int_equal(h.st.gpr[CPU_EAX], 0x33333333);
	assert_int_equal(h.st.gpr[CPU_EDX], 0x44444444);
	assert_int_equal(h_r32(&h, 0x3000), 0x33333333);
	assert_false(h.st.eflags & F_ZF);
}

static void test_cmpxchg8b_register_form_is_ud(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0x0f, 0xc7, 0xc8 };
	assert_int_equal(run(code, sizeof(code), 1), EXC_UD);
}

static void test_xadd_exchanges_and_adds(void **state)
{
	(void)state;
	h_w32(&h, 0x3000, 5);
	set_regs(0, 0, 7, 0);
	static const uint8_t code[] = { 0x0f, 0xc1, 0x0d, 0x00, 0x30, 0x00, 0x00 };   /* xadd [0x3000], ecx */
	assert_int_equal(run(code, sizeof(code), 1), -1);
	assert_int_equal(h_r32(&h, 0x3000), 12);
	assert_int_equal(h.st.gpr[CPU_ECX], 5);
}

static void test_cpuid_advertises_what_is_implemented(void **state)
{
	(void)state;
	set_regs(1, 0, 0, 0);
	static const uint8_t code[] = { 0x0f, 0xa2 };
	assert_int_equal(run(code, sizeof(code), 1), -1);
	uint32_t edx = h.st.gpr[CPU_EDX];
	assert_true(edx & (1u << 8));     /* CX8 */
	assert_true(edx & (1u << 15));    /* CMOV */
	assert_true(edx & (1u << 4));     /* TSC */
	assert_false(edx & (1u << 9));    /* no APIC */
	assert_false(edx & (1u << 11));   /* no SEP */
	assert_false(edx & (1u << 24));   /* no FXSR */
	assert_int_equal(!!(edx & 1u), fpu_implemented);
}

static void test_unknown_msr_is_gp(void **state)
{
	(void)state;
	set_regs(0, 0, 0xc0000080u, 0);   /* EFER does not exist on this CPU */
	static const uint8_t code[] = { 0x0f, 0x32 };
	assert_int_equal(run(code, sizeof(code), 1), EXC_GP);
}

static void test_sysenter_msrs_round_trip(void **state)
{
	(void)state;
	set_regs(0xc0de, 0, 0x175, 0);
	static const uint8_t code[] = { 0x0f, 0x30, 0x31, 0xc0, 0x0f, 0x32 };   /* wrmsr; xor eax,eax; rdmsr */
	assert_int_equal(run(code, sizeof(code), 3), -1);
	assert_int_equal(h.st.gpr[CPU_EAX], 0xc0de);
}

static void test_ud2_and_unimplemented_x87_are_ud(void **state)
{
	(void)state;
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	assert_int_equal(run(ud2, sizeof(ud2), 1), EXC_UD);
	if (fpu_implemented)
		return;
	static const uint8_t fld1[] = { 0xd9, 0xe8 };
	assert_int_equal(run(fld1, sizeof(fld1), 1), EXC_UD);
	h_get(&h)->cr0 |= CR0_EM;
	h_put(&h);
	assert_int_equal(run(fld1, sizeof(fld1), 1), EXC_NM);
	h_get(&h)->cr0 &= ~CR0_EM;
	h_put(&h);
}

static void test_rdtsc_is_monotonic(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0x0f, 0x31, 0x89, 0xc3, 0x0f, 0x31 };   /* rdtsc; mov ebx,eax; rdtsc */
	assert_int_equal(run(code, sizeof(code), 3), -1);
	assert_true(h.st.gpr[CPU_EAX] > h.st.gpr[CPU_EBX]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmpxchg8b_equal_stores_ecx_ebx),
		cmocka_unit_test(test_cmpxchg8b_unequal_loads_edx_eax),
		cmocka_unit_test(test_cmpxchg8b_register_form_is_ud),
		cmocka_unit_test(test_xadd_exchanges_and_adds),
		cmocka_unit_test(test_cpuid_advertises_what_is_implemented),
		cmocka_unit_test(test_unknown_msr_is_gp),
		cmocka_unit_test(test_sysenter_msrs_round_trip),
		cmocka_unit_test(test_ud2_and_unimplemented_x87_are_ud),
		cmocka_unit_test(test_rdtsc_is_monotonic),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
