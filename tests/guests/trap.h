/* Exception plumbing and pass/fail reporting for the system-level test
 * guests (paging, rings, idt, fpu): a GDT with ring-3 segments, a TSS and
 * a call gate, an IDT whose every exception vector goes through one common
 * stub to trap_dispatch(), and "PASS name" / "FAIL name: ..." lines on
 * COM1. Include once per guest (it holds definitions). */
#ifndef HAVM_TESTS_GUESTS_TRAP_H
#define HAVM_TESTS_GUESTS_TRAP_H

#include "guest.h"

#define SEL_CODE0 0x10
#define SEL_DATA0 0x18
#define SEL_CODE3 0x23
#define SEL_DATA3 0x2b
#define SEL_TSS   0x30
#define SEL_CGATE 0x3b   /* call gate, DPL 3, to SEL_CODE0:cgate_target */
#define SEL_NP    0x40   /* data segment with P=0 */

/* What the common stub pushes, lowest address first. esp3/ss3 are only
 * there when the trap came from ring 3. */
struct frame {
	u32 edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax;
	u32 vec, err, eip, cs, eflags, esp3, ss3;
};

/* One trap's record, filled by trap_dispatch(). */
struct trap_seen {
	u32 count, vec, err, eip, cs, eflags, esp3, ss3, frame_addr, cr2;
};
static volatile struct trap_seen seen;
/* Set by a test before it faults: where the handler resumes (0: return
 * to the faulting EIP, as for a fixed-up #PF) and where it faulted. */
volatile u32 recover, fault_at;
/* Optional per-test hook, run before the default recovery. */
static void (*trap_hook)(struct frame *f);

void trap_dispatch(struct frame *f);
__asm__(
	".text\n"
	".macro TSTUB v, err\n"
	"tstub_\\v:\n"
	".if \\err == 0\n"
	"  pushl $0\n"
	".endif\n"
	"  pushl $\\v\n"
	"  jmp trap_common\n"
	".endm\n"
	".irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,32,33,128,129,130\n"
	"  TSTUB \\v, 0\n"
	".endr\n"
	".irp v, 8,10,11,12,13,14,17\n"
	"  TSTUB \\v, 1\n"
	".endr\n"
	"cgate_target:\n"          /* ring-0 end of SEL_CGATE: records what it got */
	"  movl %cs, %eax\n  movl %eax, cg_cs\n"
	"  movl %esp, cg_esp\n"
	"  movl 8(%esp), %eax\n  movl %eax, cg_p0\n"
	"  movl 12(%esp), %eax\n  movl %eax, cg_p1\n"
	"  movl 16(%esp), %eax\n  movl %eax, cg_oldesp\n"
	"  movl 20(%esp), %eax\n  movl %eax, cg_oldss\n"
	"  lret $8\n"
	"trap_common:\n"
	"  pushal\n"
	"  movl %esp, %eax\n"
	"  pushl %eax\n"
	"  call trap_dispatch\n"
	"  addl $4, %esp\n"
	"  popal\n"
	"  addl $8, %esp\n"
	"  iret\n"
	".section .rodata\n"
	".align 4\n"
	"trap_stub_vecs:\n"
	".long 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,32,33,128,129,130\n"
	"trap_stub_addrs:\n"
	".long tstub_0,tstub_1,tstub_2,tstub_3,tstub_4,tstub_5,tstub_6,tstub_7,tstub_8,tstub_9\n"
	".long tstub_10,tstub_11,tstub_12,tstub_13,tstub_14,tstub_15,tstub_16,tstub_17,tstub_18,tstub_19\n"
	".long tstub_32,tstub_33,tstub_128,tstub_129,tstub_130\n"
	".text\n");
extern const u32 trap_stub_vecs[25], trap_stub_addrs[25];

/* ---- reporting ---------------------------------------------------------- */

static inline void puthex_serial(u32 v)
{
	puts_serial("0x");
	for (int s = 28; s >= 0; s -= 4)
		putc_serial("0123456789abcdef"[(v >> s) & 15]);
}

static const char *cur_test;
static u32 nfail, cur_fails;

static inline void begin(const char *name) { cur_test = name; cur_fails = nfail; }

static inline void expect(const char *what, u32 exp, u32 got)
{
	if (exp == got)
		return;
	nfail++;
	puts_serial("FAIL ");
	puts_serial(cur_test);
	puts_serial(": ");
	puts_serial(what);
	puts_serial(" expected ");
	puthex_serial(exp);
	puts_serial(" got ");
	puthex_serial(got);
	putc_serial('\n');
}

static inline void end(void)
{
	if (nfail != cur_fails)
		return;
	puts_serial("PASS ");
	puts_serial(cur_test);
	putc_serial('\n');
}

static inline void finish(const char *guest)
{
	puts_serial(guest);
	puts_serial(nfail ? ": done with failures\n" : ": done\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- descriptor tables --------------------------------------------------- */


typedef unsigned long long u64;

static u64 gdt[9] __attribute__((aligned(8)));
static u64 idt64[256] __attribute__((aligned(8)));
static u32 tss[26] __attribute__((aligned(16)));
static u8 ring0_stack[4096] __attribute__((aligned(16)));
void cgate_target(void);
/* Filled by cgate_target: its CS and ESP, the two copied parameters (p0 =
 * the one pushed last), and the caller's ESP and SS. */
volatile u32 cg_cs, cg_esp, cg_p0, cg_p1, cg_oldesp, cg_oldss;

static inline u64 seg_desc(u32 base, u32 limit, u32 access, u32 flags)
{
	return (u64)(limit & 0xffff) | (u64)(base & 0xffffff) << 16 | (u64)access << 40 |
	       (u64)((limit >> 16) & 15) << 48 | (u64)flags << 52 | (u64)(base >> 24) << 56;
}

/* A gate (interrupt, trap or call): @type is the access byte. */
static inline u64 gate_desc(u32 off, u16 sel, u32 type, u32 params)
{
	return (u64)(off & 0xffff) | (u64)sel << 16 | (u64)params << 32 | (u64)type << 40 |
	       (u64)(off >> 16) << 48;
}

static inline void idt_gate(int v, void *handler, u32 type)
{
	idt64[v] = gate_desc((u32)handler, SEL_CODE0, type, 0);
}

static inline void tables_init(void)
{
	gdt[2] = seg_desc(0, 0xfffff, 0x9b, 0xc);
	gdt[3] = seg_desc(0, 0xfffff, 0x93, 0xc);
	gdt[4] = seg_desc(0, 0xfffff, 0xfb, 0xc);
	gdt[5] = seg_desc(0, 0xfffff, 0xf3, 0xc);
	gdt[6] = seg_desc((u32)tss, sizeof(tss) - 1, 0x89, 0);
	gdt[7] = gate_desc((u32)cgate_target, SEL_CODE0, 0xec, 2);
	gdt[8] = seg_desc(0, 0xfffff, 0x13, 0xc);   /* P=0 */
	tss[1] = (u32)ring0_stack + sizeof(ring0_stack);   /* ESP0 */
	tss[2] = SEL_DATA0;                                /* SS0 */
	tss[25] = (u32)sizeof(tss) << 16;                  /* I/O map base: none */
	for (int i = 0; i < 25; i++)
		idt_gate((int)trap_stub_vecs[i], (void *)trap_stub_addrs[i], 0x8e);
	struct { u16 limit; u32 base; } __attribute__((packed))
		g = { sizeof(gdt) - 1, (u32)gdt }, d = { sizeof(idt64) - 1, (u32)idt64 };
	__asm__ volatile("lgdt %0\n\t"
			 "ljmp $0x10, $1f\n"
			 "1:\tmovw $0x18, %%ax\n\t"
			 "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\tmovw %%ax, %%ss\n\t"
			 "movw %%ax, %%fs\n\tmovw %%ax, %%gs\n\t"
			 "lidt %1\n\t"
			 "movw $0x30, %%ax\n\tltr %%ax"
			 : : "m"(g), "m"(d) : "eax", "memory");
}

static inline u32 read_cr0(void) { u32 v; __asm__ volatile("movl %%cr0, %0" : "=r"(v)); return v; }
static inline u32 read_cr2(void) { u32 v; __asm__ volatile("movl %%cr2, %0" : "=r"(v)); return v; }
static inline void write_cr0(u32 v) { __asm__ volatile("movl %0, %%cr0" : : "r"(v) : "memory"); }

void trap_dispatch(struct frame *f)
{
	seen.count++;
	seen.vec = f->vec;
	seen.err = f->err;
	seen.eip = f->eip;
	seen.cs = f->cs;
	seen.eflags = f->eflags;
	seen.esp3 = f->esp3;
	seen.ss3 = f->ss3;
	seen.frame_addr = (u32)f;
	seen.cr2 = read_cr2();
	if (trap_hook)
		trap_hook(f);
	if (recover) {
		f->eip = recover;
		recover = 0;
	}
}

/* Starts an inline asm that expects one trap: the handler resumes at the
 * asm's local label 1, and label 2 marks the faulting instruction. */
#define TRAP_RECOVER_PROLOGUE "movl $1f, recover\n\tmovl $2f, fault_at\n\t"

static inline void clear_seen(void) { seen.count = 0; seen.vec = 0xffffffff; seen.err = 0xffffffff; }

#endif
