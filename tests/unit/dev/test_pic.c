/* 8259A pair: initialisation, priority, cascade, EOI, masking, ELCR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "devtest.h"

static int ack(struct devtest *t)
{
	return t->m.bus.irq_ack(t->m.bus.opaque);
}

static void test_pic_edge_irq_raises_intr_and_acks_vector(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	devtest_pic_init(&t);
	assert_int_equal(pic_output(t.m.pic), 0);
	struct irq_line l = machine_isa_irq(&t.m, 3);
	irq_set(&l, 1);
	assert_int_equal(pic_output(t.m.pic), 1);
	assert_int_equal(ack(&t), 0x23);
	assert_int_equal(pic_output(t.m.pic), 0);        /* in service, IRR cleared */
	assert_int_equal(devtest_inb(&t, 0x20), 0x00);   /* IRR */
	devtest_outb(&t, 0x20, 0x0b);                    /* OCW3: read ISR */
	assert_int_equal(devtest_inb(&t, 0x20), 0x08);
	irq_set(&l, 0);
	irq_set(&l, 1);                                  /* a second edge while in service */
	assert_int_equal(pic_output(t.m.pic), 0);        /* same priority: held */
	devtest_outb(&t, 0x20, 0x20);                    /* non-specific EOI */
	assert_int_equal(pic_output(t.m.pic), 1);
	assert_int_equal(ack(&t), 0x23);
	devtest_fini(&t);
}

static void test_pic_priority_and_masking(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	devtest_pic_init(&t);
	devtest_outb(&t, 0x21, 0x01);                    /* mask IRQ 0 */
	struct irq_line l0 = machine_isa_irq(&t.m, 0), l5 = machine_isa_irq(&t.m, 5);
	irq_pulse(&l0);
	assert_int_equal(pic_output(t.m.pic), 0);
	irq_pulse(&l5);
	assert_int_equal(ack(&t), 0x25);
	devtest_outb(&t, 0x20, 0x20);
	devtest_outb(&t, 0x21, 0x00);                    /* unmask: the latched IRQ 0 shows */
	assert_int_equal(ack(&t), 0x20);
	assert_int_equal(devtest_inb(&t, 0x21), 0x00);
	devtest_fini(&t);
}

static void test_pic_slave_cascades_through_irq2(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	devtest_pic_init(&t);
	struct irq_line l8 = machine_isa_irq(&t.m, 8);
	irq_pulse(&l8);
	assert_int_equal(pic_output(t.m.pic), 1);
	assert_int_equal(ack(&t), 0x28);
	devtest_outb(&t, 0xa0, 0x20);
	devtest_outb(&t, 0x20, 0x20);
	assert_int_equal(pic_output(t.m.pic), 0);
	devtest_fini(&t);
}

static void test_pic_spurious_when_line_dropped(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	devtest_pic_init(&t);
	assert_int_equal(ack(&t), 0x27);
	assert_int_equal(t.m.count.spurious_irqs, 1);
	devtest_fini(&t);
}

static void test_pic_elcr_level_stays_pending_until_lowered(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	devtest_pic_init(&t);
	devtest_outb(&t, 0x4d1, 0xff);
	assert_int_equal(devtest_inb(&t, 0x4d1), 0xde);   /* IRQ 8 and 13 stay edge */
	struct irq_line l10 = machine_isa_irq(&t.m, 10);
	irq_set(&l10, 1);
	assert_int_equal(ack(&t), 0x2a);
	devtest_outb(&t, 0xa0, 0x20);
	devtest_outb(&t, 0x20, 0x20);
	assert_int_equal(pic_output(t.m.pic), 1);         /* still asserted: level */
	irq_set(&l10, 0);
	assert_int_equal(pic_output(t.m.pic), 0);
	devtest_fini(&t);
}

static void test_pic_save_load_roundtrip_and_rejects_bad_state(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	devtest_pic_init(&t);
	devtest_outb(&t, 0x21, 0x5a);
	uint8_t buf[256];
	assert_true(pic_dev_ops.state_size <= sizeof(buf));
	pic_dev_ops.save(t.m.pic, buf);
	devtest_outb(&t, 0x21, 0x00);
	struct havm_err err;
	assert_int_equal(pic_dev_ops.load(t.m.pic, buf, pic_dev_ops.state_size, &err), 0);
	assert_int_equal(devtest_inb(&t, 0x21), 0x5a);
	assert_true(pic_dev_ops.load(t.m.pic, buf, pic_dev_ops.state_size - 1, &err) < 0);
	devtest_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pic_edge_irq_raises_intr_and_acks_vector),
		cmocka_unit_test(test_pic_priority_and_masking),
		cmocka_unit_test(test_pic_slave_cascades_through_irq2),
		cmocka_unit_test(test_pic_spurious_when_line_dropped),
		cmocka_unit_test(test_pic_elcr_level_stays_pending_until_lowered),
		cmocka_unit_test(test_pic_save_load_roundtrip_and_rejects_bad_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
