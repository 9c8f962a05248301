/* vmcore/cpu — the decoded-instruction cache: blocks of pre-decoded
 * instructions keyed by physical address and mode, with self-modifying-code
 * detection per physical page.
 *
 * Keys are physical, so CR3 loads and INVLPG need no flush: every block
 * lookup translates CS:EIP through the TLB first. A page that holds blocks
 * never gets a TLB write tag, so every store to it takes the slow path,
 * where phys_write() sees code_pages[] and drops the page's blocks (and
 * sets blk_abort so the run loop leaves the block it is executing after the
 * current instruction). Memory is one fixed arena; when it is full,
 * everything is flushed. */
#include <errno.h>
#include <stdlib.h>

#include "vmcore/cpu/cpu_int.h"

#define ARENA_SIZE (8u << 20)

int cache_init(struct cpu *c)
{
	uint32_t npages = c->ram_top >> 12;
	if (!c->bhash) {
		c->bhash = calloc(BHASH_SIZE, sizeof(struct block *));
		c->arena = calloc(1, ARENA_SIZE); /* lazily zeroed pages: no cost */
		if (!c->bhash || !c->arena)
			return -ENOMEM;
	}
	if (npages != c->code_npages) {
		struct block **np = calloc(npages ? npages : 1, sizeof(struct block *));
		if (!np)
			return -ENOMEM;
		free(c->code_pages);
		c->code_pages = np;
		c->code_npages = npages;
		memset(c->bhash, 0, BHASH_SIZE * sizeof(struct block *));
		c->arena_used = 0;
		c->blk_abort = true;
		c->cache_gen++;
		return 0;
	}
	cache_flush(c);
	return 0;
}

void cache_free(struct cpu *c)
{
	free(c->bhash);
	free(c->code_pages);
	free(c->arena);
}

/* Drops every block. Walking the arena keeps this proportional to what is
 * cached (the differential tester flushes after every case). */
void cache_flush(struct cpu *c)
{
	size_t off = 0;
	while (off < c->arena_used) {
		struct block *b = (struct block *)(c->arena + off);
		if (b->pa != BLOCK_DEAD)
			c->bhash[bhash(b->pa, b->mode)] = NULL;
		if ((b->pa >> 12) < c->code_npages)
			c->code_pages[b->pa >> 12] = NULL;
		off += sizeof(*b) + b->n * sizeof(struct insn);
		off = (off + 15) & ~(size_t)15;
	}
	c->arena_used = 0;
	c->blk_abort = true;
	c->cache_gen++;
}

void cache_invalidate_page(struct cpu *c, uint32_t pfn)
{
	if (!cache_page_has_code(c, pfn))
		return;
	for (struct block *b = c->code_pages[pfn]; b; b = b->pnext) {
		*b->hprev = b->hnext;
		if (b->hnext)
			b->hnext->hprev = b->hprev;
		b->pa = BLOCK_DEAD;   /* links to it no longer match */
		b->link = NULL;
	}
	c->code_pages[pfn] = NULL;
	c->blk_abort = true;
	c->stats.code_invalidations++;
}

void cache_invalidate_range(struct cpu *c, uint32_t pa, uint32_t len)
{
	if (!len)
		return;
	uint32_t last = pa + (len - 1 < 0xffffffffu - pa ? len - 1 : 0xffffffffu - pa);
	for (uint32_t pfn = pa >> 12; pfn <= last >> 12 && pfn < c->code_npages; pfn++)
		cache_invalidate_page(c, pfn);
}

/* A page becomes a code page: drop every TLB write tag that maps it so the
 * next store to it goes through phys_write(). */
static void protect_page(struct cpu *c, const uint8_t *host_page)
{
	for (int u = 0; u < 2; u++)
		for (unsigned k = 0; k < TLB_SIZE; k++) {
			struct tlb_entry *e = &c->tlb[u][k];
			if (e->tag_w != TLB_INVALID && (const uint8_t *)(e->addend + e->tag_w) == host_page)
				e->tag_w = TLB_INVALID;
		}
}

static struct block *build(struct cpu *c, uint32_t pa, unsigned mode, const uint8_t *page, unsigned off)
{
	size_t need = sizeof(struct block) + BLOCK_MAX_INSNS * sizeof(struct insn);
	if (c->arena_used + need > ARENA_SIZE)
		cache_flush(c);
	struct block *b = (struct block *)(c->arena + c->arena_used);
	unsigned n = 0, bytes = 0;
	while (n < BLOCK_MAX_INSNS) {
		struct insn *i = &b->insns[n++];
		if (!fast_decode(page + off, 0x1000 - off, mode & BLOCK_MODE_CODE32, i)) {
			memset(i, 0, sizeof(*i));   /* len 0: exec_one() fetches it */
			i->fn = insn_fallback;
			i->off = (uint16_t)bytes;
			break;
		}
		i->off = (uint16_t)bytes;
		off += i->len;
		bytes += i->len;
		if (insn_ends_block(i) || off >= 0x1000)
			break;
	}
	b->pa = pa;
	b->link = NULL;
	b->mode = (uint8_t)mode;
	b->n = (uint8_t)n;
	b->bytes = (uint16_t)bytes;
	size_t used = sizeof(*b) + n * sizeof(struct insn);
	c->arena_used += (used + 15) & ~(size_t)15;

	unsigned h = bhash(pa, mode);
	b->hnext = c->bhash[h];
	b->hprev = &c->bhash[h];
	if (b->hnext)
		b->hnext->hprev = &b->hnext;
	c->bhash[h] = b;
	uint32_t pfn = pa >> 12;
	if (!c->code_pages[pfn])
		protect_page(c, page);
	b->pnext = c->code_pages[pfn];
	c->code_pages[pfn] = b;
	return b;
}

struct block *cache_lookup(struct cpu *c)
{
	const struct cpu_segment *cs = &c->s.seg[CPU_SEG_CS];
	uint32_t eip = c->s.eip;
	if (eip > cs->limit)
		return NULL;
	c->insn_eip = eip;   /* restart point of a #PF on the fetch */
	c->insn_esp = c->s.gpr[CPU_ESP];
	uint32_t lin = cs->base + eip;
	if ((lin & ~0xfffu) != c->fetch_lin) {
		const uint8_t *h = mmu_code_page(c, lin & ~0xfffu);   /* may raise #PF */
		if (!h)
			return NULL;   /* MMIO code */
		c->fetch_lin = lin & ~0xfffu;
		c->fetch_host = h;
		c->fetch_pa = ram_host_pa(c, h);
	}
	uint32_t pa = c->fetch_pa | (lin & 0xfff);
	if ((pa >> 12) >= c->code_npages)
		return NULL;
	unsigned mode = (c->code32 ? BLOCK_MODE_CODE32 : 0) | (c->pmode ? BLOCK_MODE_PMODE : 0);
	struct block *b = c->bhash[bhash(pa, mode)];
	while (b && (b->pa != pa || b->mode != mode))
		b = b->hnext;
	if (!b)
		b = build(c, pa, mode, c->fetch_host, lin & 0xfff);
	/* all of the block's bytes must be inside CS, and in 16-bit code the
	 * block must end below 64 KiB (the next IP of its last instruction
	 * must not need the wrap to 0); otherwise single-step it */
	if (b->bytes && ((uint64_t)eip + b->bytes - 1 > cs->limit ||
			 (!c->code32 && eip + b->bytes >= 0x10000)))
		return NULL;
	return b;
}
