/* IDT guest: exceptions with and without error codes reach the right
 * vectors with the right saved EIP (#DE and #UD: the faulting
 * instruction; #BP: the next one), a bad selector load gives #GP or #NP
 * with the selector in the error code, an interrupt gate clears IF where
 * a trap gate keeps it, the PIT's IRQ 0 arrives at the remapped vector
 * 0x20, and a #GP whose own gate is not present becomes a double fault. */
#include "trap.h"

void main(void);

static volatile u32 if_in_handler;
static void hook_read_if(struct frame *f)
{
	u32 fl;
	__asm__ volatile("pushfl; popl %0" : "=r"(fl));
	if_in_handler = fl & 0x200;
	if (f->vec == 0x20)
		outb(0x20, 0x20);   /* EOI */
}

static void test_de(void)
{
	begin("div_by_zero_de");
	clear_seen();
	__asm__ volatile(TRAP_RECOVER_PROLOGUE "xorl %%ecx, %%ecx\n\tmovl $7, %%eax\n\txorl %%edx, %%edx\n"
			 "2:\tdivl %%ecx\n1:" : : : "eax", "ecx", "edx", "memory");
	expect("trap count", 1, seen.count);
	expect("vector", 0, seen.vec);
	expect("saved EIP (the DIV)", fault_at, seen.eip);
	expect("saved CS", SEL_CODE0, seen.cs & 0xffff);
	end();
}

static void test_ud(void)
{
	begin("ud2_ud");
	clear_seen();
	__asm__ volatile(TRAP_RECOVER_PROLOGUE "2:\tud2\n1:" : : : "memory");
	expect("trap count", 1, seen.count);
	expect("vector", 6, seen.vec);
	expect("saved EIP (the UD2)", fault_at, seen.eip);
	end();
}

static void test_bp(void)
{
	u32 after;
	begin("int3_bp");
	clear_seen();
	__asm__ volatile("movl $1f, %0\n\tint3\n1:" : "=r"(after) : : "memory");
	expect("trap count", 1, seen.count);
	expect("vector", 3, seen.vec);
	expect("saved EIP (after INT3)", after, seen.eip);
	end();
}

static void test_gp_selector(void)
{
	begin("bad_selector_gp");
	clear_seen();
	/* 0x48 is past the GDT limit (9 entries): #GP(0x48) */
	__asm__ volatile(TRAP_RECOVER_PROLOGUE "movw $0x48, %%ax\n2:\tmovw %%ax, %%ds\n1:" : : : "eax", "memory");
	expect("trap count", 1, seen.count);
	expect("vector", 13, seen.vec);
	expect("error code (selector)", 0x48, seen.err);
	expect("saved EIP (the MOV)", fault_at, seen.eip);
	u32 ds;
	__asm__ volatile("movl %%ds, %0" : "=r"(ds));
	expect("DS unchanged", SEL_DATA0, ds & 0xffff);
	end();

	begin("not_present_segment_np");
	clear_seen();
	__asm__ volatile(TRAP_RECOVER_PROLOGUE "movw $0x40, %%ax\n2:\tmovw %%ax, %%es\n1:" : : : "eax", "memory");
	expect("trap count", 1, seen.count);
	expect("vector", 11, seen.vec);
	expect("error code (selector)", SEL_NP, seen.err);
	expect("saved EIP (the MOV)", fault_at, seen.eip);
	end();
}

static void test_gate_if(void)
{
	extern char tstub_129[], tstub_130[];
	trap_hook = hook_read_if;
	begin("interrupt_gate_clears_if");
	idt_gate(0x81, tstub_129, 0x8e);
	clear_seen();
	if_in_handler = 0xdead;
	__asm__ volatile("sti\n\tint $0x81\n\tcli" : : : "memory");
	expect("vector", 0x81, seen.vec);
	expect("IF inside the handler", 0, if_in_handler);
	expect("IF in the saved EFLAGS", 0x200, seen.eflags & 0x200);
	end();

	begin("trap_gate_keeps_if");
	idt_gate(0x82, tstub_130, 0x8f);
	clear_seen();
	if_in_handler = 0xdead;
	__asm__ volatile("sti\n\tint $0x82\n\tcli" : : : "memory");
	expect("vector", 0x82, seen.vec);
	expect("IF inside the handler", 0x200, if_in_handler);
	end();
	trap_hook = 0;
}

static void test_pit_irq(void)
{
	begin("pit_irq0_at_vector_0x20");
	/* PIC pair remapped to 0x20/0x28, only IRQ 0 unmasked */
	outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
	outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
	outb(0x21, 0xfe);
	outb(0xa1, 0xff);
	trap_hook = hook_read_if;
	clear_seen();
	outb(0x43, 0x34);   /* channel 0, mode 2, 1 kHz */
	outb(0x40, (u8)1193);
	outb(0x40, (u8)(1193 >> 8));
	for (int i = 0; i < 100 && seen.count == 0; i++)
		__asm__ volatile("sti; hlt; cli" : : : "memory");
	outb(0x21, 0xff);
	trap_hook = 0;
	expect("an interrupt arrived", 1, seen.count != 0);
	expect("vector", 0x20, seen.vec);
	expect("IF inside the handler (interrupt gate)", 0, if_in_handler);
	end();
}

static void test_double_fault(void)
{
	begin("gp_through_absent_gate_double_fault");
	u64 saved = idt64[13];
	idt64[13] &= ~(1ull << 47);   /* #GP's gate not present: #NP while delivering #GP */
	clear_seen();
	__asm__ volatile(TRAP_RECOVER_PROLOGUE "movw $0x48, %%ax\n2:\tmovw %%ax, %%ds\n1:" : : : "eax", "memory");
	idt64[13] = saved;
	expect("trap count", 1, seen.count);
	expect("vector", 8, seen.vec);
	expect("error code", 0, seen.err);
	end();
}

void main(void)
{
	serial_init();
	tables_init();
	puts_serial("idt: start\n");
	test_de();
	test_ud();
	test_bp();
	test_gp_selector();
	test_gate_if();
	test_pit_irq();
	test_double_fault();
	finish("idt");
}
