/* vmcore/cpu — private state of the interpreter, shared by its files.
 *
 * Layout of the work: interp.c runs the loop and owns the ops table;
 * cache.c keeps decoded blocks per physical page and exec_fast.c decodes
 * and runs their records; exec_*.c execute instructions; decode.c reads prefixes/ModRM; flags.c
 * computes lazy flags; mmu.c translates linear addresses through a software
 * TLB holding host pointers; seg.c loads segment registers; except.c raises
 * and delivers exceptions and interrupts.
 *
 * Exceptions unwind with longjmp to the run loop, which restores EIP and ESP
 * to the start of the faulting instruction, so every instruction must do its
 * memory accesses (which may fault) before it commits register state other
 * than ESP. */
#ifndef HAVM_VMCORE_CPU_CPU_INT_H
#define HAVM_VMCORE_CPU_CPU_INT_H

#include <setjmp.h>
#include <stdatomic.h>
#include <string.h>

#include "vmcore/cpu/cpu.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define NORETURN    __attribute__((noreturn))
#define HOT_INLINE  static inline __attribute__((always_inline))

/* EFLAGS bits */
#define F_CF   0x0001u
#define F_PF   0x0004u
#define F_AF   0x0010u
#define F_ZF   0x0040u
#define F_SF   0x0080u
#define F_TF   0x0100u
#define F_IF   0x0200u
#define F_DF   0x0400u
#define F_OF   0x0800u
#define F_IOPL 0x3000u
#define F_NT   0x4000u
#define F_RF   0x10000u
#define F_VM   0x20000u
#define F_AC   0x40000u
#define F_ID   0x200000u
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

#define CR0_PE 0x1u
#define CR0_MP 0x2u
#define CR0_EM 0x4u
#define CR0_TS 0x8u
#define CR0_ET 0x10u
#define CR0_NE 0x20u
#define CR0_WP 0x10000u
#define CR0_AM 0x40000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u
#define CR4_TSD 0x4u
#define CR4_PSE 0x10u

/* Exception vectors */
enum {
	EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
	EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
	EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17,
};

/* Lazy flag producers: the arithmetic flags are computed from the operands
 * and result of the last flag-setting ALU op only when something reads them. */
enum lazy_op { LF_NONE, LF_ADD, LF_SUB, LF_LOGIC, LF_INC, LF_DEC };

#define TLB_BITS 8
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_INVALID 1u   /* never equal to a page-aligned tag */

/* One direct-mapped software TLB entry: linear page -> host pointer. A
 * separate tag for writes means a page whose dirty bit is not yet set in the
 * PTE (or that is read-only) takes the slow path on write. */
struct tlb_entry {
	uint32_t tag_r, tag_w;
	uintptr_t addend;   /* host address = addend + linear address */
};

struct ram_range {
	uint32_t gpa, size;
	uint8_t *host;
};

#define MAX_RAM 8

/* Decoded-instruction cache (cache.c, exec_fast.c; docs/cpu.md "Decoded
 * blocks"). A block is a run of pre-decoded instructions inside one 4 KiB
 * physical page, keyed by (physical address, mode); it ends at a branch,
 * the page end, or an instruction the fast decoder does not know, which is
 * then executed by exec_one() as the block's last record. */
struct cpu;
struct insn;
typedef void (*insn_fn)(struct cpu *c, const struct insn *i);

struct insn {
	insn_fn fn;
	uint32_t imm;       /* immediate, or relative branch displacement */
	uint32_t disp;      /* memory operand: disp + (gpr[base] & bmask) + ((gpr[index] & imask) << scale) */
	uint32_t bmask, imask, eamask;
	uint16_t off;       /* offset from the block's first instruction */
	uint8_t len;        /* 0 for the exec_one() fallback (it fetches itself) */
	uint8_t reg, rm;    /* ModRM fields; reg-reg forms hold dst in reg, src in rm */
	uint8_t base, index, scale;
	uint8_t seg;        /* segment of the memory operand (override applied) */
	uint8_t size;       /* operand size 1/2/4 */
	uint8_t op;         /* ALU op, condition code or opcode */
	bool mem;           /* the r/m operand is in memory */
	bool o32;
	bool end;           /* a branch: ends the block */
	uint8_t kind;       /* INSN_K_*: inlined in the run loop; INSN_K_CALL calls fn */
};

#define BLOCK_MAX_INSNS 32
#define BLOCK_MODE_CODE32 1u
#define BLOCK_MODE_PMODE 2u
#define BLOCK_DEAD 0xffffffffu       /* pa of an invalidated block */

struct block {
	uint32_t pa;                 /* physical address of the first instruction */
	uint8_t mode;                /* BLOCK_MODE_* */
	uint8_t n;                   /* records */
	uint16_t bytes;              /* bytes covered by records with len > 0 */
	struct block *hnext, **hprev; /* hash chain */
	struct block *pnext;         /* blocks of the same physical page */
	struct block *link;          /* the block its branch went to last time (a hint, checked) */
	struct insn insns[];
};

/* The decoded prefix and ModRM state of the current instruction. */
struct dec {
	bool o32, a32;      /* operand and address size are 32 bits */
	int8_t seg;         /* segment override, -1 for none */
	uint8_t rep;        /* 0, 0xf2 or 0xf3 */
	bool lock;
	uint8_t modrm, mod, reg, rm;
	uint8_t easeg;      /* segment of the memory operand */
	uint32_t ea;        /* offset of the memory operand */
};

struct cpu {
	struct cpu_state s;          /* eflags arith bits are stale unless lf_op == LF_NONE */
	const struct cpu_bus *bus;
	uint64_t tsc_hz;

	/* lazy flags */
	uint8_t lf_op, lf_size;
	uint32_t lf_a, lf_b, lf_r;

	/* mode caches, recomputed by cpu_mode_changed() */
	uint8_t cpl;
	bool pmode, paging, code32, stack32;
	bool seg_fast[CPU_SEG_COUNT];  /* flat expand-up writable data: no limit checks
	                                * (never for CS: writes through CS must fault) */

	uint64_t run_left;           /* instructions left in this cpu_run() */

	/* instruction restart point */
	uint32_t insn_eip, insn_esp;
	jmp_buf jmp;
	int exc_vec;                 /* exception being raised */
	uint32_t exc_err;
	bool exc_has_err;
	int delivering;              /* vector being delivered, -1 none */
	bool shutdown;               /* triple fault */
	bool trap_exceptions;        /* test hook: stop instead of delivering */
	int last_exc;
	uint32_t last_exc_err;

	/* memory */
	struct ram_range ram[MAX_RAM];
	int nram;
	uint32_t ram_top;            /* highest end of any RAM range (dirty bitmap size) */
	struct tlb_entry tlb[2][TLB_SIZE];   /* [user][index] */
	bool tlb_large;              /* a 4 MiB page was cached: INVLPG flushes all */
	uint64_t *dirty;             /* 1 bit per 4 KiB page below ram_top */

	/* instruction fetch cache: the current code page */
	uint32_t fetch_lin;          /* linear page of the cached code, or TLB_INVALID */
	const uint8_t *fetch_host;
	uint32_t fetch_pa;           /* its physical page */

	/* decoded-block cache (cache.c) */
	struct block **bhash;        /* BHASH_SIZE chains */
	struct block **code_pages;   /* per physical page below ram_top: its blocks (non-NULL = has code) */
	uint32_t code_npages;
	uint8_t *arena;              /* blocks, bump-allocated; full = flush all */
	size_t arena_used;
	bool blk_abort;              /* code was invalidated: leave the running block */
	uint32_t cache_gen;          /* bumped by every flush (links must not survive one) */
	bool in_block;               /* restart point is blk_eip + record offset */
	uint32_t blk_eip;            /* EIP of the running block's first instruction */
	uint64_t blk_insns0;         /* stats.instructions when it started */
	const struct block *blk;

	/* events from other threads */
	atomic_int irq_line;
	atomic_int exit_req;

	/* x87 */
	int fpu_top;

	struct cpu_stats stats;
};

/* interp.c */
void cpu_mode_changed(struct cpu *c);
/* Test hooks (differential tester, unit tests): with @on, an exception is
 * not delivered; run() stops with CPU_EXIT_INTERNAL and EIP/ESP at the
 * faulting instruction, and cpu_interp_last_exception() returns its vector
 * (-1 if none) and error code. */
void cpu_interp_trap_exceptions(struct cpu *c, bool on);
int cpu_interp_last_exception(struct cpu *c, uint32_t *err);

/* flags.c */
uint32_t flags_get(struct cpu *c);               /* full EFLAGS */
void flags_set(struct cpu *c, uint32_t v, uint32_t mask);
bool flags_cf(struct cpu *c);
bool flags_cond(struct cpu *c, unsigned cc);    /* Jcc/SETcc/CMOVcc condition */

static inline void lazy_set(struct cpu *c, int op, unsigned size, uint32_t a, uint32_t b, uint32_t r)
{
	c->lf_op = (uint8_t)op;
	c->lf_size = (uint8_t)size;
	c->lf_a = a;
	c->lf_b = b;
	c->lf_r = r;
}

/* Writes arithmetic flags eagerly (shifts, multiplies, BCD). */
static inline void flags_put_arith(struct cpu *c, uint32_t f)
{
	c->s.eflags = (c->s.eflags & ~F_ARITH) | (f & F_ARITH);
	c->lf_op = LF_NONE;
}

static inline uint32_t size_mask(unsigned size)
{
	return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

static inline uint32_t size_msb(unsigned size)
{
	return 1u << (size * 8 - 1);
}

static inline uint32_t parity_flag(uint32_t r)
{
	return __builtin_parity(r & 0xff) ? 0 : F_PF;
}

/* Flags SF, ZF, PF of a result. */
static inline uint32_t szp_flags(uint32_t r, unsigned size)
{
	r &= size_mask(size);
	return (r == 0 ? F_ZF : 0) | ((r & size_msb(size)) ? F_SF : 0) | parity_flag(r);
}

/* except.c */
NORETURN void cpu_raise(struct cpu *c, int vec, uint32_t err);
NORETURN void cpu_raise_noerr(struct cpu *c, int vec);
void cpu_deliver(struct cpu *c, int vec, bool has_err, uint32_t err, bool soft, uint32_t next_eip);
void cpu_handle_fault(struct cpu *c);           /* called after longjmp */
bool exc_has_error_code(int vec);

/* mmu.c */
void tlb_flush(struct cpu *c);
void tlb_flush_page(struct cpu *c, uint32_t lin);
uint32_t mmu_read_slow(struct cpu *c, uint32_t lin, unsigned size, bool user);
void mmu_write_slow(struct cpu *c, uint32_t lin, unsigned size, uint32_t v, bool user);
const uint8_t *mmu_code_page(struct cpu *c, uint32_t lin);  /* host ptr of the page or NULL (MMIO) */
uint32_t phys_read(struct cpu *c, uint32_t pa, unsigned size);
void phys_write(struct cpu *c, uint32_t pa, unsigned size, uint32_t v);
uint8_t *phys_host(struct cpu *c, uint32_t pa);   /* NULL when not RAM */
void dirty_mark(struct cpu *c, uint32_t pa);

/* Linear-address access through the TLB. @user selects the privilege of the
 * access (CPL 3, or an explicit supervisor access such as a descriptor read). */
HOT_INLINE uint32_t lin_read(struct cpu *c, uint32_t lin, unsigned size, bool user)
{
	const struct tlb_entry *e = &c->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
	if (likely(e->tag_r == (lin & ~0xfffu) && (lin & 0xfff) <= 0x1000 - size)) {
		const uint8_t *p = (const uint8_t *)(e->addend + lin);
		if (size == 4) { uint32_t v; memcpy(&v, p, 4); return v; }
		if (size == 2) { uint16_t v; memcpy(&v, p, 2); return v; }
		return *p;
	}
	return mmu_read_slow(c, lin, size, user);
}

HOT_INLINE void lin_write(struct cpu *c, uint32_t lin, unsigned size, uint32_t v, bool user)
{
	const struct tlb_entry *e = &c->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
	if (likely(e->tag_w == (lin & ~0xfffu) && (lin & 0xfff) <= 0x1000 - size)) {
		uint8_t *p = (uint8_t *)(e->addend + lin);
		if (size == 4) { uint32_t x = v; memcpy(p, &x, 4); }
		else if (size == 2) { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); }
		else *p = (uint8_t)v;
		return;
	}
	mmu_write_slow(c, lin, size, v, user);
}

/* seg.c */
uint32_t seg_check_slow(struct cpu *c, int seg, uint32_t off, unsigned size, bool write);
void seg_load(struct cpu *c, int seg, uint16_t sel);          /* MOV/POP Sreg */
void seg_load_real(struct cpu *c, int seg, uint16_t sel);
void seg_set_cache(struct cpu_segment *s, uint16_t sel, uint32_t lo, uint32_t hi);
int desc_load(struct cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi);  /* 0 or -1 (out of table) */
void desc_set_accessed(struct cpu *c, uint16_t sel, uint32_t hi);
uint32_t desc_base(uint32_t lo, uint32_t hi);
uint32_t desc_limit(uint32_t lo, uint32_t hi);
void seg_refresh_fast(struct cpu *c, int seg);
void seg_validate_for_cpl(struct cpu *c, int seg);    /* null data segs not allowed at new CPL */

/* Linear address of seg:off for an access of @size bytes. */
HOT_INLINE uint32_t seg_lin(struct cpu *c, int seg, uint32_t off, unsigned size, bool write)
{
	if (likely(c->seg_fast[seg]))
		return c->s.seg[seg].base + off;
	return seg_check_slow(c, seg, off, size, write);
}

HOT_INLINE uint32_t mem_read(struct cpu *c, int seg, uint32_t off, unsigned size)
{
	return lin_read(c, seg_lin(c, seg, off, size, false), size, c->cpl == 3);
}

HOT_INLINE void mem_write(struct cpu *c, int seg, uint32_t off, unsigned size, uint32_t v)
{
	lin_write(c, seg_lin(c, seg, off, size, true), size, v, c->cpl == 3);
}

/* Supervisor (system) accesses: descriptor tables, TSS, IDT. */
static inline uint32_t sys_read(struct cpu *c, uint32_t lin, unsigned size)
{
	return lin_read(c, lin, size, false);
}

static inline void sys_write(struct cpu *c, uint32_t lin, unsigned size, uint32_t v)
{
	lin_write(c, lin, size, v, false);
}

/* decode.c */
uint8_t fetch8_slow(struct cpu *c);
HOT_INLINE uint8_t fetch8(struct cpu *c)
{
	uint32_t lin = c->s.seg[CPU_SEG_CS].base + c->s.eip;
	/* IP 0xffff goes the slow way: in 16-bit code the next IP wraps to 0 */
	if (likely((lin & ~0xfffu) == c->fetch_lin && c->s.eip - c->insn_eip < 15 &&
		   c->s.eip <= c->s.seg[CPU_SEG_CS].limit && c->s.eip != 0xffff)) {
		c->s.eip++;
		return c->fetch_host[lin & 0xfff];
	}
	return fetch8_slow(c);
}
uint16_t fetch16(struct cpu *c);
uint32_t fetch32(struct cpu *c);
void decode_modrm(struct cpu *c, struct dec *d);

/* Register access by operand size. */
HOT_INLINE uint32_t reg_read(struct cpu *c, unsigned r, unsigned size)
{
	if (size == 4) return c->s.gpr[r];
	if (size == 2) return c->s.gpr[r] & 0xffff;
	return r < 4 ? c->s.gpr[r] & 0xff : (c->s.gpr[r - 4] >> 8) & 0xff;
}

HOT_INLINE void reg_write(struct cpu *c, unsigned r, unsigned size, uint32_t v)
{
	if (size == 4) c->s.gpr[r] = v;
	else if (size == 2) c->s.gpr[r] = (c->s.gpr[r] & 0xffff0000u) | (v & 0xffff);
	else if (r < 4) c->s.gpr[r] = (c->s.gpr[r] & 0xffffff00u) | (v & 0xff);
	else c->s.gpr[r - 4] = (c->s.gpr[r - 4] & 0xffff00ffu) | ((v & 0xff) << 8);
}

HOT_INLINE uint32_t rm_read(struct cpu *c, const struct dec *d, unsigned size)
{
	if (d->mod == 3) return reg_read(c, d->rm, size);
	return mem_read(c, d->easeg, d->ea, size);
}

HOT_INLINE void rm_write(struct cpu *c, const struct dec *d, unsigned size, uint32_t v)
{
	if (d->mod == 3) reg_write(c, d->rm, size, v);
	else mem_write(c, d->easeg, d->ea, size, v);
}

/* Stack */

static inline uint32_t sp_mask(struct cpu *c)
{
	return c->stack32 ? 0xffffffffu : 0xffffu;
}

static inline void sp_set(struct cpu *c, uint32_t v)
{
	if (c->stack32) c->s.gpr[CPU_ESP] = v;
	else c->s.gpr[CPU_ESP] = (c->s.gpr[CPU_ESP] & 0xffff0000u) | (v & 0xffff);
}

/* Stack helpers, inline (PUSH/POP/CALL/RET are among the hottest
 * operations of a kernel): the write happens before ESP changes, so a
 * faulting push leaves ESP as it was. */
HOT_INLINE void push(struct cpu *c, unsigned size, uint32_t v)
{
	uint32_t esp = (c->s.gpr[CPU_ESP] - size) & sp_mask(c);
	mem_write(c, CPU_SEG_SS, esp, size, v);
	sp_set(c, esp);
}

HOT_INLINE uint32_t pop(struct cpu *c, unsigned size)
{
	uint32_t esp = c->s.gpr[CPU_ESP] & sp_mask(c);
	uint32_t v = mem_read(c, CPU_SEG_SS, esp, size);
	sp_set(c, esp + size);
	return v;
}

/* at ESP+off, no pop */
HOT_INLINE uint32_t stack_read(struct cpu *c, unsigned off, unsigned size)
{
	return mem_read(c, CPU_SEG_SS, (c->s.gpr[CPU_ESP] + off) & sp_mask(c), size);
}

/* exec_alu.c */
uint32_t alu_op(struct cpu *c, unsigned op, uint32_t a, uint32_t b, unsigned size);
uint32_t shift_op(struct cpu *c, unsigned op, uint32_t v, unsigned count, unsigned size);
uint32_t shiftd_op(struct cpu *c, bool left, uint32_t dst, uint32_t src, unsigned count, unsigned size);
void exec_grp3(struct cpu *c, struct dec *d, unsigned size);     /* F6/F7 */
uint32_t imul_op(struct cpu *c, uint32_t a, uint32_t b, unsigned size);
void exec_bcd(struct cpu *c, uint8_t op);
void exec_bitop(struct cpu *c, struct dec *d, uint8_t op);        /* BT/BTS/BTR/BTC/BSF/BSR */

/* exec_string.c */
void exec_string(struct cpu *c, struct dec *d, uint8_t op);

/* exec_control.c */
void exec_far_jmp_call(struct cpu *c, struct dec *d, uint16_t sel, uint32_t off, bool call);
void exec_retf(struct cpu *c, struct dec *d, uint16_t imm);
void exec_iret(struct cpu *c, struct dec *d);
void exec_enter(struct cpu *c, struct dec *d);
void load_cs_raw(struct cpu *c, uint16_t sel, uint32_t lo, uint32_t hi, uint8_t cpl);

/* exec_system.c */
void exec_0f_system(struct cpu *c, struct dec *d, uint8_t op);
void exec_io(struct cpu *c, struct dec *d, uint8_t op);
void cpu_write_cr(struct cpu *c, int cr, uint32_t v);
bool io_allowed(struct cpu *c, uint16_t port, unsigned size);

/* exec_0f.c */
void exec_0f(struct cpu *c, struct dec *d);

/* cache.c */
int cache_init(struct cpu *c);          /* (re)sizes for ram_top; flushes */
void cache_free(struct cpu *c);
void cache_flush(struct cpu *c);
struct block *cache_lookup(struct cpu *c);   /* block at CS:EIP or NULL (single-step it) */
void cache_invalidate_page(struct cpu *c, uint32_t pfn);
void cache_invalidate_range(struct cpu *c, uint32_t pa, uint32_t len);
/* Does physical page @pfn hold decoded code? (RAM write paths check it.) */
static inline bool cache_page_has_code(const struct cpu *c, uint32_t pfn)
{
	return pfn < c->code_npages && c->code_pages[pfn];
}

#define BHASH_BITS 16
#define BHASH_SIZE (1u << BHASH_BITS)

static inline unsigned bhash(uint32_t pa, unsigned mode)
{
	return ((pa ^ mode) * 0x9e3779b1u) >> (32 - BHASH_BITS);
}

static inline uint32_t ram_host_pa(const struct cpu *c, const uint8_t *h)
{
	for (int k = 0; k < c->nram; k++)
		if ((uintptr_t)(h - c->ram[k].host) < c->ram[k].size)
			return c->ram[k].gpa + (uint32_t)(h - c->ram[k].host);
	return 0xffffffffu;
}

/* Makes linear page @page the current code page from the TLB entry of the
 * current privilege, without a page walk; false when the TLB has none (the
 * caller then walks). A read tag is only ever installed for a RAM page whose
 * translation allows reads in that mode, which is all a fetch needs (no NX
 * on this CPU), so a hit gives exactly what mmu_code_page() would. */
HOT_INLINE bool code_page_from_tlb(struct cpu *c, uint32_t page)
{
	const struct tlb_entry *e = &c->tlb[c->cpl == 3][(page >> 12) & (TLB_SIZE - 1)];
	if (e->tag_r != page)
		return false;
	const uint8_t *h = (const uint8_t *)(e->addend + page);
	c->fetch_lin = page;
	c->fetch_host = h;
	c->fetch_pa = ram_host_pa(c, h);
	return true;
}

/* The block at CS:EIP: the hit path inline (the current code page or a TLB
 * hit, then the hash chain), the rest in cache_lookup(). */
HOT_INLINE struct block *cache_find(struct cpu *c)
{
	const struct cpu_segment *cs = &c->s.seg[CPU_SEG_CS];
	uint32_t eip = c->s.eip, lin = cs->base + eip;
	if (likely((lin & ~0xfffu) == c->fetch_lin || code_page_from_tlb(c, lin & ~0xfffu))) {
		uint32_t pa = c->fetch_pa | (lin & 0xfff);
		unsigned mode = (c->code32 ? BLOCK_MODE_CODE32 : 0) | (c->pmode ? BLOCK_MODE_PMODE : 0);
		struct block *b = c->bhash[bhash(pa, mode)];
		while (b && (b->pa != pa || b->mode != mode))
			b = b->hnext;
		if (likely(b && b->bytes && (uint64_t)eip + b->bytes - 1 <= cs->limit &&
			   (c->code32 || eip + b->bytes < 0x10000)))
			return b;
	}
	return cache_lookup(c);
}

/* exec_fast.c: decodes one instruction at @p (@avail bytes left in the
 * page) into @i; false if it is not a fast form (exec_one() runs it). */
bool fast_decode(const uint8_t *p, unsigned avail, bool code32, struct insn *i);
bool insn_ends_block(const struct insn *i);
void insn_fallback(struct cpu *c, const struct insn *i);   /* exec_one() at EIP */

/* The hottest records run inline in the run loop (no call/return, state
 * kept in registers); the handlers in exec_fast.c are the same code. */
enum {
	INSN_K_CALL, INSN_K_ADD_RR, INSN_K_ADD_RI, INSN_K_SUB_RR, INSN_K_SUB_RI, INSN_K_XOR_RR,
	INSN_K_XOR_RI, INSN_K_CMP_RR, INSN_K_CMP_RI, INSN_K_TEST_RR, INSN_K_INC32, INSN_K_DEC32,
	INSN_K_MOV_RR, INSN_K_MOV_RI, INSN_K_MOV_RM, INSN_K_MOV_MR, INSN_K_JZ, INSN_K_PUSH_R32,
	INSN_K_POP_R32, INSN_K_LEA32, INSN_K_CALL32, INSN_K_RET32, INSN_K_JMP,
};

HOT_INLINE uint32_t insn_ea(const struct cpu *c, const struct insn *i)
{
	const uint32_t *g = c->s.gpr;
	return (i->disp + (g[i->base] & i->bmask) + ((g[i->index] & i->imask) << i->scale)) & i->eamask;
}

/* CF without materialising all flags (INC/DEC preserve it). */
HOT_INLINE uint32_t insn_cf(struct cpu *c)
{
	switch (c->lf_op) {
	case LF_LOGIC: return 0;
	case LF_NONE: case LF_INC: case LF_DEC: return c->s.eflags & F_CF;
	default: return flags_cf(c) ? F_CF : 0;
	}
}

HOT_INLINE void insn_jump(struct cpu *c, const struct insn *i, uint32_t target)
{
	if (!i->o32)
		target &= 0xffff;
	if (unlikely(target > c->s.seg[CPU_SEG_CS].limit))
		cpu_raise(c, EXC_GP, 0);
	c->s.eip = target;
}

HOT_INLINE void insn_exec(struct cpu *c, const struct insn *i)
{
	uint32_t *g = c->s.gpr, a, b, r;
	switch (i->kind) {
	case INSN_K_ADD_RR: b = g[i->rm]; goto add;
	case INSN_K_ADD_RI: b = i->imm;
	add:
		a = g[i->reg];
		r = a + b;
		g[i->reg] = r;
		lazy_set(c, LF_ADD, 4, a, b, r);
		return;
	case INSN_K_SUB_RR: b = g[i->rm]; goto sub;
	case INSN_K_SUB_RI: b = i->imm;
	sub:
		a = g[i->reg];
		r = a - b;
		g[i->reg] = r;
		lazy_set(c, LF_SUB, 4, a, b, r);
		return;
	case INSN_K_XOR_RR: b = g[i->rm]; goto xor;
	case INSN_K_XOR_RI: b = i->imm;
	xor:
		a = g[i->reg];
		r = a ^ b;
		g[i->reg] = r;
		lazy_set(c, LF_LOGIC, 4, a, b, r);
		return;
	case INSN_K_CMP_RR: b = g[i->rm]; goto cmp;
	case INSN_K_CMP_RI: b = i->imm;
	cmp:
		a = g[i->reg];
		lazy_set(c, LF_SUB, 4, a, b, a - b);
		return;
	case INSN_K_TEST_RR:
		a = g[i->reg];
		b = g[i->rm];
		lazy_set(c, LF_LOGIC, 4, a, b, a & b);
		return;
	case INSN_K_INC32:
	case INSN_K_DEC32: {
		uint32_t cf = insn_cf(c);
		a = g[i->rm];
		r = i->kind == INSN_K_INC32 ? a + 1 : a - 1;
		g[i->rm] = r;
		c->s.eflags = (c->s.eflags & ~F_CF) | cf;
		lazy_set(c, i->kind == INSN_K_INC32 ? LF_INC : LF_DEC, 4, a, 1, r);
		return;
	}
	case INSN_K_MOV_RR: g[i->reg] = g[i->rm]; return;
	case INSN_K_MOV_RI: g[i->rm] = i->imm; return;
	case INSN_K_MOV_RM: g[i->reg] = mem_read(c, i->seg, insn_ea(c, i), 4); return;
	case INSN_K_MOV_MR: mem_write(c, i->seg, insn_ea(c, i), 4, g[i->reg]); return;
	case INSN_K_PUSH_R32: push(c, 4, g[i->rm]); return;
	case INSN_K_LEA32: g[i->reg] = insn_ea(c, i); return;
	case INSN_K_CALL32:
		a = c->s.eip + i->imm;
		if (unlikely(a > c->s.seg[CPU_SEG_CS].limit))
			cpu_raise(c, EXC_GP, 0);
		push(c, 4, c->s.eip);
		c->s.eip = a;
		return;
	case INSN_K_RET32:
		a = stack_read(c, 0, 4);
		insn_jump(c, i, a);
		sp_set(c, g[CPU_ESP] + 4 + i->imm);
		return;
	case INSN_K_JMP: insn_jump(c, i, c->s.eip + i->imm); return;
	case INSN_K_POP_R32: a = pop(c, 4); g[i->rm] = a; return;
	case INSN_K_JZ: {
		bool z = c->lf_op != LF_NONE ? c->lf_r == 0 : (c->s.eflags & F_ZF) != 0;
		if (z != (i->op & 1))
			insn_jump(c, i, c->s.eip + i->imm);
		return;
	}
	default:
		i->fn(c, i);
		return;
	}
}

/* exec_main.c */
void jump_near(struct cpu *c, const struct dec *d, uint32_t target);
void exec_one(struct cpu *c);

/* cpuid_msr.c */
void exec_cpuid(struct cpu *c);
void exec_rdmsr(struct cpu *c);
void exec_wrmsr(struct cpu *c);
void exec_rdtsc(struct cpu *c);
uint32_t cpu_cpuid_features(void);

/* fpu.c */
void exec_fpu(struct cpu *c, struct dec *d, uint8_t op);
void fpu_reset(struct cpu *c);
void fpu_wait(struct cpu *c);                  /* FWAIT: #NM, pending #MF */
extern const bool fpu_implemented;

#endif
