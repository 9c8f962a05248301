/* Paging guest: 2-level paging over an identity map of the 8 MiB guest.
 * A not-present page faults with the right error code and CR2, the
 * handler maps it and the faulting instruction restarts and completes;
 * with CR0.WP=1 a ring-0 write to a read-only page faults with P|W (and
 * with WP=0 it does not); the CPU sets the accessed and dirty bits; INVLPG
 * makes a changed mapping visible; ring 3 touching a supervisor page
 * faults with U set in the error code; a 4 MiB page works when CPUID has PSE. */
#include "trap.h"

void main(void);

#define PG_P  0x001
#define PG_RW 0x002
#define PG_U  0x004
#define PG_A  0x020
#define PG_D  0x040
#define PG_PS 0x080
#define CR0_PG 0x80000000u
#define CR0_WP 0x00010000u

static volatile u32 pd[1024] __attribute__((aligned(4096)));
static u32 pt[2][1024] __attribute__((aligned(4096)));
static volatile u32 pf_count, pf_err, pf_cr2, no_fix;
volatile u32 bail;   /* named in asm */
static volatile u32 user_errs[2], user_cr2s[2];
static u8 user_stack[4096] __attribute__((aligned(4096)));
u32 ring0_ctx[5];          /* ESP, EBP, EBX, ESI, EDI of enter_user's caller */
void user_pf(void);

/* Ring 3: a read and a write of the supervisor page 0x507000, each skipped
 * after its #PF, then INT 0x80 with EAX=99 to come back to ring 0. */
__asm__(".text\n"
	"user_pf:\n"
	"  movw $0x2b, %ax\n  movw %ax, %ds\n  movw %ax, %es\n"
	"  movl $1f, bail\n"
	"  movl 0x507000, %eax\n"
	"1:movl $2f, bail\n"
	"  movl %eax, 0x507004\n"
	"2:movl $99, %eax\n"
	"  int $0x80\n"
	"  ud2\n");

static volatile u32 *pte(u32 va) { return &pt[va >> 22][(va >> 12) & 1023]; }
static void invlpg(u32 va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static u32 peek(u32 va) { return *(volatile u32 *)va; }

/* Maps the faulting page present and writable, then lets it restart;
 * gives up (skips to bail) if the same access keeps faulting. */
static void pf_hook(struct frame *f)
{
	if (f->vec == 0x80 && f->eax == 99)
		__asm__ volatile("jmp back_in_ring0");
	if (f->vec != 14)
		return;
	pf_err = f->err;
	pf_cr2 = read_cr2();
	if (pf_count < 2) {
		user_errs[pf_count] = pf_err;
		user_cr2s[pf_count] = pf_cr2;
	}
	if (++pf_count > 3 || no_fix) {
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
		pt[i >> 10][i & 1023] = (i << 12) | PG_P | PG_RW | PG_U;
	pd[0] = (u32)pt[0] | PG_P | PG_RW | PG_U;
	pd[1] = (u32)pt[1] | PG_P | PG_RW | PG_U;
	/* test pages, written before paging so the values are known */
	for (u32 a = 0x500000; a < 0x530000; a += 0x1000)
		*(volatile u32 *)a = 0x5a000000 | a >> 12;
	*pte(0x500000) = 0x500000;                /* not present, read */
	*pte(0x501000) = 0x501000;                /* not present, write */
	*pte(0x502000) = 0x502000 | PG_P;         /* read-only */
	*pte(0x503000) = 0x503000 | PG_P | PG_RW; /* A and D clear */
	*pte(0x507000) = 0x507000 | PG_P | PG_RW; /* supervisor only */
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

/* IRETs to @eip in ring 3; returns when ring 3 does INT 0x80 with EAX=99
 * (the hook jumps to back_in_ring0, which reloads the caller's registers). */
static void __attribute__((noinline)) enter_user(u32 eip, u32 esp)
{
	__asm__ volatile("movl %%esp, ring0_ctx\n\tmovl %%ebp, ring0_ctx+4\n\t"
			 "movl %%ebx, ring0_ctx+8\n\tmovl %%esi, ring0_ctx+12\n\tmovl %%edi, ring0_ctx+16\n\t"
			 "pushl $0x2b\n\tpushl %1\n\tpushl $0x2\n\tpushl $0x23\n\tpushl %0\n\tiret\n"
			 "back_in_ring0:\n\t"
			 "movl ring0_ctx, %%esp\n\tmovl ring0_ctx+4, %%ebp\n\tmovl ring0_ctx+8, %%ebx\n\t"
			 "movl ring0_ctx+12, %%esi\n\tmovl ring0_ctx+16, %%edi\n\t"
			 "movw $0x18, %%ax\n\tmovw %%ax, %%ds\n\tmovw %%ax, %%es"
			 : : "r"(eip), "r"(esp) : "eax", "ecx", "edx", "memory");
}

static void test_user_supervisor_page(void)
{
	extern char tstub_128[];
	begin("ring3_access_supervisor_page");
	idt_gate(0x80, tstub_128, 0xef);
	pf_count = 0;
	no_fix = 1;
	user_errs[0] = user_errs[1] = user_cr2s[0] = user_cr2s[1] = 0xffffffff;
	enter_user((u32)user_pf, (u32)user_stack + sizeof(user_stack));
	no_fix = 0;
	expect("#PF count", 2, pf_count);
	expect("read: error code (P=1 W=0 U=1)", 5, user_errs[0]);
	expect("read: CR2", 0x507000, user_cr2s[0]);
	expect("write: error code (P=1 W=1 U=1)", 7, user_errs[1]);
	expect("write: CR2", 0x507004, user_cr2s[1]);
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
	test_user_supervisor_page();
	test_pse();
	finish("paging");
}
