/* Unit tests for vmcore/cpu/except.c: IDT delivery through interrupt gates,
 * the TSS stack switch from ring 3, IRET back, gate DPL checks, error codes
 * pushed for faults, double and triple faults. */
#include "tests/unit/cpu/gdt.h"

static struct harness h;

static int setup(void **state)
{
	(void)state;
	h_init(&h, true);
	gdt_setup(&h);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_free(&h);
	return 0;
}

static void start(const uint8_t *code, size_t n, unsigned ring, uint32_t esp)
{
	h_code(&h, code, n);
	enter_ring(&h, ring);
	struct cpu_state *st = h_get(&h);
	st->eip = H_CODE;
	st->gpr[CPU_ESP] = esp;
	st->eflags = 0x2;
	st->halted = 0;
	h_put(&h);
}

static enum cpu_exit_reason run_n(uint64_t n)
{
	struct havm_err err;
	enum cpu_exit_reason why = cpu_interp_ops.run(h.c, n, &err);
	h_get(&h);
	return why;
}

static void test_int80_from_ring3_switches_stack_and_iret_returns(void **state)
{
	(void)state;
	idt_gate(&h, 0x80, GATE_INT_DPL3);
	static const uint8_t code[] = { 0xcd, 0x80, 0x90 };   /* int 0x80; nop */
	start(code, sizeof(code), 3, 0x7000);
	cpu_interp_trap_exceptions(h.c, false);
	assert_int_equal(run_n(10), CPU_EXIT_HLT_DEAD);          /* the handler's hlt, IF=0 */
	assert_int_equal(h.st.seg[CPU_SEG_CS].selector, SEL_CODE0);
	assert_int_equal(h.st.seg[CPU_SEG_SS].selector, SEL_DATA0);
	assert_int_equal(h.st.eip, HANDLER + 0x80 * 16 + 1);
	assert_int_equal(h.st.gpr[CPU_ESP], 0x9000 - 20);
	assert_int_equal(h_r32(&h, 0x9000 - 20), H_CODE + 2);   /* EIP after INT */
	assert_int_equal(h_r32(&h, 0x9000 - 16), SEL_CODE3);
	assert_int_equal(h_r32(&h, 0x9000 - 8), 0x7000);        /* old ESP */
	assert_int_equal(h_r32(&h, 0x9000 - 4), SEL_DATA3);     /* old SS */
	h.st.halted = 0;
	h_put(&h);
	assert_int_equal(run_n(1), CPU_EXIT_BUDGET);             /* iret */
	assert_int_equal(h.st.seg[CPU_SEG_CS].selector, SEL_CODE3);
	assert_int_equal(h.st.seg[CPU_SEG_SS].selector, SEL_DATA3);
	assert_int_equal(h.st.eip, H_CODE + 2);
	assert_int_equal(h.st.gpr[CPU_ESP], 0x7000);
	cpu_interp_trap_exceptions(h.c, true);
}

static void test_int_through_dpl0_gate_from_ring3_is_gp(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0xcd, 0x81 };
	start(code, sizeof(code), 3, 0x7000);
	assert_int_equal(h_run(&h, 1), EXC_GP);
	assert_int_equal(h_errcode(&h), 0x81 * 8 + 2);
	assert_int_equal(h.st.eip, H_CODE);
}

static void test_privileged_instructions_fault_in_ring3(void **state)
{
	(void)state;
	static const uint8_t cli[] = { 0xfa };
	start(cli, 1, 3, 0x7000);
	assert_int_equal(h_run(&h, 1), EXC_GP);
	static const uint8_t hlt[] = { 0xf4 };
	start(hlt, 1, 3, 0x7000);
	assert_int_equal(h_run(&h, 1), EXC_GP);
	static const uint8_t movcr[] = { 0x0f, 0x22, 0xd8 };   /* mov cr3, eax */
	start(movcr, 3, 3, 0x7000);
	assert_int_equal(h_run(&h, 1), EXC_GP);
	static const uint8_t out[] = { 0xe6, 0x80 };           /* out 0x80, al: no bitmap */
	start(out, 2, 3, 0x7000);
	assert_int_equal(h_run(&h, 1), EXC_GP);
}

static void test_gp_delivery_pushes_the_error_code(void **state)
{
	(void)state;
	/* mov ax, 0x1000; mov ds, ax -> #GP(0x1000): outside the GDT */
	static const uint8_t code[] = { 0x66, 0xb8, 0x00, 0x10, 0x8e, 0xd8 };
	start(code, sizeof(code), 0, 0x8000);
	cpu_interp_trap_exceptions(h.c, false);
	assert_int_equal(run_n(10), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.eip, HANDLER + EXC_GP * 16 + 1);
	assert_int_equal(h.st.gpr[CPU_ESP], 0x8000 - 16);
	assert_int_equal(h_r32(&h, 0x8000 - 16), 0x1000);       /* error code */
	assert_int_equal(h_r32(&h, 0x8000 - 12), H_CODE + 4);   /* the faulting MOV */
	assert_int_equal(h_r32(&h, 0x8000 - 8), SEL_CODE0);
	cpu_interp_trap_exceptions(h.c, true);
}

static void test_fault_while_delivering_gp_is_double_fault(void **state)
{
	(void)state;
	h_w32(&h, IDT + EXC_GP * 8 + 4, h_r32(&h, IDT + EXC_GP * 8 + 4) & ~0x8000u);   /* not present */
	static const uint8_t code[] = { 0x66, 0xb8, 0x00, 0x10, 0x8e, 0xd8 };
	start(code, sizeof(code), 0, 0x8000);
	cpu_interp_trap_exceptions(h.c, false);
	assert_int_equal(run_n(10), CPU_EXIT_HLT_DEAD);
	assert_int_equal(h.st.eip, HANDLER + EXC_DF * 16 + 1);
	assert_int_equal(h_r32(&h, 0x8000 - 16), 0);            /* #DF error code is 0 */
	cpu_interp_trap_exceptions(h.c, true);
	idt_gate(&h, EXC_GP, GATE_INT_DPL0);
}

static void test_fault_with_no_idt_is_triple_fault(void **state)
{
	(void)state;
	struct cpu_state *st = h_get(&h);
	st->idt.limit = 0;
	h_put(&h);
	static const uint8_t code[] = { 0x0f, 0x0b };   /* ud2 */
	start(code, sizeof(code), 0, 0x8000);
	cpu_interp_trap_exceptions(h.c, false);
	assert_int_equal(run_n(10), CPU_EXIT_SHUTDOWN);
	cpu_interp_trap_exceptions(h.c, true);
	st = h_get(&h);
	st->idt.limit = 256 * 8 - 1;
	h_put(&h);
}

static int acks;

static int ack_vector_0x40(void *opaque)
{
	(void)opaque;
	acks++;
	return 0x40;
}

static void test_external_interrupt_waits_for_sti_shadow(void **state)
{
	(void)state;
	static const struct cpu_bus bus = { .irq_ack = ack_vector_0x40 };
	h.c->bus = &bus;   /* white-box: the harness made the CPU without a bus */
	acks = 0;
	static const uint8_t code[] = { 0xfb, 0x90, 0x90, 0x90 };   /* sti; nop; nop */
	start(code, sizeof(code), 0, 0x8000);
	cpu_interp_ops.set_irq(h.c, true);
	assert_int_equal(run_n(2), CPU_EXIT_BUDGET);   /* STI holds the interrupt one insn */
	assert_int_equal(acks, 0);
	assert_int_equal(h.st.eip, H_CODE + 2);
	assert_int_equal(run_n(1), CPU_EXIT_BUDGET);   /* delivered, then the handler's hlt */
	assert_int_equal(acks, 1);
	assert_int_equal(h.st.eip, HANDLER + 0x40 * 16 + 1);
	assert_int_equal(h_r32(&h, 0x8000 - 12), H_CODE + 2);
	assert_false(h.st.eflags & F_IF);
	cpu_interp_ops.set_irq(h.c, false);
	h.c->bus = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int80_from_ring3_switches_stack_and_iret_returns),
		cmocka_unit_test(test_int_through_dpl0_gate_from_ring3_is_gp),
		cmocka_unit_test(test_privileged_instructions_fault_in_ring3),
		cmocka_unit_test(test_gp_delivery_pushes_the_error_code),
		cmocka_unit_test(test_fault_while_delivering_gp_is_double_fault),
		cmocka_unit_test(test_fault_with_no_idt_is_triple_fault),
		cmocka_unit_test(test_external_interrupt_waits_for_sti_shadow),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
