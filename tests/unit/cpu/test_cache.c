/* Unit tests for vmcore/cpu/cache.c and exec_fast.c: decoded blocks see
 * self-modifying code (a store into the next instruction of the running
 * block, a REP MOVS over cached code, a store through a second linear
 * mapping of the code page, DMA via invalidate_code), faults inside a block
 * restart at the right instruction with exact counts, the budget stops
 * a block at the exact instruction, a link into another code page is
 * followed only while the TLB still maps that page to the same frame, and
 * the newer record kinds (DIV, XCHG, LEAVE, REP MOVS, CMOV, IMUL, moffs)
 * fault mid-block and compute like the host. */
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

static void test_divide_error_inside_a_block_restarts_at_the_div(void **state)
{
	(void)state;
	static const uint8_t code[] = {
		0xb8, 0x05, 0, 0, 0,    /* mov eax, 5 */
		0x31, 0xd2,             /* xor edx, edx */
		0x31, 0xc9,             /* xor ecx, ecx */
		0xf7, 0xf1,             /* div ecx: #DE */
		0x40, 0xf4,
	};
	put(H_CODE, code, sizeof(code));
	uint64_t n0 = insns();
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_INTERNAL);
	assert_int_equal(cpu_interp_last_exception(h.c, NULL), EXC_DE);
	assert_int_equal(h.st.eip, H_CODE + 9);
	assert_int_equal(h.st.gpr[CPU_EAX], 5);
	assert_int_equal(insns() - n0, 3);
}

/* XCHG with memory and LEAVE in the middle of a block fault with the
 * registers untouched (memory write / stack read before any commit). */
static void test_xchg_and_leave_fault_inside_a_block_change_nothing(void **state)
{
	(void)state;
	static const uint8_t code[] = {
		0x40,                               /* inc eax */
		0x2e, 0x87, 0x05, 0x00, 0x30, 0, 0, /* xchg cs:[0x3000], eax: #GP (write via CS) */
		0xf4,
	};
	put(H_CODE, code, sizeof(code));
	h_get(&h)->gpr[CPU_EAX] = 7;
	h_put(&h);
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_INTERNAL);
	assert_int_equal(cpu_interp_last_exception(h.c, NULL), EXC_GP);
	assert_int_equal(h.st.eip, H_CODE + 1);
	assert_int_equal(h.st.gpr[CPU_EAX], 8);
	assert_int_equal(h_r32(&h, 0x3000), 0);

	static const uint8_t code2[] = {
		0x40,       /* inc eax */
		0xc9,       /* leave: EBP past the end of RAM, the read fails with #PF */
		0xf4,
	};
	/* paging with only the first 4 MiB mapped */
	for (uint32_t k = 0; k < 1024; k++)
		h_w32(&h, PT + k * 4, (k << 12) | 7);
	h_w32(&h, PD, PT | 7);
	put(0x5000, code2, sizeof(code2));
	h_get(&h)->cr3 = PD;
	h.st.cr0 = CR0_PE | CR0_PG | CR0_ET;
	h.st.gpr[CPU_EBP] = 0x800000;
	h.st.gpr[CPU_ESP] = 0x7000;
	h_put(&h);
	assert_int_equal(run_at(0x5000, 100), CPU_EXIT_INTERNAL);
	assert_int_equal(cpu_interp_last_exception(h.c, NULL), EXC_PF);
	assert_int_equal(h.st.eip, 0x5001);
	assert_int_equal(h.st.gpr[CPU_ESP], 0x7000);
	assert_int_equal(h.st.gpr[CPU_EBP], 0x800000);
	assert_int_equal(h.st.cr2, 0x800000);
}

/* REP MOVSD from a mapped page into one that is not present: it copies up
 * to the page end, then faults with ECX/ESI/EDI giving the remaining work;
 * after the page is mapped the same instruction finishes the copy. */
static void test_rep_movs_faulting_at_a_page_boundary_resumes(void **state)
{
	(void)state;
	for (uint32_t k = 0; k < 1024; k++)
		h_w32(&h, PT + k * 4, (k << 12) | 7);
	h_w32(&h, PT + 0x21 * 4, 0);                  /* 0x21000 not present */
	h_w32(&h, PD, PT | 7);
	for (uint32_t k = 0; k < 64; k++)
		h_w32(&h, 0x30000 + k * 4, 0x1000 + k);
	static const uint8_t code[] = {
		0xfc,                       /* cld */
		0xb9, 0x40, 0, 0, 0,        /* mov ecx, 64 */
		0xbe, 0x00, 0x00, 0x03, 0,  /* mov esi, 0x30000 */
		0xbf, 0xe0, 0x0f, 0x02, 0,  /* mov edi, 0x20fe0 (8 dwords before the gap) */
		0xf3, 0xa5,                 /* rep movsd */
		0xf4,
	};
	put(H_CODE, code, sizeof(code));
	h_get(&h)->cr3 = PD;
	h.st.cr0 = CR0_PE | CR0_PG | CR0_ET;
	h_put(&h);
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_INTERNAL);
	assert_int_equal(cpu_interp_last_exception(h.c, NULL), EXC_PF);
	assert_int_equal(h.st.eip, H_CODE + 16);
	assert_int_equal(h.st.cr2, 0x21000);
	assert_int_equal(h.st.gpr[CPU_ECX], 56);
	assert_int_equal(h.st.gpr[CPU_ESI], 0x30020);
	assert_int_equal(h.st.gpr[CPU_EDI], 0x21000);
	assert_int_equal(h_r32(&h, 0x20ffc), 0x1007);
	h_w32(&h, PT + 0x21 * 4, 0x21000 | 7);
	h_put(&h);   /* set_state flushes the TLB */
	assert_int_equal(run_at(H_CODE + 16, 100), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.gpr[CPU_ECX], 0);
	for (uint32_t k = 0; k < 64; k++)
		assert_int_equal(h_r32(&h, 0x20fe0 + k * 4), 0x1000 + k);
}

/* REP STOS/MOVS go in bulk per page once the TLB holds the pages; the
 * result must equal the element-by-element order: a STOSD spanning pages
 * from a misaligned start, a MOVSB onto itself shifted by one (replicates
 * the first byte), a MOVSD with the destination below the source. */
static void test_rep_string_bulk_matches_element_order(void **state)
{
	(void)state;
	for (uint32_t k = 0; k < 256; k++)
		h.ram[0x40000 + k] = (uint8_t)(k + 1);
	for (uint32_t k = 0; k < 64; k++)
		h_w32(&h, 0x50000 + 4 * k, 0xa0000000u + k);
	static const uint8_t code[] = {
		0xfc,                           /* cld */
		0xb8, 0x44, 0x33, 0x22, 0x11,   /* mov eax, 0x11223344 */
		0xbf, 0xf2, 0x0f, 0x02, 0x00,   /* mov edi, 0x20ff2 */
		0xb9, 0x06, 0x04, 0x00, 0x00,   /* mov ecx, 1030 */
		0xf3, 0xab,                     /* rep stosd */
		0xbe, 0x00, 0x00, 0x04, 0x00,   /* mov esi, 0x40000 */
		0xbf, 0x01, 0x00, 0x04, 0x00,   /* mov edi, 0x40001 */
		0xb9, 0x64, 0x00, 0x00, 0x00,   /* mov ecx, 100 */
		0xf3, 0xa4,                     /* rep movsb: replicates byte 1 */
		0xbe, 0x10, 0x00, 0x05, 0x00,   /* mov esi, 0x50010 */
		0xbf, 0x00, 0x00, 0x05, 0x00,   /* mov edi, 0x50000 */
		0xb9, 0x3c, 0x00, 0x00, 0x00,   /* mov ecx, 60 */
		0xf3, 0xa5,                     /* rep movsd: shifts down by 4 dwords */
		0xf4,
	};
	put(H_CODE, code, sizeof(code));
	assert_int_equal(run_at(H_CODE, 1000), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.gpr[CPU_ECX], 0);
	assert_int_equal(h.st.gpr[CPU_EDI], 0x50000 + 60 * 4);
	assert_int_equal(h.ram[0x20ff1], 0);
	for (uint32_t k = 0; k < 1030; k++)
		assert_int_equal(h_r32(&h, 0x20ff2 + 4 * k), 0x11223344);
	assert_int_equal(h.ram[0x20ff2 + 4 * 1030], 0);
	for (uint32_t k = 0; k <= 100; k++)
		assert_int_equal(h.ram[0x40000 + k], 1);
	assert_int_equal(h.ram[0x40000 + 101], 102);
	for (uint32_t k = 0; k < 60; k++)
		assert_int_equal(h_r32(&h, 0x50000 + 4 * k), 0xa0000000u + k + 4);
	for (uint32_t k = 60; k < 64; k++)
		assert_int_equal(h_r32(&h, 0x50000 + 4 * k), 0xa0000000u + k);
}

/* A block of CMOVcc, IMUL (three forms), moffs loads/stores, CDQ, IDIV,
 * BSWAP, SHLD, NEG, NOT and XCHG, checked against the host. */
static void test_mixed_records_compute_like_the_host(void **state)
{
	(void)state;
	static const uint8_t code[] = {
		0xb8, 0x39, 0x30, 0x00, 0x00,   /* mov eax, 12345 */
		0xbb, 0xf9, 0xff, 0xff, 0xff,   /* mov ebx, -7 */
		0x0f, 0xaf, 0xc3,               /* imul eax, ebx */
		0x6b, 0xc8, 0x03,               /* imul ecx, eax, 3 */
		0x69, 0xd1, 0x10, 0x27, 0, 0,   /* imul edx, ecx, 10000 */
		0xa3, 0x00, 0x40, 0, 0,         /* mov [0x4000], eax */
		0x39, 0xd9,                     /* cmp ecx, ebx */
		0x0f, 0x4c, 0xf1,               /* cmovl esi, ecx */
		0x0f, 0x4f, 0xfb,               /* cmovg edi, ebx (not taken) */
		0x89, 0xd0,                     /* mov eax, edx */
		0x99,                           /* cdq */
		0xbd, 0x0d, 0, 0, 0,            /* mov ebp, 13 */
		0xf7, 0xfd,                     /* idiv ebp */
		0x0f, 0xc8,                     /* bswap eax */
		0x0f, 0xa4, 0xd0, 0x05,         /* shld eax, edx, 5 */
		0xf7, 0xda,                     /* neg edx */
		0xf7, 0xd3,                     /* not ebx */
		0x87, 0x1d, 0x00, 0x40, 0, 0,   /* xchg [0x4000], ebx */
		0xa0, 0x00, 0x40, 0, 0,         /* mov al, [0x4000] */
		0xf4,
	};
	put(H_CODE, code, sizeof(code));
	h_get(&h)->gpr[CPU_ESI] = 0x11;
	h.st.gpr[CPU_EDI] = 0x22;
	h_put(&h);
	assert_int_equal(run_at(H_CODE, 100), CPU_EXIT_HLT_DEAD);
	int32_t a = 12345 * -7, cx = a * 3, dx = (int32_t)((uint32_t)cx * 10000u);
	int32_t q = dx / 13, r = dx % 13;
	uint32_t bs = __builtin_bswap32((uint32_t)q);
	uint32_t shld = (bs << 5) | ((uint32_t)r >> 27);
	assert_int_equal(h.st.gpr[CPU_ECX], (uint32_t)cx);
	assert_int_equal(h.st.gpr[CPU_ESI], (uint32_t)cx);   /* cx < -7: moved */
	assert_int_equal(h.st.gpr[CPU_EDI], 0x22);
	assert_int_equal(h.st.gpr[CPU_EDX], (uint32_t)-r);
	assert_int_equal(h.st.gpr[CPU_EBX], (uint32_t)a);    /* from memory */
	assert_int_equal(h_r32(&h, 0x4000), ~(uint32_t)-7);
	assert_int_equal(h.st.gpr[CPU_EAX], (shld & ~0xffu) | (~(uint32_t)-7 & 0xff));
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
		cmocka_unit_test_setup_teardown(test_divide_error_inside_a_block_restarts_at_the_div, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_xchg_and_leave_fault_inside_a_block_change_nothing, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_rep_movs_faulting_at_a_page_boundary_resumes, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_records_compute_like_the_host, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_rep_string_bulk_matches_element_order, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_budget_stops_inside_a_block, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_loop_of_cached_blocks_computes_like_the_host, setup32, teardown),
		cmocka_unit_test_setup_teardown(test_real_mode_block_keeps_upper_halves, setup16, teardown),
		cmocka_unit_test_setup_teardown(test_real_mode_ip_wraps_at_64k_after_a_block, setup16, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
