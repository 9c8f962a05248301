/* Unit tests for vmcore/cpu/cache.c and exec_fast.c: decoded blocks see
 * self-modifying code (a store into the next instruction of the running
 * block, a REP MOVS over cached code, a store through a second linear
 * mapping of the code page, DMA via invalidate_code), faults inside a block
 * restart at the right instruction with exact counts, the budget stops
 * a block at the exact instruction, and a link into another code page is
 * followed only while the TLB still maps that page to the same frame. */
#include "tests/unit/cpu/harness.h"

#define PD 0x10000u
#define PT 0x11000u
#define PT2 0x12000u

static struct harness h;

static int setup32(void **state)
{
	(void)state;
	h_init(&h, true);
	return 0;
}

static int setup16(void **state)
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

static uint64_t insns(void)
{
	struct cpu_stats st;
	cpu_interp_ops.get_stats(h.c, &st);
	return st.instructions;
}

static enum cpu_exit_reason run_at(uint32_t eip, uint64_t budget)
{
	struct havm_err err;
	h_get(&h)->eip = eip;
	h.st.halted = 0;
	h_put(&h);
	enum cpu_exit_reason why = cpu_interp_ops.run(h.c, budget, &err);
	h_get(&h);
	return why;
}

static void put(uint32_t at, const uint8_t *b, size_t n)
{
	memcpy(h.ram + at, b, n);
	cpu_interp_ops.invalidate_code(h.c, at, (uint32_t)n);
}

static void test_store_into_next_instruction_runs_the_new_code(void **state)
{
	(void)state;
	static const uint8_t code[] = {
		0xc6, 0x05, 0x07, 0x10, 0x00, 0x00, 0x40,   /* mov byte [0x1007], 0x40 (inc eax) */
		0x41,                                       /* inc ecx: replaced before it runs */
		0xf4,
	};
	put(H_CODE, code, sizeof(code));
	/* cache the block first, with the original byte, from its second instruction */
	assert_int_equal(run_at(H_CODE + 7, 100), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.gpr[CPU_ECX], 1);
	h.st.gpr[CPU_ECX] = 0;
	h_put(&h);
	uint64_t n0 = insns();
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.gpr[CPU_EAX], 1);
	assert_int_equal(h.st.gpr[CPU_ECX], 0);
	assert_int_equal(insns() - n0, 3);
	assert_int_equal(h.st.eip, H_CODE + 9);
}

static void test_rep_movs_over_cached_code_is_seen(void **state)
{
	(void)state;
	static const uint8_t target[] = { 0x41, 0xf4 };   /* inc ecx; hlt */
	static const uint8_t fresh[] = { 0x40, 0xf4 };    /* inc eax; hlt */
	static const uint8_t code[] = {
		0xbe, 0x00, 0x30, 0x00, 0x00,   /* mov esi, 0x3000 */
		0xbf, 0x20, 0x10, 0x00, 0x00,   /* mov edi, 0x1020 */
		0xb9, 0x02, 0x00, 0x00, 0x00,   /* mov ecx, 2 */
		0xf3, 0xa4,                     /* rep movsb */
		0xeb, 0x0d,                     /* jmp 0x1020 */
	};
	put(H_CODE, code, sizeof(code));
	put(0x1020, target, sizeof(target));
	put(0x3000, fresh, sizeof(fresh));
	assert_int_equal(run_at(0x1020, 100), CPU_EXIT_HLT_DEAD);   /* cached */
	assert_int_equal(h.st.gpr[CPU_ECX], 1);
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.gpr[CPU_EAX], 1);
	assert_int_equal(h.st.gpr[CPU_ECX], 0);
	assert_int_equal(h.ram[0x1020], 0x40);
}

static void test_store_through_an_alias_mapping_is_seen(void **state)
{
	(void)state;
	/* identity-map 0-4 MiB; map linear 0x400000 to the code page too */
	for (uint32_t k = 0; k < 1024; k++)
		h_w32(&h, PT + k * 4, (k << 12) | 7);
	h_w32(&h, PT2, H_CODE | 7);
	h_w32(&h, PD, PT | 7);
	h_w32(&h, PD + 4, PT2 | 7);
	h_get(&h)->cr3 = PD;
	h.st.cr0 = CR0_PE | CR0_PG | CR0_ET;
	h_put(&h);
	static const uint8_t warm[] = { 0xc6, 0x05, 0x00, 0x01, 0x40, 0x00, 0x00, 0xf4 };   /* mov byte [0x400100], 0 */
	static const uint8_t code[] = {
		0xc6, 0x05, 0x07, 0x00, 0x40, 0x00, 0x40,   /* mov byte [0x400007], 0x40 */
		0x41, 0xf4,
	};
	put(0x2000, warm, sizeof(warm));
	put(H_CODE, code, sizeof(code));
	/* a TLB write tag for the alias exists before the page holds code */
	assert_int_equal(run_at(0x2000, 100), CPU_EXIT_HLT_DEAD);
	assert_int_equal(run_at(H_CODE + 7, 100), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.gpr[CPU_ECX], 1);
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.gpr[CPU_EAX], 1);
	assert_int_equal(h.st.gpr[CPU_ECX], 1);
}

static void test_cross_page_link_follows_a_remapped_page(void **state)
{
	(void)state;
	for (uint32_t k = 0; k < 1024; k++)
		h_w32(&h, PT + k * 4, (k << 12) | 7);
	h_w32(&h, PT2, 0x3000 | 7);        /* linear 0x400000 -> frame 0x3000 */
	h_w32(&h, PD, PT | 7);
	h_w32(&h, PD + 4, PT2 | 7);
	h_get(&h)->cr3 = PD;
	h.st.cr0 = CR0_PE | CR0_PG | CR0_ET;
	h_put(&h);
	static const uint8_t inc1[] = { 0x83, 0xc0, 0x01, 0xc3 };      /* add eax, 1; ret */
	static const uint8_t inc16[] = { 0x83, 0xc0, 0x10, 0xc3 };     /* add eax, 0x10; ret */
	static const uint8_t code[] = {
		0xb8, 0, 0, 0, 0,                       /* mov eax, 0 */
		0xe8, 0xf6, 0xef, 0x3f, 0x00,           /* call 0x400000 (links to frame 0x3000) */
		0xe8, 0xf1, 0xef, 0x3f, 0x00,           /* call 0x400000 (the same link, valid) */
		0xc7, 0x05, 0x00, 0x20, 0x01, 0x00, 0x07, 0x40, 0x00, 0x00, /* mov dword [PT2], 0x4007 */
		0x0f, 0x01, 0x3d, 0x00, 0x00, 0x40, 0x00, /* invlpg [0x400000] */
		0xe8, 0xdb, 0xef, 0x3f, 0x00,           /* call 0x400000 (now frame 0x4000) */
		0xf4,
	};
	put(0x3000, inc1, sizeof(inc1));
	put(0x4000, inc16, sizeof(inc16));
	put(H_CODE, code, sizeof(code));
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.gpr[CPU_EAX], 0x12);
	assert_int_equal(h.st.eip, H_CODE + sizeof(code));
	/* run it again from cached blocks: the links now point at the remapped
	 * page's block, the first two calls must go back to frame 0x3000 */
	h_w32(&h, PT2, 0x3000 | 7);
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.gpr[CPU_EAX], 0x12);
}

static void test_invalidate_code_drops_cached_blocks(void **state)
{
	(void)state;
	static const uint8_t a[] = { 0x41, 0x41, 0xf4 };
	static const uint8_t b[] = { 0x40, 0x40, 0xf4 };
	put(H_CODE, a, sizeof(a));
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.gpr[CPU_ECX], 2);
	put(H_CODE, b, sizeof(b));   /* "DMA" */
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.gpr[CPU_EAX], 2);
	assert_int_equal(h.st.gpr[CPU_ECX], 2);
}

static void test_fault_inside_a_block_restarts_at_the_instruction(void **state)
{
	(void)state;
	static const uint8_t code[] = {
		0x40, 0x40,                                 /* inc eax x2 */
		0x2e, 0x89, 0x05, 0x00, 0x30, 0x00, 0x00,   /* mov cs:[0x3000], eax: #GP */
		0xf4,
	};
	put(H_CODE, code, sizeof(code));
	h_get(&h)->gpr[CPU_ESP] = 0x8000;
	h_put(&h);
	uint64_t n0 = insns();
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_INTERNAL);
	assert_int_equal(cpu_interp_last_exception(h.c, NULL), EXC_GP);
	assert_int_equal(h.st.eip, H_CODE + 2);
	assert_int_equal(h.st.gpr[CPU_EAX], 2);
	assert_int_equal(h.st.gpr[CPU_ESP], 0x8000);
	assert_int_equal(insns() - n0, 2);
}

static void test_budget_stops_inside_a_block(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0x40, 0x40, 0x40, 0x40, 0x40, 0xf4 };
	put(H_CODE, code, sizeof(code));
	uint64_t n0 = insns();
	assert_int_equal(run_at(H_CODE, 3), CPU_EXIT_BUDGET);
	assert_int_equal(h.st.eip, H_CODE + 3);
	assert_int_equal(h.st.gpr[CPU_EAX], 3);
	assert_int_equal(insns() - n0, 3);
	struct havm_err err;
	assert_int_equal(cpu_interp_ops.run(h.c, 100, &err), CPU_EXIT_HLT_DEAD);
	h_get(&h);
	assert_int_equal(h.st.gpr[CPU_EAX], 5);
	assert_int_equal(insns() - n0, 6);
}

static void test_loop_of_cached_blocks_computes_like_the_host(void **state)
{
	(void)state;
	static const uint8_t code[] = {
		0xb9, 0xe8, 0x03, 0x00, 0x00,   /* mov ecx, 1000 */
		0x31, 0xc0,                     /* xor eax, eax */
		0x01, 0xc8,                     /* l: add eax, ecx */
		0x83, 0xf0, 0x55,               /* xor eax, 0x55 */
		0x49,                           /* dec ecx */
		0x75, 0xf8,                     /* jnz l */
		0xf4,
	};
	put(H_CODE, code, sizeof(code));
	uint64_t n0 = insns();
	assert_int_equal(run_at(H_CODE, 100000), CPU_EXIT_HLT_DEAD);
	uint32_t eax = 0;
	for (uint32_t ecx = 1000; ecx; ecx--)
		eax = (eax + ecx) ^ 0x55;
	assert_int_equal(h.st.gpr[CPU_EAX], eax);
	assert_int_equal(insns() - n0, 2 + 4 * 1000 + 1);
}

static void test_real_mode_block_keeps_upper_halves(void **state)
{
	(void)state;
	static const uint8_t code[] = {
		0xb8, 0x34, 0x12,   /* mov ax, 0x1234 */
		0x05, 0x01, 0x00,   /* add ax, 1 */
		0x89, 0xc3,         /* mov bx, ax */
		0x43,               /* inc bx */
		0xf4,
	};
	put(H_CODE, code, sizeof(code));
	h_get(&h)->gpr[CPU_EAX] = 0xaaaa0000u;
	h.st.gpr[CPU_EBX] = 0xbbbb0000u;
	h_put(&h);
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.gpr[CPU_EAX], 0xaaaa1235u);
	assert_int_equal(h.st.gpr[CPU_EBX], 0xbbbb1236u);
}

static void test_real_mode_ip_wraps_at_64k_after_a_block(void **state)
{
	(void)state;
	static const uint8_t incs[] = { 0x40, 0x40 };   /* inc ax x2 at IP 0xfffe */
	static const uint8_t hlt[] = { 0xf4 };         /* at IP 0 */
	h_get(&h)->seg[CPU_SEG_CS].selector = 0x100;
	h.st.seg[CPU_SEG_CS].base = 0x1000;
	h.st.gpr[CPU_EAX] = 0;
	h_put(&h);
	put(0x1000 + 0xfffe, incs, sizeof(incs));
	put(0x1000, hlt, sizeof(hlt));
	assert_int_equal(run_at(0xfffe, 2), CPU_EXIT_BUDGET);
	assert_int_equal(h.st.eip, 0);
	assert_int_equal(h.st.gpr[CPU_EAX], 2);
	struct havm_err err;
	assert_int_equal(cpu_interp_ops.run(h.c, 10, &err), CPU_EXIT_HLT_DEAD);
	h_get(&h);
	assert_int_equal(h.st.eip, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_into_next_instruction_runs_the_new_code, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_rep_movs_over_cached_code_is_seen, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_store_through_an_alias_mapping_is_seen, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_cross_page_link_follows_a_remapped_page, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_invalidate_code_drops_cached_blocks, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_fault_inside_a_block_restarts_at_the_instruction, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_budget_stops_inside_a_block, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_loop_of_cached_blocks_computes_like_the_host, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_real_mode_block_keeps_upper_halves, setup16, teardown),
		cmocka_unit_test_setup_teardown(test_real_mode_ip_wraps_at_64k_after_a_block, setup16, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
