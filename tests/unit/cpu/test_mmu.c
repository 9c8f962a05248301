/* Unit tests for vmcore/cpu/mmu.c: page faults (error code, CR2, restart),
 * CR0.WP, user/supervisor, accessed/dirty bits, INVLPG, 4 MiB pages and the
 * dirty bitmap. */
#include "tests/unit/cpu/harness.h"

#define PD 0x10000u
#define PT 0x11000u
#define P 1u
#define W 2u
#define U 4u

static struct harness h;

static uint32_t pte(uint32_t lin)
{
	return h_r32(&h, PT + ((lin >> 12) & 0x3ff) * 4);
}

static void set_pte(uint32_t lin, uint32_t v)
{
	h_w32(&h, PT + ((lin >> 12) & 0x3ff) * 4, v);
}

static int setup(void **state)
{
	(void)state;
	h_init(&h, true);
	for (uint32_t i = 0; i < 1024; i++)
		h_w32(&h, PT + i * 4, (i << 12) | P | W | U);
	h_w32(&h, PD, PT | P | W | U);
	set_pte(0x200000, 0);                 /* not present */
	set_pte(0x201000, 0x201000 | P);      /* read-only, supervisor */
	set_pte(0x203000, 0x203000 | P | W);  /* supervisor only */
	h_get(&h)->cr3 = PD;
	h.st.cr0 = CR0_PE | CR0_PG | CR0_ET;
	h_put(&h);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_free(&h);
	return 0;
}

static int run_code(const uint8_t *code, size_t n, uint64_t insns)
{
	h_code(&h, code, n);
	h_get(&h)->eip = H_CODE;
	h_put(&h);
	return h_run(&h, insns);
}

static void test_read_of_absent_page_faults_with_cr2(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0xa1, 0x10, 0x00, 0x20, 0x00 };   /* mov eax, [0x200010] */
	assert_int_equal(run_code(code, sizeof(code), 1), EXC_PF);
	assert_int_equal(h_errcode(&h), 0);
	assert_int_equal(h.st.cr2, 0x200010);
	assert_int_equal(h.st.eip, H_CODE);   /* restartable */
}

static void test_write_of_absent_page_sets_w_bit(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0xa3, 0x20, 0x00, 0x20, 0x00 };   /* mov [0x200020], eax */
	assert_int_equal(run_code(code, sizeof(code), 1), EXC_PF);
	assert_int_equal(h_errcode(&h), 2);
	assert_int_equal(h.st.cr2, 0x200020);
}

static void test_supervisor_write_to_readonly_obeys_wp(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0xa3, 0x00, 0x10, 0x20, 0x00 };   /* mov [0x201000], eax */
	h_get(&h)->gpr[CPU_EAX] = 0xabcd;
	h_put(&h);
	assert_int_equal(run_code(code, sizeof(code), 1), -1);            /* WP=0: allowed */
	assert_int_equal(h_r32(&h, 0x201000), 0xabcd);
	h_get(&h)->cr0 |= CR0_WP;
	h_put(&h);
	assert_int_equal(run_code(code, sizeof(code), 1), EXC_PF);
	assert_int_equal(h_errcode(&h), 3);                                /* P | W */
	h_get(&h)->cr0 &= ~CR0_WP;
	h_put(&h);
}

static void test_user_read_of_supervisor_page_faults(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0xa1, 0x00, 0x30, 0x20, 0x00 };   /* mov eax, [0x203000] */
	h_code(&h, code, sizeof(code));
	struct cpu_state *st = h_get(&h);
	st->seg[CPU_SEG_CS] = h_flat(0xb, 3, 0x1b);
	st->seg[CPU_SEG_SS] = h_flat(0x3, 3, 0x23);
	st->seg[CPU_SEG_DS] = h_flat(0x3, 3, 0x23);
	st->eip = H_CODE;
	h_put(&h);
	assert_int_equal(h_run(&h, 1), EXC_PF);
	assert_int_equal(h_errcode(&h), 5);                                /* P | U */
	/* back to ring 0 for the other tests */
	st = h_get(&h);
	st->seg[CPU_SEG_CS] = h_flat(0xb, 0, 0x08);
	st->seg[CPU_SEG_SS] = h_flat(0x3, 0, 0x10);
	st->seg[CPU_SEG_DS] = h_flat(0x3, 0, 0x10);
	h_put(&h);
}

static void test_accessed_and_dirty_bits(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0xa3, 0x00, 0x40, 0x20, 0x00,      /* mov [0x204000], eax */
					0xa1, 0x00, 0x50, 0x20, 0x00 };    /* mov eax, [0x205000] */
	assert_int_equal(run_code(code, sizeof(code), 2), -1);
	assert_int_equal(pte(0x204000) & 0x60, 0x60);
	assert_int_equal(pte(0x205000) & 0x60, 0x20);
	assert_true(h_r32(&h, PD) & 0x20);
}

static void test_invlpg_drops_a_stale_translation(void **state)
{
	(void)state;
	h_w32(&h, 0x300000, 0x11111111);
	h_w32(&h, 0x301000, 0x22222222);
	set_pte(0x206000, 0x300000 | P | W);
	static const uint8_t rd[] = { 0xa1, 0x00, 0x60, 0x20, 0x00 };      /* mov eax, [0x206000] */
	run_code(rd, sizeof(rd), 1);
	assert_int_equal(h.st.gpr[CPU_EAX], 0x11111111);
	set_pte(0x206000, 0x301000 | P | W);
	static const uint8_t inv[] = { 0x0f, 0x01, 0x3d, 0x00, 0x60, 0x20, 0x00,   /* invlpg [0x206000] */
				       0xa1, 0x00, 0x60, 0x20, 0x00 };
	assert_int_equal(run_code(inv, sizeof(inv), 2), -1);
	assert_int_equal(h.st.gpr[CPU_EAX], 0x22222222);
}

static void test_4mib_page_with_pse(void **state)
{
	(void)state;
	h_w32(&h, PD + 4, 0x000000 | 0x80 | P | W);   /* 4 MiB at lin 0x400000 -> phys 0 */
	h_w32(&h, 0x2000, 0x5a5a5a5a);
	h_get(&h)->cr4 = CR4_PSE;
	h_put(&h);
	static const uint8_t code[] = { 0xa1, 0x00, 0x20, 0x40, 0x00 };   /* mov eax, [0x402000] */
	assert_int_equal(run_code(code, sizeof(code), 1), -1);
	assert_int_equal(h.st.gpr[CPU_EAX], 0x5a5a5a5a);
	assert_true(h_r32(&h, PD + 4) & 0x20);
}

/* INVLPG of one address of a 4 MiB page drops every 4 KiB granule the
 * TLB holds of it (not just the one of that address). */
static void test_invlpg_in_a_4mib_page_drops_all_its_granules(void **state)
{
	(void)state;
	h_w32(&h, PD + 4, 0x000000 | 0x80 | P | W);   /* 4 MiB at lin 0x400000 -> phys 0 */
	h_w32(&h, 0x2000, 0x5a5a5a5a);
	h_w32(&h, 0x3000, 0x6b6b6b6b);
	h_get(&h)->cr4 = CR4_PSE;
	h_put(&h);
	/* in one run: cache two granules, unmap the 4 MiB page, INVLPG its
	 * first byte; the other granule must be gone too */
	static const uint8_t code[] = {
		0xa1, 0x00, 0x20, 0x40, 0x00,                               /* mov eax, [0x402000] */
		0x8b, 0x0d, 0x00, 0x30, 0x40, 0x00,                         /* mov ecx, [0x403000] */
		0xc7, 0x05, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, /* mov dword [PD+4], 0 */
		0x0f, 0x01, 0x3d, 0x00, 0x00, 0x40, 0x00,                   /* invlpg [0x400000] */
		0x8b, 0x0d, 0x00, 0x30, 0x40, 0x00,                         /* mov ecx, [0x403000] */
	};
	assert_int_equal(run_code(code, sizeof(code), 5), EXC_PF);
	assert_int_equal(h.st.gpr[CPU_EAX], 0x5a5a5a5a);
	assert_int_equal(h.st.gpr[CPU_ECX], 0x6b6b6b6b);
	assert_int_equal(h.st.cr2, 0x403000);
	assert_int_equal(h.st.eip, H_CODE + 28);
}

static void test_dirty_log_has_written_pages_only(void **state)
{
	(void)state;
	uint64_t bm[H_RAM / 4096 / 64];
	cpu_interp_ops.dirty_log(h.c, bm, H_RAM / 4096, true);   /* clear */
	static const uint8_t code[] = { 0xa3, 0x00, 0x70, 0x20, 0x00,      /* mov [0x207000], eax */
					0xa1, 0x00, 0x80, 0x20, 0x00 };    /* mov eax, [0x208000] */
	assert_int_equal(run_code(code, sizeof(code), 2), -1);
	cpu_interp_ops.dirty_log(h.c, bm, H_RAM / 4096, false);
	assert_true((bm[0x207 / 64] >> (0x207 % 64)) & 1);
	assert_false((bm[0x208 / 64] >> (0x208 % 64)) & 1);
	assert_false((bm[1 / 64] >> 1) & 1);   /* the code page was only read */
	/* after a clear, the next write to the same page is seen again */
	cpu_interp_ops.dirty_log(h.c, bm, H_RAM / 4096, true);
	assert_int_equal(run_code(code, 5, 1), -1);
	cpu_interp_ops.dirty_log(h.c, bm, H_RAM / 4096, false);
	assert_true((bm[0x207 / 64] >> (0x207 % 64)) & 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_of_absent_page_faults_with_cr2),
		cmocka_unit_test(test_write_of_absent_page_sets_w_bit),
		cmocka_unit_test(test_supervisor_write_to_readonly_obeys_wp),
		cmocka_unit_test(test_user_read_of_supervisor_page_faults),
		cmocka_unit_test(test_accessed_and_dirty_bits),
		cmocka_unit_test(test_invlpg_drops_a_stale_translation),
		cmocka_unit_test(test_invlpg_in_a_4mib_page_drops_all_its_granules),
		cmocka_unit_test(test_4mib_page_with_pse),
		cmocka_unit_test(test_dirty_log_has_written_pages_only),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
