/* Rings guest: IRET to ring 3 (CS 0x23, SS 0x2b); from there INT 0x80
 * through a DPL-3 trap gate runs the handler at CPL 0 on the TSS's
 * SS0:ESP0 stack with the ring-3 SS:ESP pushed, and returns to ring 3;
 * CLI and HLT at CPL 3 with IOPL 0 raise #GP(0); INT to a DPL-0 gate
 * raises #GP(vector*8+2); a far call through a DPL-3 call gate reaches
 * ring 0 with two parameters copied and returns with RET 8. Ring 3 can't
 * touch the UART (IOPL 0), so it records what it saw and ring 0 reports
 * after an INT 0x80 with EAX=99 that does not return. */
#include "trap.h"

void main(void);
void user_main(void);
void user_entry(void);

__asm__(".text\n"
	"user_entry:\n"              /* IRET to ring 3 nulled DS/ES (DPL 0) */
	"  movw $0x2b, %ax\n  movw %ax, %ds\n  movw %ax, %es\n"
	"  movw %ax, %fs\n  movw %ax, %gs\n"
	"  call user_main\n"
	"  ud2\n");

static u8 user_stack[4096] __attribute__((aligned(16)));

/* What ring 3 saw, reported later from ring 0. */
static volatile struct {
	u32 cpl_start, ds_start;
	u32 sc_count, sc_vec, sc_cs, sc_ss3, sc_esp3, sc_frame_top, sc_esp_at_int, sc_cpl, sc_ss;
	u32 cpl_after_sc;
	u32 cli_count, cli_vec, cli_err, cli_eip, cli_at;
	u32 hlt_count, hlt_vec, hlt_err, hlt_eip, hlt_at;
	u32 i81_count, i81_vec, i81_err;
	u32 cg_esp_before, cg_esp_after, cpl_after_cg, cg_ran;
} r;
static volatile u32 hook_cpl, hook_ss;

static u32 cpl(void) { u32 cs; __asm__ volatile("movl %%cs, %0" : "=r"(cs)); return cs & 3; }
static void clear(void) { seen.count = 0; seen.vec = seen.err = 0xffffffff; }
static void report(void);

static void hook(struct frame *f)
{
	u32 ss;
	__asm__ volatile("movl %%ss, %0" : "=r"(ss));
	hook_cpl = cpl();
	hook_ss = ss & 0xffff;
	if (f->vec == 0x80 && f->eax == 99)
		report();   /* back in ring 0 for good */
}

void user_main(void)
{
	u32 ds;
	__asm__ volatile("movl %%ds, %0" : "=r"(ds));
	r.cpl_start = cpl();
	r.ds_start = ds & 0xffff;

	clear();
	u32 esp_at;
	__asm__ volatile("movl %%esp, %0\n\tint $0x80" : "=&r"(esp_at) : "a"(1) : "memory");
	r.sc_count = seen.count; r.sc_vec = seen.vec; r.sc_cs = seen.cs & 0xffff;
	r.sc_ss3 = seen.ss3 & 0xffff; r.sc_esp3 = seen.esp3; r.sc_esp_at_int = esp_at;
	r.sc_frame_top = seen.frame_addr + sizeof(struct frame);
	r.sc_cpl = hook_cpl; r.sc_ss = hook_ss;
	r.cpl_after_sc = cpl();

	clear();
	__asm__ volatile(TRAP_RECOVER_PROLOGUE "2:\tcli\n1:" : : : "memory");
	r.cli_count = seen.count; r.cli_vec = seen.vec; r.cli_err = seen.err;
	r.cli_eip = seen.eip; r.cli_at = fault_at;

	clear();
	__asm__ volatile(TRAP_RECOVER_PROLOGUE "2:\thlt\n1:" : : : "memory");
	r.hlt_count = seen.count; r.hlt_vec = seen.vec; r.hlt_err = seen.err;
	r.hlt_eip = seen.eip; r.hlt_at = fault_at;

	clear();
	__asm__ volatile(TRAP_RECOVER_PROLOGUE "2:\tint $0x81\n1:" : : : "memory");
	r.i81_count = seen.count; r.i81_vec = seen.vec; r.i81_err = seen.err;

	cg_cs = cg_p0 = cg_p1 = cg_oldesp = cg_oldss = 0xffffffff;
	u32 before, after;
	__asm__ volatile("movl %%esp, %0\n\t"
			 "pushl $0x1111\n\tpushl $0x2222\n\t"
			 "lcall $0x3b, $0\n\t"
			 "movl %%esp, %1"
			 : "=&r"(before), "=&r"(after) : : "eax", "memory");
	r.cg_esp_before = before;
	r.cg_esp_after = after;
	r.cpl_after_cg = cpl();

	__asm__ volatile("int $0x80" : : "a"(99) : "memory");
}

static void report(void)
{
	u32 esp0 = tss[1];
	begin("iret_to_ring3");
	expect("CPL after IRET", 3, r.cpl_start);
	expect("DS as loaded in ring 3", SEL_DATA3, r.ds_start);
	end();

	begin("int80_dpl3_trap_gate_to_ring0");
	expect("trap count", 1, r.sc_count);
	expect("vector", 0x80, r.sc_vec);
	expect("handler CPL", 0, r.sc_cpl);
	expect("handler SS (SS0)", SEL_DATA0, r.sc_ss);
	expect("frame ends at ESP0", esp0, r.sc_frame_top);
	expect("pushed CS", SEL_CODE3, r.sc_cs);
	expect("pushed SS", SEL_DATA3, r.sc_ss3);
	expect("pushed ESP", r.sc_esp_at_int, r.sc_esp3);
	expect("CPL after IRET back", 3, r.cpl_after_sc);
	end();

	begin("cli_in_ring3_gp0");
	expect("trap count", 1, r.cli_count);
	expect("vector", 13, r.cli_vec);
	expect("error code", 0, r.cli_err);
	expect("saved EIP (the CLI)", r.cli_at, r.cli_eip);
	end();

	begin("hlt_in_ring3_gp0");
	expect("trap count", 1, r.hlt_count);
	expect("vector", 13, r.hlt_vec);
	expect("error code", 0, r.hlt_err);
	expect("saved EIP (the HLT)", r.hlt_at, r.hlt_eip);
	end();

	begin("int_dpl0_gate_from_ring3_gp");
	expect("trap count", 1, r.i81_count);
	expect("vector", 13, r.i81_vec);
	expect("error code (0x81*8+2)", 0x81 * 8 + 2, r.i81_err);
	end();

	begin("call_gate_to_ring0_with_params");
	expect("target CS", SEL_CODE0, cg_cs & 0xffff);
	expect("parameter pushed last", 0x2222, cg_p0);
	expect("parameter pushed first", 0x1111, cg_p1);
	expect("caller SS", SEL_DATA3, cg_oldss & 0xffff);
	expect("caller ESP (after its pushes)", r.cg_esp_before - 8, cg_oldesp);
	expect("target ESP (ESP0 less SS, ESP, 2 params, CS, EIP)", esp0 - 24, cg_esp);
	expect("ESP after RET 8", r.cg_esp_before, r.cg_esp_after);
	expect("CPL after return", 3, r.cpl_after_cg);
	end();
	finish("rings");
}

void main(void)
{
	serial_init();
	tables_init();
	extern char tstub_128[];
	idt_gate(0x80, tstub_128, 0xef);   /* DPL 3 trap gate */
	trap_hook = hook;
	puts_serial("rings: start\n");
	__asm__ volatile("pushl $0x2b\n\tpushl %0\n\tpushl $0x2\n\tpushl $0x23\n\tpushl %1\n\tiret"
			 : : "r"((u32)user_stack + sizeof(user_stack)), "r"(user_entry) : "memory");
	puts_serial("FAIL rings: IRET to ring 3 fell through\n");
	finish("rings");
}
