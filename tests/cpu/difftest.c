/* tests/cpu — differential tester: runs random instruction sequences in our
 * interpreter and in unicorn (QEMU's CPU as a library) from identical
 * state, one instruction at a time, and compares GPRs, EIP, EFLAGS (minus
 * the flags the SDM leaves undefined for that instruction), exceptions and
 * every memory page either side wrote.
 *
 *   cpu_difftest [--seed N] [--count N] [--mode 16|32|both] [--max-report N]
 *
 * Prints TAP: one line per mode. On a mismatch it prints the seed, the
 * case, the instruction bytes and both states; the sides are then
 * re-synchronised and the run continues. Cases where an address falls
 * outside the mapped 4 MiB are counted as skipped, not compared. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unicorn/unicorn.h>

#include "tests/cpu/difftest.h"
#include "vmcore/cpu/cpu_int.h"

#define MEM_SIZE 0x200000u
#define NPAGES (MEM_SIZE >> 12)
/* Code lives away from where random addresses land: writes into the code
 * page make unicorn retranslate mid-sequence, and its flags go wrong then. */
#define CODE32 0x1f0000u
#define CS16 0x3000u
#define CODE16 0x1000u
#define SEQ_MAX 8

static const int uc_gpr[8] = { UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
			       UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI };
static const int uc_seg[6] = { UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS, UC_X86_REG_DS,
			       UC_X86_REG_FS, UC_X86_REG_GS };

struct tester {
	bool mode32;
	uc_engine *uc;
	struct cpu *cpu;
	uint8_t *ram;
	uint8_t *ucram;      /* unicorn's RAM, mapped with uc_mem_map_ptr */
	uc_context *fresh;   /* unicorn's CPU as set up, to forget exception state */
	int uc_intno;
	bool our_unmapped;
	uint64_t compared, skipped, excluded, mismatches, cases;
	unsigned max_report;
	bool trace;          /* DIFFTEST_TRACE=1: print every step */
};

struct regs {
	uint32_t gpr[8], eip, eflags;
};

static uint32_t bus_mmio_read(void *opaque, uint32_t addr, unsigned size)
{
	(void)addr;
	(void)size;
	((struct tester *)opaque)->our_unmapped = true;
	return 0;
}

static void bus_mmio_write(void *opaque, uint32_t addr, unsigned size, uint32_t v)
{
	(void)addr;
	(void)size;
	(void)v;
	((struct tester *)opaque)->our_unmapped = true;
}

/* No uc_emu_stop() here: stopping from inside the hook leaves unicorn's
 * exception state half-done, and the next exception comes out as #DF or
 * not at all. The instruction count of 1 ends the run anyway. */
static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	(void)uc;
	struct tester *t = user;
	if (t->uc_intno < 0)
		t->uc_intno = (int)intno;
}

static void uc_get(struct tester *t, struct regs *r)
{
	for (int i = 0; i < 8; i++)
		uc_reg_read(t->uc, uc_gpr[i], &r->gpr[i]);
	uc_reg_read(t->uc, UC_X86_REG_EIP, &r->eip);
	uc_reg_read(t->uc, UC_X86_REG_EFLAGS, &r->eflags);
	if (!t->mode32)
		if (r->eip >= CS16 << 4)   /* unicorn reports the linear PC after a counted run */
			r->eip -= CS16 << 4;
}

static void our_get(struct tester *t, struct regs *r)
{
	struct cpu_state st;
	cpu_interp_ops.get_state(t->cpu, &st);
	memcpy(r->gpr, st.gpr, sizeof(r->gpr));
	r->eip = st.eip;
	r->eflags = st.eflags;
}

static void our_put(struct tester *t, const struct regs *r)
{
	struct cpu_state st;
	cpu_interp_ops.get_state(t->cpu, &st);
	memcpy(st.gpr, r->gpr, sizeof(r->gpr));
	st.eip = r->eip;
	st.eflags = r->eflags;
	cpu_interp_ops.set_state(t->cpu, &st);
}

static void uc_put(struct tester *t, const struct regs *r)
{
	for (int i = 0; i < 8; i++)
		uc_reg_write(t->uc, uc_gpr[i], &r->gpr[i]);
	uc_reg_write(t->uc, UC_X86_REG_EIP, &r->eip);
	uc_reg_write(t->uc, UC_X86_REG_EFLAGS, &r->eflags);
}

static int setup(struct tester *t, uint64_t *rng)
{
	if (uc_open(UC_ARCH_X86, t->mode32 ? UC_MODE_32 : UC_MODE_16, &t->uc) != UC_ERR_OK)
		return -1;
	t->ram = aligned_alloc(4096, MEM_SIZE);
	t->ucram = aligned_alloc(4096, MEM_SIZE);
	if (!t->ram || !t->ucram)
		return -1;
	/* No UC_HOOK_MEM_WRITE: with one installed, unicorn 2.0.1 leaves stale
	 * flags after memory-destination shifts. Its RAM is ours to read. */
	if (uc_mem_map_ptr(t->uc, 0, MEM_SIZE, UC_PROT_ALL, t->ucram) != UC_ERR_OK)
		return -1;
	for (uint32_t i = 0; i < MEM_SIZE; i += 8) {
		uint64_t v = rng_next(rng);
		memcpy(t->ram + i, &v, 8);
	}
	memcpy(t->ucram, t->ram, MEM_SIZE);
	uc_hook h1;
	uc_hook_add(t->uc, &h1, UC_HOOK_INTR, (void *)hook_intr, t, 1, 0);

	static struct cpu_bus bus;
	bus = (struct cpu_bus){ .opaque = t, .mmio_read = bus_mmio_read, .mmio_write = bus_mmio_write };
	struct cpu_config cfg = { .bus = &bus };
	if (cpu_interp_ops.create(&cfg, &t->cpu, NULL) < 0)
		return -1;
	if (cpu_interp_ops.add_ram(t->cpu, 0, MEM_SIZE, t->ram) < 0)
		return -1;
	cpu_interp_trap_exceptions(t->cpu, true);
	struct cpu_state st;
	cpu_interp_ops.get_state(t->cpu, &st);
	for (int s = 0; s < CPU_SEG_COUNT; s++) {
		struct cpu_segment *sg = &st.seg[s];
		*sg = (struct cpu_segment){ .base = 0, .limit = t->mode32 ? 0xffffffffu : 0xffff,
					    .type = s == CPU_SEG_CS ? 0xb : 0x3, .present = 1, .s = 1,
					    .db = t->mode32, .g = t->mode32 };
	}
	if (t->mode32) {
		st.cr0 = 0x11;   /* PE, like unicorn's 32-bit mode */
	} else {
		uint32_t cs = CS16;
		uc_reg_write(t->uc, UC_X86_REG_CS, &cs);
		st.seg[CPU_SEG_CS].selector = CS16;
		st.seg[CPU_SEG_CS].base = CS16 << 4;
	}
	cpu_interp_ops.set_state(t->cpu, &st);
	if (uc_context_alloc(t->uc, &t->fresh) != UC_ERR_OK || uc_context_save(t->uc, t->fresh) != UC_ERR_OK)
		return -1;
	return 0;
}

/* Real mode: random data segments, the same in both. */
static void set_segs16(struct tester *t, uint64_t *rng)
{
	struct cpu_state st;
	cpu_interp_ops.get_state(t->cpu, &st);
	for (int s = 0; s < CPU_SEG_COUNT; s++) {
		if (s == CPU_SEG_CS)
			continue;
		uint32_t sel = (uint32_t)(rng_next(rng) % 0x2000);   /* below the code */
		st.seg[s].selector = (uint16_t)sel;
		st.seg[s].base = sel << 4;
		uc_reg_write(t->uc, uc_seg[s], &sel);
	}
	cpu_interp_ops.set_state(t->cpu, &st);
}

static uint32_t rnd_value(uint64_t *rng)
{
	uint64_t r = rng_next(rng);
	switch (r % 5) {
	case 0: return 0x10000 + (uint32_t)((r >> 8) % 0x20000);
	case 1: return (uint32_t)((r >> 8) % 0x100);
	case 2: return 0xffffff00u | (uint32_t)((r >> 8) & 0xff);
	case 3: return (uint32_t)(r >> 32) & 0x8000ffffu;
	default: return (uint32_t)(r >> 16);
	}
}

static void print_regs(const char *who, const struct regs *r)
{
	printf("#   %-6s eax=%08x ecx=%08x edx=%08x ebx=%08x esp=%08x ebp=%08x esi=%08x edi=%08x eip=%08x efl=%08x\n",
	       who, r->gpr[0], r->gpr[1], r->gpr[2], r->gpr[3], r->gpr[4], r->gpr[5], r->gpr[6], r->gpr[7],
	       r->eip, r->eflags);
}

static int64_t compare_page(struct tester *t, uint32_t p)
{
	const uint8_t *theirs = t->ucram + ((size_t)p << 12);
	uint8_t *mine = t->ram + ((size_t)p << 12);
	if (memcmp(theirs, mine, 4096) == 0)
		return -1;
	int64_t first = -1;
	for (unsigned i = 0; i < 4096 && first < 0; i++)
		if (theirs[i] != mine[i])
			first = ((int64_t)p << 12) + i;
	memcpy(mine, theirs, 4096);   /* resynchronise */
	cpu_interp_ops.invalidate_code(t->cpu, p << 12, 4096);
	return first;
}

/* Compares the pages we wrote (or, with @all, every page); copies
 * unicorn's bytes over ours where they differ. Returns the first differing
 * address or -1. */
static int64_t compare_memory(struct tester *t, bool all)
{
	uint64_t ours[NPAGES / 64];
	cpu_interp_ops.dirty_log(t->cpu, ours, NPAGES, true);
	int64_t first = -1;
	for (uint32_t w = 0; w < NPAGES / 64; w++) {
		uint64_t bits = all ? ~0ull : ours[w];
		while (bits) {
			uint32_t p = w * 64 + (uint32_t)__builtin_ctzll(bits);
			bits &= bits - 1;
			int64_t a = compare_page(t, p);
			if (first < 0)
				first = a;
		}
	}
	return first;
}

static unsigned shift_count(const struct gen_insn *g, const struct regs *pre)
{
	switch (g->op) {
	case 0xd0: case 0xd1: return 1;
	case 0xd2: case 0xd3: case 0x0fa5: case 0x0fad: return pre->gpr[CPU_ECX] & 0xff;
	default: return g->imm;
	}
}

/* Executes one instruction on both sides; returns false when the case
 * should stop (branch taken, exception, skipped). */
static bool step(struct tester *t, const struct gen_insn *g, uint32_t at, uint64_t seed, uint64_t ncase)
{
	struct regs pre, ur, or_;
	our_get(t, &pre);
	if (t->trace) {   /* check the sides are in sync before the step */
		const uint8_t *all = t->ucram;
		for (uint32_t i = 0; i < MEM_SIZE; i++)
			if (all[i] != t->ram[i]) {
				printf("# DESYNC before step at %08x: unicorn %02x ours %02x\n", i, all[i], t->ram[i]);
				break;
			}
	}
	/* 16-bit SHLD/SHRD with a count above 16 has an undefined result */
	if ((g->op & 0xfff6) == 0x0fa4) {   /* a4 a5 ac ad */
		if (!g->o32 && (shift_count(g, &pre) & 0x1f) > 16)
			return false;
	}
	t->uc_intno = -1;
	t->our_unmapped = false;
	struct havm_err err;
	enum cpu_exit_reason why = cpu_interp_ops.run(t->cpu, 1, &err);
	int our_exc = why == CPU_EXIT_INTERNAL ? cpu_interp_last_exception(t->cpu, NULL) : -1;
	cpu_interp_trap_exceptions(t->cpu, true);
	if (t->trace) {
		printf("# exec:");
		for (unsigned i = 0; i < g->len; i++)
			printf(" %02x", g->bytes[i]);
		printf("\n");
	}
	/* Always a counted run: switching between counted and uncounted runs
	 * makes unicorn flush its whole translation cache each time. A REP
	 * counts one per iteration, so it runs until the next instruction. */
	uc_err ue;
	if (g->rep)
		ue = uc_emu_start(t->uc, at, at + g->len, 0, 1000);
	else
		ue = uc_emu_start(t->uc, at, 0xffffffffu, 0, 1);
	uc_get(t, &ur);
	if (ue == UC_ERR_OK && t->uc_intno < 0 && !memcmp(&ur, &pre, sizeof(ur))) {
		/* unicorn sometimes returns at once, executing nothing (a stop
		 * request left over from an earlier exception hook): retry */
		if (g->rep)
			ue = uc_emu_start(t->uc, at, at + g->len, 0, 1000);
		else
			ue = uc_emu_start(t->uc, at, 0xffffffffu, 0, 1);
	}
	int uc_exc = t->uc_intno;
	if (ue == UC_ERR_INSN_INVALID)
		uc_exc = EXC_UD;
	bool uc_unmapped = ue == UC_ERR_READ_UNMAPPED || ue == UC_ERR_WRITE_UNMAPPED || ue == UC_ERR_FETCH_UNMAPPED;
	uc_get(t, &ur);
	our_get(t, &or_);
	/* Writes into the code page (self-modifying code) are not compared:
	 * unicorn's counted runs retranslate and stop without progress then. */
	uint64_t dl[NPAGES / 64];
	cpu_interp_ops.dirty_log(t->cpu, dl, NPAGES, false);
	uint32_t cpage = (t->mode32 ? CODE32 : (CS16 << 4) + CODE16) >> 12;
	bool smc = (dl[cpage / 64] >> (cpage % 64)) & 1;
	/* A store of unchanged bytes into the code page (RCR by 0, ARPL with
	 * no change) is not one for us, but QEMU still stores, retranslates
	 * and stalls: unicorn made no progress while we did. */
	if (ue == UC_ERR_OK && uc_exc < 0 && !memcmp(&ur, &pre, sizeof(ur)) && or_.eip != pre.eip)
		smc = true;
	if (uc_unmapped || t->our_unmapped || smc) {
		t->skipped++;
		/* resync registers and memory (unicorn may have written part of
		 * it before faulting) and abandon the case */
		compare_memory(t, true);
		our_put(t, &pre);
		uc_put(t, &pre);
		return false;
	}
	/* Exclusion: QEMU does not check segment types on data accesses, so a
	 * write through CS (a code segment) succeeds there; the SDM says #GP. */
	/* Exclusion: QEMU does not check segment limits either, so in real
	 * mode a word access at offset 0xffff wraps there; the SDM says #GP
	 * (#SS for the stack). */
	bool qemu_no_seg_checks = (t->mode32 && g->cs_override && our_exc == EXC_GP) ||
				  (!t->mode32 && (our_exc == EXC_GP || our_exc == EXC_SS));
	if (qemu_no_seg_checks && (uc_exc < 0 || !t->mode32) && uc_exc != our_exc) {
		t->excluded++;
		compare_memory(t, true);
		our_put(t, &ur);
		return false;
	}
	t->compared++;
	char why_s[160] = "";
	uint32_t undef = gen_undef_flags(g, shift_count(g, &pre));
	if (uc_exc != our_exc) {
		snprintf(why_s, sizeof(why_s), "exception: unicorn %d, ours %d (uc_err %d)", uc_exc, our_exc, ue);
	} else if (our_exc < 0) {
		for (int i = 0; i < 8 && !why_s[0]; i++)
			if (ur.gpr[i] != or_.gpr[i])
				snprintf(why_s, sizeof(why_s), "gpr %d: unicorn %08x, ours %08x", i, ur.gpr[i], or_.gpr[i]);
		if (!why_s[0] && ur.eip != or_.eip)
			snprintf(why_s, sizeof(why_s), "eip: unicorn %08x, ours %08x", ur.eip, or_.eip);
		uint32_t cmpmask = 0x00270fd5u & ~undef;
		if (!why_s[0] && ((ur.eflags ^ or_.eflags) & cmpmask))
			snprintf(why_s, sizeof(why_s), "eflags: unicorn %08x, ours %08x (differ %08x, undefined %08x)",
				 ur.eflags, or_.eflags, (ur.eflags ^ or_.eflags) & cmpmask, undef);
	}
	int64_t maddr = compare_memory(t, false);
	if (!why_s[0] && maddr >= 0)
		snprintf(why_s, sizeof(why_s), "memory differs at %08" PRIx64, (uint64_t)maddr);
	if (why_s[0] || t->trace) {
		if (why_s[0])
			t->mismatches++;
		if (t->mismatches <= t->max_report || t->trace) {
			printf("# %s %d-bit seed=%" PRIu64 " case=%" PRIu64 ": %s\n#   bytes:",
			       why_s[0] ? "MISMATCH" : "step", t->mode32 ? 32 : 16, seed, ncase, why_s);
			for (unsigned i = 0; i < g->len; i++)
				printf(" %02x", g->bytes[i]);
			printf("\n");
			print_regs("before", &pre);
			print_regs("unicorn", &ur);
			print_regs("ours", &or_);
		}
	}
	/* continue from unicorn's state, so undefined flags agree */
	our_put(t, &ur);
	if (uc_exc >= 0) {
		/* Unicorn never delivers the exception, so it stays "in progress":
		 * the next one would come out as #DF, and the one after not at
		 * all. Start its CPU afresh (the case ends here anyway). */
		uc_context_restore(t->uc, t->fresh);
	}
	if (uc_exc >= 0 || our_exc >= 0)
		return false;
	return ur.eip == pre.eip + g->len;
}

static void run_case(struct tester *t, uint64_t *rng, uint64_t seed, uint64_t ncase, uint64_t *budget)
{
	struct gen_insn seq[SEQ_MAX];
	unsigned n = 1 + (unsigned)(rng_next(rng) % SEQ_MAX);
	uint8_t code[SEQ_MAX * 16 + 16];
	unsigned len = 0, start[SEQ_MAX + 1];
	for (unsigned i = 0; i < n; i++) {
		gen_insn(rng, &seq[i], t->mode32);
		start[i] = len;
		len += seq[i].len;
	}
	start[n] = len;
	/* Branch targets must be instruction starts or the HLT padding:
	 * unicorn translates the target block, and some random byte strings
	 * abort it ("tcg fatal error"). */
	for (unsigned i = 0; i < n; i++) {
		struct gen_insn *g = &seq[i];
		bool direct = is_near_branch(g) && g->op != 0xc2 && g->op != 0xc3 && g->op != 0xff;
		if (direct) {
			unsigned next = start[i] + g->len;
			uint32_t target = rng_next(rng) % 2 ? start[rng_next(rng) % (n + 1)] : len + (uint32_t)(rng_next(rng) % 16);
			int32_t disp = (int32_t)target - (int32_t)next;
			if (g->immsz == 1 && (disp < -128 || disp > 127))
				disp = 0;
			for (unsigned b = 0; b < g->immsz; b++)
				g->bytes[g->len - g->immsz + b] = (uint8_t)((uint32_t)disp >> (8 * b));
		}
		memcpy(code + start[i], g->bytes, g->len);
	}
	uint32_t eip0 = t->mode32 ? CODE32 : CODE16;
	uint32_t lin0 = t->mode32 ? CODE32 : (CS16 << 4) + CODE16;
	/* HLTs after the sequence end unicorn's translation block there, so
	 * stale bytes from earlier cases are never translated */
	memset(code + len, 0xf4, sizeof(code) - len);
	memcpy(t->ram + lin0, code, sizeof(code));
	memcpy(t->ucram + lin0, code, sizeof(code));
	if (t->trace) {
		printf("# case %" PRIu64 ":", ncase);
		for (unsigned i = 0; i < len; i++)
			printf(" %02x", code[i]);
		printf("\n");
	}
	/* unicorn 2.0 keeps stale translations of rewritten code otherwise */
	uc_ctl_remove_cache(t->uc, lin0, lin0 + sizeof(code));
	cpu_interp_ops.invalidate_code(t->cpu, lin0, len);
	if (!t->mode32)
		set_segs16(t, rng);
	struct regs r;
	for (int i = 0; i < 8; i++)
		r.gpr[i] = rnd_value(rng);
	r.gpr[CPU_ESP] = t->mode32 ? 0x20000 + (uint32_t)(rng_next(rng) % 0x8000) * 4
				   : (uint32_t)(rng_next(rng) & 0xffff0ffeu) | 0x8000;
	r.eip = eip0;
	r.eflags = 0x2 | ((uint32_t)rng_next(rng) & (F_ARITH | F_DF));
	our_put(t, &r);
	uc_put(t, &r);
	compare_memory(t, false);   /* clear our dirty set */
	t->cases++;
	uint32_t at = lin0;
	for (unsigned i = 0; i < n && *budget; i++) {
		if (seq[i].string) {
			/* keep string operands inside RAM and REP counts small */
			our_get(t, &r);
			r.gpr[CPU_ESI] = t->mode32 ? 0x10000 + (uint32_t)(rng_next(rng) % 0x20000) : r.gpr[CPU_ESI];
			r.gpr[CPU_EDI] = t->mode32 ? 0x10000 + (uint32_t)(rng_next(rng) % 0x20000) : r.gpr[CPU_EDI];
			r.gpr[CPU_ECX] = (seq[i].a32 ? 0 : r.gpr[CPU_ECX] & 0xffff0000u) | (uint32_t)(rng_next(rng) % 8);
			our_put(t, &r);
			uc_put(t, &r);
		}
		if (seq[i].op == 0xc2 || seq[i].op == 0xc3 || seq[i].op == 0xff) {
			/* aim returns and indirect branches at the padding or an
			 * instruction of the sequence */
			uint32_t target = eip0 + (rng_next(rng) % 2 ? start[rng_next(rng) % (n + 1)]
							      : len + (uint32_t)(rng_next(rng) % 16));
			our_get(t, &r);
			if (seq[i].op == 0xff && seq[i].reg != 0 && seq[i].reg != 1 && seq[i].reg != 6) {
				r.gpr[seq[i].rm] = target;
				our_put(t, &r);
				uc_put(t, &r);
			} else if (seq[i].op != 0xff) {
				struct cpu_state st;
				cpu_interp_ops.get_state(t->cpu, &st);
				uint32_t sp = t->mode32 ? r.gpr[CPU_ESP] : st.seg[CPU_SEG_SS].base + (r.gpr[CPU_ESP] & 0xffff);
				if (sp <= MEM_SIZE - 4) {   /* (sp + 4 could wrap) */
					memcpy(t->ram + sp, &target, seq[i].o32 ? 4 : 2);
					memcpy(t->ucram + sp, &target, seq[i].o32 ? 4 : 2);
				}
			}
		}
		(*budget)--;
		if (!step(t, &seq[i], at, seed, ncase))
			break;
		at += seq[i].len;
	}
}

static int run_mode(bool mode32, uint64_t seed, uint64_t count, unsigned max_report, int tapno)
{
	struct tester t = { .mode32 = mode32, .max_report = max_report, .trace = getenv("DIFFTEST_TRACE") != NULL };
	uint64_t rng = seed ^ (mode32 ? 0x32 : 0x16);
	if (setup(&t, &rng) < 0) {
		printf("not ok %d - %d-bit: cannot set up unicorn or the interpreter\n", tapno, mode32 ? 32 : 16);
		return 1;
	}
	uint64_t budget = count, ncase = 0;
	while (budget) {
		run_case(&t, &rng, seed, ncase++, &budget);
		/* catch writes only unicorn made (a full compare is costly, so
		 * every 64 cases) */
		int64_t a = (ncase % 64 == 0 || !budget) ? compare_memory(&t, true) : -1;
		if (a >= 0) {
			t.mismatches++;
			if (t.mismatches <= t.max_report)
				printf("# MISMATCH %d-bit seed=%" PRIu64 " cases %" PRIu64 "-%" PRIu64
				       ": unicorn wrote %08" PRIx64 " and we did not\n",
				       mode32 ? 32 : 16, seed, ncase > 64 ? ncase - 64 : 0, ncase - 1, (uint64_t)a);
		}
	}
	bool good = t.mismatches == 0 && t.compared >= count / 2;
	printf("%s %d - %d-bit: %" PRIu64 " instructions compared (%" PRIu64 " cases, %" PRIu64
	       " skipped out of RAM, %" PRIu64 " excluded), %" PRIu64 " mismatches, seed %" PRIu64 "\n",
	       good ? "ok" : "not ok", tapno, mode32 ? 32 : 16, t.compared, t.cases, t.skipped, t.excluded,
	       t.mismatches, seed);
	cpu_interp_ops.free(t.cpu);
	uc_context_free(t.fresh);
	uc_close(t.uc);
	free(t.ram);
	free(t.ucram);
	return good ? 0 : 1;
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, count = 100000;
	unsigned max_report = 10;
	int modes = 3;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--count")) count = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--max-report")) max_report = (unsigned)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--mode")) modes = !strcmp(argv[i + 1], "16") ? 1 : !strcmp(argv[i + 1], "32") ? 2 : 3;
		else {
			fprintf(stderr, "usage: %s [--seed N] [--count N] [--mode 16|32|both] [--max-report N]\n", argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);   /* keep the log when unicorn aborts */
	int fails = 0, n = 0;
	if (modes & 1)
		fails += run_mode(false, seed, count, max_report, ++n);
	if (modes & 2)
		fails += run_mode(true, seed, count, max_report, ++n);
	printf("1..%d\n", n);
	return fails ? 1 : 0;
}
