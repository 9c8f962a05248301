/* Paging guest: 2-level paging over an identity map of the 8 MiB guest.
 * A not-present page faults with the right error code and CR2, the
 * handler maps it and the faulting instruction restarts and completes;
 * with CR0.WP=1 a ring-0 write to a read-only page faults with P|W (and
 * with WP=0 it does not); the CPU sets the accessed and dirty bits; INVLPG
 * makes a changed mapping visible; a 4 MiB page works when CPUID has PSE. */
#include "trap.h"

void main(void);

#define PG_P  0x001
#define PG_RW 0x002
#define PG_A  0x020
#define PG_D  0x040
#define PG_PS 0x080
#define CR0_PG 0x80000000u
#define CR0_WP 0x00010000u

static volatile u32 pd[1024] __attribute__((aligned(4096)));
static u32 pt[2][1024] __attribute__((aligned(4096)));
static volatile u32 pf_count, pf_err, pf_cr2, bail;

static volatile u32 *pte(u32 va) { return &pt[va >> 22][(va >> 12) & 1023]; }
static void invlpg(u32 va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static u32 peek(u32 va) { return *(volatile u32 *)va; }

/* Maps the faulting page present and writable, then lets it restart;
 * gives up (skips to bail) if the same access keeps faulting. */
static void pf_hook(struct frame *f)
{
	if (f->vec != 14)
		return;
	pf_err = f->err;
	pf_cr2 = read_cr2();
	if (++pf_count > 3) {
		f->eip = bail;
		return;
	}
	if ((pf_cr2 >> 22) < 2)
		*pte(pf_cr2) |= PG_P | PG_RW;
	invlpg(pf_cr2);
}

/* Reads or writes @va through one instruction that may fault. */
static u32 access_read(u32 va)
{
	u32 v = 0xbad;
	__asm__ volatile("movl $1f, bail\n2:\tmovl (%1), %0\n1:" : "+r"(v) : "r"(va) : "memory");
	return v;
}
static void access_write(u32 va, u32 v)
{
	__asm__ volatile("movl $1f, bail\n2:\tmovl %1, (%0)\n1:" : : "r"(va), "r"(v) : "memory");
}

static void paging_init(void)
{
	for (u32 i = 0; i < 2048; i++)
		pt[i >> 10][i & 1023] = (i << 12) | PG_P | PG_RW;
	pd[0] = (u32)pt[0] | PG_P | PG_RW;
	pd[1] = (u32)pt[1] | PG_P | PG_RW;
	/* test pages, written before paging so the values are known */
	for (u32 a = 0x500000; a < 0x530000; a += 0x1000)
		*(volatile u32 *)a = 0x5a000000 | a >> 12;
	*pte(0x500000) = 0x500000;                /* not present, read */
	*pte(0x501000) = 0x501000;                /* not present, write */
	*pte(0x502000) = 0x502000 | PG_P;         /* read-only */
	*pte(0x503000) = 0x503000 | PG_P | PG_RW; /* A and D clear */
	__asm__ volatile("movl %0, %%cr3" : : "r"((u32)pd) : "memory");
	write_cr0(read_cr0() | CR0_PG);
}

static void test_not_present(void)
{
	begin("not_present_read_restarts");
	pf_count = 0;
	u32 v = access_read(0x500000);
	expect("#PF count", 1, pf_count);
	expect("error code (P=0 W=0 U=0)", 0, pf_err);
	expect("CR2", 0x500000, pf_cr2);
	expect("value read after the restart", 0x5a000500, v);
	end();

	begin("not_present_write_restarts");
	pf_count = 0;
	access_write(0x501004, 0x1234abcd);
	expect("#PF count", 1, pf_count);
	expect("error code (P=0 W=1 U=0)", 2, pf_err);
	expect("CR2", 0x501004, pf_cr2);
	expect("value written by the restarted store", 0x1234abcd, peek(0x501004));
	end();
}

static void test_write_protect(void)
{
	begin("ring0_write_readonly_wp0_no_fault");
	pf_count = 0;
	access_write(0x502008, 0x11);
	expect("#PF count", 0, pf_count);
	expect("value written", 0x11, peek(0x502008));
	end();

	begin("ring0_write_readonly_wp1_faults");
	write_cr0(read_cr0() | CR0_WP);
	*pte(0x502000) &= ~PG_RW;
	invlpg(0x502000);
	pf_count = 0;
	access_write(0x50200c, 0x22);
	expect("#PF count", 1, pf_count);
	expect("error code (P=1 W=1 U=0)", 3, pf_err);
	expect("CR2", 0x50200c, pf_cr2);
	expect("value written after the handler made it writable", 0x22, peek(0x50200c));
	end();
}

static void test_accessed_dirty(void)
{
	begin("accessed_dirty_bits");
	invlpg(0x503000);
	expect("A and D clear before", 0, *pte(0x503000) & (PG_A | PG_D));
	(void)peek(0x503000);
	expect("A after a read", PG_A, *pte(0x503000) & (PG_A | PG_D));
	*(volatile u32 *)0x503010 = 1;
	expect("A and D after a write", PG_A | PG_D, *pte(0x503000) & (PG_A | PG_D));
	expect("PDE accessed", PG_A, pd[1] & PG_A);
	end();
}

static void test_invlpg(void)
{
	begin("invlpg_shows_new_mapping");
	*pte(0x504000) = 0x505000 | PG_P | PG_RW;
	invlpg(0x504000);
	expect("old mapping read", 0x5a000505, peek(0x504000));
	*pte(0x504000) = 0x506000 | PG_P | PG_RW;
	invlpg(0x504000);
	expect("new mapping after INVLPG", 0x5a000506, peek(0x504000));
	end();
}

static void test_pse(void)
{
	u32 a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1));
	begin("pse_4mib_page");
	if (!(d & 8)) {
		expect("CPUID.1:EDX.PSE", 8, d & 8);
		end();
		return;
	}
	u32 cr4;
	__asm__ volatile("movl %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("movl %0, %%cr4" : : "r"(cr4 | 0x10) : "memory");
	pd[2] = 0x400000 | PG_PS | PG_P | PG_RW;   /* VA 8 MiB -> PA 4 MiB */
	invlpg(0x800000);
	expect("read through the 4 MiB page", 0x5a000520, peek(0x800000 + 0x120000));
	*(volatile u32 *)(0x800000 + 0x121000) = 0x77;
	expect("write through it lands at the physical address", 0x77, peek(0x521000));
	expect("PDE A and D", PG_A | PG_D, pd[2] & (PG_A | PG_D));
	end();
}

void main(void)
{
	serial_init();
	tables_init();
	puts_serial("paging: start\n");
	trap_hook = pf_hook;
	paging_init();
	test_not_present();
	test_write_protect();
	test_accessed_dirty();
	test_invlpg();
	test_pse();
	finish("paging");
}
