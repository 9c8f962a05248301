/* vmcore/cpu — physical memory, 2-level paging and the software TLB.
 *
 * The TLB caches linear page -> host pointer for RAM pages only; MMIO pages
 * always take the slow path to the bus. There are two TLBs (supervisor and
 * user) so a CPL change needs no flush. A write tag is installed only once
 * the PTE's dirty bit is set and the page is writable in that mode, so the
 * fast path never has to update A/D bits. Installing a write tag also marks
 * the page in the dirty bitmap, which is why clearing the bitmap drops every
 * write tag. */
#include "vmcore/cpu/cpu_int.h"

#define PTE_P 0x1u
#define PTE_W 0x2u
#define PTE_U 0x4u
#define PTE_A 0x20u
#define PTE_D 0x40u
#define PTE_PS 0x80u

uint8_t *phys_host(struct cpu *c, uint32_t pa)
{
	for (int i = 0; i < c->nram; i++) {
		const struct ram_range *r = &c->ram[i];
		if (pa - r->gpa < r->size)
			return r->host + (pa - r->gpa);
	}
	return NULL;
}

void dirty_mark(struct cpu *c, uint32_t pa)
{
	uint32_t pg = pa >> 12;
	if (c->dirty && pg < (c->ram_top >> 12))
		c->dirty[pg / 64] |= 1ull << (pg % 64);
}

uint32_t phys_read(struct cpu *c, uint32_t pa, unsigned size)
{
	uint8_t *h = phys_host(c, pa);
	if (h && phys_host(c, pa + size - 1) == h + size - 1) {
		/* constant sizes: a variable-length memcpy is a libc call (2% of
		 * a boot profile, from page walks) */
		if (size == 4) { uint32_t v; memcpy(&v, h, 4); return v; }
		if (size == 2) { uint16_t v; memcpy(&v, h, 2); return v; }
		return *h;
	}
	if (h) {   /* straddles the end of a RAM range */
		uint32_t v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= phys_read(c, pa + i, 1) << (8 * i);
		return v;
	}
	if (c->bus && c->bus->mmio_read)
		return c->bus->mmio_read(c->bus->opaque, pa, size) & size_mask(size);
	return size_mask(size);
}

void phys_write(struct cpu *c, uint32_t pa, unsigned size, uint32_t v)
{
	uint8_t *h = phys_host(c, pa);
	if (h && phys_host(c, pa + size - 1) == h + size - 1) {
		if (size == 4) memcpy(h, &v, 4);
		else if (size == 2) { uint16_t w = (uint16_t)v; memcpy(h, &w, 2); }
		else *h = (uint8_t)v;
		dirty_mark(c, pa);
		dirty_mark(c, pa + size - 1);
		/* self-modifying code: code pages never get a TLB write tag, so
		 * every store to one arrives here (cache.c) */
		if (unlikely(cache_page_has_code(c, pa >> 12) || cache_page_has_code(c, (pa + size - 1) >> 12)))
			cache_invalidate_range(c, pa, size);
		return;
	}
	if (h) {
		for (unsigned i = 0; i < size; i++)
			phys_write(c, pa + i, 1, v >> (8 * i));
		return;
	}
	if (c->bus && c->bus->mmio_write)
		c->bus->mmio_write(c->bus->opaque, pa, size, v & size_mask(size));
}

void tlb_flush(struct cpu *c)
{
	for (int u = 0; u < 2; u++)
		for (unsigned i = 0; i < TLB_SIZE; i++) {
			c->tlb[u][i].tag_r = TLB_INVALID;
			c->tlb[u][i].tag_w = TLB_INVALID;
		}
	c->fetch_lin = TLB_INVALID;
	c->tlb_large = false;
	c->stats.tlb_flushes++;
}

void tlb_flush_page(struct cpu *c, uint32_t lin)
{
	if (c->tlb_large) {
		/* A 4 MiB mapping may be cached as many 4 KiB entries, all in
		 * the same 4 MiB-aligned region: drop that region's entries (a
		 * superset of what INVLPG must drop). A full flush here cost a
		 * whole TLB refill per INVLPG once the kernel maps lowmem with
		 * PSE pages. */
		for (int u = 0; u < 2; u++)
			for (unsigned k = 0; k < TLB_SIZE; k++) {
				struct tlb_entry *e = &c->tlb[u][k];
				if (((e->tag_r ^ lin) >> 22) == 0 || ((e->tag_w ^ lin) >> 22) == 0)
					e->tag_r = e->tag_w = TLB_INVALID;
			}
		if (((c->fetch_lin ^ lin) >> 22) == 0)
			c->fetch_lin = TLB_INVALID;
		return;
	}
	unsigned i = (lin >> 12) & (TLB_SIZE - 1);
	for (int u = 0; u < 2; u++) {
		c->tlb[u][i].tag_r = TLB_INVALID;
		c->tlb[u][i].tag_w = TLB_INVALID;
	}
	if ((lin & ~0xfffu) == c->fetch_lin)
		c->fetch_lin = TLB_INVALID;
}

/* The page fault error code: P (protection), W (write), U (user). */
NORETURN static void page_fault(struct cpu *c, uint32_t lin, bool present, bool write, bool user)
{
	c->s.cr2 = lin;
	cpu_raise(c, EXC_PF, (present ? 1u : 0) | (write ? 2u : 0) | (user ? 4u : 0));
}

/* Walks the page tables; returns the physical address and sets *@wok when
 * a write in this mode may use the fast path (writable and already dirty). */
static uint32_t walk(struct cpu *c, uint32_t lin, bool write, bool user, bool *wok)
{
	uint32_t pde_pa = (c->s.cr3 & ~0xfffu) + ((lin >> 22) << 2);
	uint32_t pde = phys_read(c, pde_pa, 4);
	if (!(pde & PTE_P))
		page_fault(c, lin, false, write, user);
	bool wp = c->s.cr0 & CR0_WP;
	if ((pde & PTE_PS) && (c->s.cr4 & CR4_PSE)) {
		if (user && !(pde & PTE_U))
			page_fault(c, lin, true, write, user);
		if (write && !(pde & PTE_W) && (user || wp))
			page_fault(c, lin, true, write, user);
		uint32_t npde = pde | PTE_A | (write ? PTE_D : 0);
		if (npde != pde)
			phys_write(c, pde_pa, 4, npde);
		*wok = (npde & PTE_D) && ((npde & PTE_W) || (!user && !wp));
		c->tlb_large = true;
		return (pde & 0xffc00000u) | (lin & 0x3fffffu);
	}
	uint32_t pte_pa = (pde & ~0xfffu) + (((lin >> 12) & 0x3ff) << 2);
	uint32_t pte = phys_read(c, pte_pa, 4);
	if (!(pte & PTE_P))
		page_fault(c, lin, false, write, user);
	uint32_t perm = pde & pte;
	if (user && !(perm & PTE_U))
		page_fault(c, lin, true, write, user);
	if (write && !(perm & PTE_W) && (user || wp))
		page_fault(c, lin, true, write, user);
	if (!(pde & PTE_A))
		phys_write(c, pde_pa, 4, pde | PTE_A);
	uint32_t npte = pte | PTE_A | (write ? PTE_D : 0);
	if (npte != pte)
		phys_write(c, pte_pa, 4, npte);
	*wok = (npte & PTE_D) && ((perm & PTE_W) || (!user && !wp));
	return (pte & ~0xfffu) | (lin & 0xfff);
}

/* Translates @lin and, for RAM, installs the TLB entry. */
static uint32_t translate(struct cpu *c, uint32_t lin, bool write, bool user)
{
	bool wok = true;
	uint32_t pa = c->paging ? walk(c, lin, write, user, &wok) : lin;
	uint8_t *h = phys_host(c, pa & ~0xfffu);
	if (h && phys_host(c, (pa & ~0xfffu) + 0xfff) == h + 0xfff) {
		struct tlb_entry *e = &c->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
		uint32_t page = lin & ~0xfffu;
		e->tag_r = page;
		e->addend = (uintptr_t)h - page;
		/* the write tag only on a write: installing it marks the page
		 * dirty, and a page that is only read must stay clean */
		if (write && wok && !cache_page_has_code(c, pa >> 12)) {
			e->tag_w = page;
			dirty_mark(c, pa);
		} else if (e->tag_w != page) {
			e->tag_w = TLB_INVALID;
		}
	}
	return pa;
}

uint32_t mmu_read_slow(struct cpu *c, uint32_t lin, unsigned size, bool user)
{
	if ((lin & 0xfff) + size > 0x1000) {
		uint32_t v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= lin_read(c, lin + i, 1, user) << (8 * i);
		return v;
	}
	return phys_read(c, translate(c, lin, false, user), size);
}

void mmu_write_slow(struct cpu *c, uint32_t lin, unsigned size, uint32_t v, bool user)
{
	if ((lin & 0xfff) + size > 0x1000) {
		/* translate both pages first so a fault on the second leaves the
		 * first untouched */
		uint32_t second = (lin + size - 1) & ~0xfffu;
		uint32_t pa0 = translate(c, lin, true, user);
		uint32_t pa1 = translate(c, second, true, user);
		for (unsigned i = 0; i < size; i++) {
			uint32_t l = lin + i;
			uint32_t pa = (l & ~0xfffu) == second ? pa1 + (l - second) : pa0 + i;
			phys_write(c, pa, 1, v >> (8 * i));
		}
		return;
	}
	phys_write(c, translate(c, lin, true, user), size, v);
}

const uint8_t *mmu_code_page(struct cpu *c, uint32_t lin)
{
	bool user = c->cpl == 3;
	const struct tlb_entry *e = &c->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
	if (e->tag_r == (lin & ~0xfffu))   /* RAM with reads allowed: no walk */
		return (const uint8_t *)(e->addend + (lin & ~0xfffu));
	uint32_t pa = translate(c, lin, false, user);
	uint8_t *h = phys_host(c, pa & ~0xfffu);
	if (h && phys_host(c, (pa & ~0xfffu) + 0xfff) == h + 0xfff)
		return h;
	return NULL;
}
