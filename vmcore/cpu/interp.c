/* vmcore/cpu — the interpreter backend: lifecycle, state import/export and
 * the run loop behind cpu_interp_ops.
 *
 * The loop executes one decoded block (cache.c) per iteration; between
 * blocks it looks at two atomics (INTR line, exit request). With TF set, an
 * interrupt shadow pending, or code the cache cannot hold (MMIO, CS limit
 * inside the block), it steps one instruction through exec_one() instead.
 * Exceptions unwind to the setjmp here, so the hot path carries no error
 * returns; instruction counts stay exact because a block never runs past
 * the budget and a faulting instruction is not counted. */
#include <errno.h>
#include <stdlib.h>

#include "vmcore/cpu/cpu_int.h"

void cpu_mode_changed(struct cpu *c)
{
	c->pmode = c->s.cr0 & CR0_PE;
	c->paging = c->pmode && (c->s.cr0 & CR0_PG);
	if (!c->pmode)
		c->cpl = 0;
	for (int s = 0; s < CPU_SEG_COUNT; s++)
		seg_refresh_fast(c, s);
	c->fetch_lin = TLB_INVALID;
}

static void set_seg(struct cpu_segment *s, uint16_t sel, uint32_t base, uint32_t limit, uint8_t type)
{
	*s = (struct cpu_segment){ .base = base, .limit = limit, .selector = sel, .type = type,
				   .present = 1, .s = 1 };
}

static void interp_reset(struct cpu *c)
{
	memset(&c->s, 0, sizeof(c->s));
	c->s.eflags = 0x2;
	c->s.eip = 0xfff0;
	c->s.cr0 = CR0_CD | CR0_NW | CR0_ET;
	c->s.gpr[CPU_EDX] = 0x0633;
	for (int s = 0; s < CPU_SEG_COUNT; s++)
		set_seg(&c->s.seg[s], 0, 0, 0xffff, 0x3);
	set_seg(&c->s.seg[CPU_SEG_CS], 0xf000, 0xffff0000u, 0xffff, 0xb);
	c->s.gdt.limit = c->s.idt.limit = 0xffff;
	set_seg(&c->s.ldtr, 0, 0, 0xffff, 0x2);
	c->s.ldtr.s = 0;
	set_seg(&c->s.tr, 0, 0, 0xffff, 0xb);
	c->s.tr.s = 0;
	c->s.dr[6] = 0xffff0ff0u;
	c->s.dr[7] = 0x400;
	fpu_reset(c);
	c->lf_op = LF_NONE;
	c->delivering = -1;
	c->shutdown = false;
	cpu_mode_changed(c);
	tlb_flush(c);
	cache_flush(c);
}

static int interp_create(const struct cpu_config *cfg, struct cpu **out, struct havm_err *err)
{
	struct cpu *c = calloc(1, sizeof(*c));
	if (!c)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "cpu: out of memory for the interpreter state");
	c->bus = cfg ? cfg->bus : NULL;
	c->tsc_hz = cfg ? cfg->tsc_hz : 0;
	c->last_exc = -1;
	if (cache_init(c) < 0) {
		cache_free(c);
		free(c);
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "cpu: out of memory for the decoded-block cache");
	}
	interp_reset(c);
	*out = c;
	return 0;
}

static void interp_free(struct cpu *c)
{
	if (!c)
		return;
	cache_free(c);
	free(c->dirty);
	free(c);
}

static int interp_add_ram(struct cpu *c, uint32_t gpa, uint32_t size, uint8_t *host)
{
	if (c->nram == MAX_RAM || size == 0 || (gpa & 0xfff) || (size & 0xfff) ||
	    (uint64_t)gpa + size > 0x100000000ull)
		return -EINVAL;
	for (int i = 0; i < c->nram; i++)
		if (gpa < c->ram[i].gpa + c->ram[i].size && c->ram[i].gpa < gpa + size)
			return -EEXIST;
	uint32_t top = c->ram_top;
	uint64_t end = (uint64_t)gpa + size;
	if (end > top) {
		uint32_t ntop = end > 0xfffff000u ? 0xfffff000u : (uint32_t)end;
		size_t words = ((size_t)(ntop >> 12) + 63) / 64;
		uint64_t *nd = calloc(words ? words : 1, sizeof(uint64_t));
		if (!nd)
			return -ENOMEM;
		if (c->dirty)
			memcpy(nd, c->dirty, (((size_t)(top >> 12) + 63) / 64) * sizeof(uint64_t));
		free(c->dirty);
		c->dirty = nd;
		c->ram_top = ntop;
	}
	c->ram[c->nram++] = (struct ram_range){ .gpa = gpa, .size = size, .host = host };
	tlb_flush(c);
	return cache_init(c);
}

static int interp_get_state(struct cpu *c, struct cpu_state *st)
{
	c->s.eflags = flags_get(c);
	*st = c->s;
	return 0;
}

static int interp_set_state(struct cpu *c, const struct cpu_state *st)
{
	c->s = *st;
	c->s.eflags = (c->s.eflags | 0x2) & ~(0x8u | 0x20u | 0x8000u);
	c->lf_op = LF_NONE;
	c->s.cr0 |= CR0_ET;
	c->pmode = c->s.cr0 & CR0_PE;
	c->cpl = c->pmode ? c->s.seg[CPU_SEG_SS].dpl : 0;
	c->delivering = -1;
	c->shutdown = false;
	cpu_mode_changed(c);
	tlb_flush(c);
	return 0;
}

static bool take_interrupt(struct cpu *c)
{
	if (!(c->s.eflags & F_IF) || c->s.irq_shadow || !atomic_load_explicit(&c->irq_line, memory_order_relaxed))
		return false;
	int vec = c->bus && c->bus->irq_ack ? c->bus->irq_ack(c->bus->opaque) : -1;
	if (vec < 0)
		return false;
	c->insn_eip = c->s.eip;
	c->insn_esp = c->s.gpr[CPU_ESP];
	c->stats.interrupts++;
	cpu_deliver(c, vec & 0xff, false, 0, false, c->s.eip);
	return true;
}

/* One instruction the old way: decoded from memory, TF honoured. */
static void step_one(struct cpu *c)
{
	c->insn_eip = c->s.eip;
	c->insn_esp = c->s.gpr[CPU_ESP];
	c->s.irq_shadow = 0;
	bool tf = c->s.eflags & F_TF;
	exec_one(c);
	c->stats.instructions++;
	c->run_left--;
	if (unlikely(tf)) {
		c->s.dr[6] |= 0x4000;   /* BS: single-step trap */
		c->insn_eip = c->s.eip;
		c->insn_esp = c->s.gpr[CPU_ESP];
		cpu_deliver(c, EXC_DB, false, 0, false, c->s.eip);
	}
}

/* The block after @b: its link when that still matches CS:EIP (same
 * physical address and mode, not invalidated; a link into another page is
 * checked through the TLB), else a cache lookup, which then becomes the
 * link unless the lookup flushed the cache. */
static struct block *next_block(struct cpu *c, struct block *b)
{
	const struct cpu_segment *cs = &c->s.seg[CPU_SEG_CS];
	uint32_t eip = c->s.eip, lin = cs->base + eip;
	struct block *nb = b->link;
	if (nb && ((lin & ~0xfffu) == c->fetch_lin || code_page_from_tlb(c, lin & ~0xfffu)) &&
	    nb->pa == (c->fetch_pa | (lin & 0xfff)) &&
	    (uint64_t)eip + nb->bytes - 1 <= cs->limit && (c->code32 || eip + nb->bytes < 0x10000))
		return nb;   /* same mode: b's branch changed no mode */
	uint32_t gen = c->cache_gen;
	nb = cache_find(c);
	if (nb && gen == c->cache_gen && nb->mode == b->mode && nb->bytes)
		b->link = nb;
	return nb;
}

/* Runs a block's records up to the budget. Only the last record can
 * branch, change mode, IF, TF or CS, or read EIP (branches and the
 * exec_one() fallback end blocks), so the records before it neither update
 * EIP nor set a restart point: a fault there is rewound by block_fault()
 * from the retired count. stats.instructions stays exact per instruction
 * (the machine's virtual clock reads it from device callbacks). The loop
 * leaves the block after an instruction that invalidated cached code. */
static void run_block(struct cpu *c, struct block *b)
{
	for (;;) {
		const struct insn *i = b->insns;
		const struct insn *last = i + (b->n <= c->run_left ? b->n : (unsigned)c->run_left) - 1;
		uint32_t eip0 = c->s.eip;
		uint64_t n0 = c->stats.instructions;
		c->blk_abort = false;
		c->blk = b;
		c->blk_eip = eip0;
		c->blk_insns0 = n0;
		c->in_block = true;
		for (; i != last; i++) {
			insn_exec(c, i);
			c->stats.instructions++;
			if (unlikely(c->blk_abort)) {
				c->in_block = false;
				c->s.eip = eip0 + i->off + i->len;
				c->run_left -= c->stats.instructions - n0;
				return;
			}
		}
		c->in_block = false;
		c->run_left -= c->stats.instructions - n0;
		c->insn_eip = eip0 + i->off;
		c->insn_esp = c->s.gpr[CPU_ESP];
		c->s.eip = c->insn_eip + i->len;
		insn_exec(c, i);
		c->stats.instructions++;
		c->run_left--;
		/* Chain to the next block without the full checks of the run
		 * loop: a fast branch changes neither IF, TF, the interrupt
		 * shadow nor the halted state, so only the budget and the
		 * cross-thread events need looking at. */
		if (!i->end || c->run_left == 0 ||
		    (atomic_load_explicit(&c->irq_line, memory_order_relaxed) |
		     atomic_load_explicit(&c->exit_req, memory_order_relaxed)))
			return;
		b = next_block(c, b);
		if (!b)
			return;
	}
}

/* A fault inside run_block() before its last record: the faulting record
 * is the first not retired; no such record changes ESP before it faults. */
static void block_fault(struct cpu *c)
{
	uint64_t done = c->stats.instructions - c->blk_insns0;
	c->in_block = false;
	c->run_left -= done;
	c->insn_eip = c->blk_eip + c->blk->insns[done].off;
	c->insn_esp = c->s.gpr[CPU_ESP];
}

/* The loop, outside the function that calls setjmp so the compiler may
 * keep its state in registers. */
static __attribute__((noinline)) enum cpu_exit_reason run_loop(struct cpu *c)
{
	for (;;) {
		if (unlikely(c->run_left == 0))
			return CPU_EXIT_BUDGET;
		if (unlikely(atomic_load_explicit(&c->irq_line, memory_order_relaxed) |
			     atomic_load_explicit(&c->exit_req, memory_order_relaxed))) {
			if (atomic_exchange(&c->exit_req, 0))
				return CPU_EXIT_REQUEST;
			take_interrupt(c);
		}
		if (unlikely(c->s.halted))
			return (c->s.eflags & F_IF) ? CPU_EXIT_HLT : CPU_EXIT_HLT_DEAD;
		struct block *b = NULL;
		if (likely(!(c->s.eflags & F_TF) && !c->s.irq_shadow))
			b = cache_find(c);   /* the slow path may raise #PF for the fetch */
		if (likely(b))
			run_block(c, b);
		else
			step_one(c);
	}
}

static enum cpu_exit_reason interp_run(struct cpu *c, uint64_t budget, struct havm_err *err)
{
	havm_err_clear(err);
	c->run_left = budget;
	if (setjmp(c->jmp)) {
		if (c->in_block)
			block_fault(c);
		cpu_handle_fault(c);
		if (c->shutdown) {
			havm_err_set(err, HAVM_E_STATE, -EFAULT, "cpu: triple fault at %04x:%08x",
				     c->s.seg[CPU_SEG_CS].selector, c->s.eip);
			return CPU_EXIT_SHUTDOWN;
		}
		if (c->trap_exceptions) {
			havm_err_set(err, HAVM_E_STATE, -EFAULT, "cpu: exception %d (error code 0x%x) at %08x",
				     c->last_exc, c->last_exc_err, c->s.eip);
			return CPU_EXIT_INTERNAL;
		}
	}
	return run_loop(c);
}

static void interp_set_irq(struct cpu *c, bool level)
{
	atomic_store_explicit(&c->irq_line, level ? 1 : 0, memory_order_relaxed);
}

static void interp_request_exit(struct cpu *c)
{
	atomic_store(&c->exit_req, 1);
}

static void interp_get_stats(struct cpu *c, struct cpu_stats *st)
{
	*st = c->stats;
}

static int interp_dirty_log(struct cpu *c, uint64_t *bitmap, uint32_t npages, bool clear)
{
	uint32_t have = c->ram_top >> 12;
	for (uint32_t w = 0; w < (npages + 63) / 64; w++)
		bitmap[w] = (w * 64 < have && c->dirty) ? c->dirty[w] : 0;
	if (npages % 64)
		bitmap[npages / 64] &= (1ull << (npages % 64)) - 1;
	if (clear && c->dirty) {
		memset(c->dirty, 0, ((have + 63) / 64) * sizeof(uint64_t));
		/* pages must be re-marked on their next write */
		for (int u = 0; u < 2; u++)
			for (unsigned i = 0; i < TLB_SIZE; i++)
				c->tlb[u][i].tag_w = TLB_INVALID;
	}
	return 0;
}

static void interp_invalidate_code(struct cpu *c, uint32_t gpa, uint32_t len)
{
	cache_invalidate_range(c, gpa, len);
}

void cpu_interp_trap_exceptions(struct cpu *c, bool on)
{
	c->trap_exceptions = on;
	c->last_exc = -1;
}

int cpu_interp_last_exception(struct cpu *c, uint32_t *err)
{
	if (err)
		*err = c->last_exc_err;
	return c->last_exc;
}

const struct cpu_ops cpu_interp_ops = {
	.name = "interp",
	.create = interp_create,
	.free = interp_free,
	.add_ram = interp_add_ram,
	.reset = interp_reset,
	.get_state = interp_get_state,
	.set_state = interp_set_state,
	.run = interp_run,
	.set_irq = interp_set_irq,
	.request_exit = interp_request_exit,
	.get_stats = interp_get_stats,
	.dirty_log = interp_dirty_log,
	.invalidate_code = interp_invalidate_code,
};
