/* i8042: Linux's probe sequence and the reset pulse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "devtest.h"

static void test_i8042_self_test_and_command_byte(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	assert_int_not_equal(devtest_inb(&t, 0x64), 0xff);
	devtest_outb(&t, 0x64, 0xaa);
	assert_true(devtest_inb(&t, 0x64) & 0x01);
	assert_int_equal(devtest_inb(&t, 0x60), 0x55);
	assert_int_equal(devtest_inb(&t, 0x64) & 0x01, 0);
	devtest_outb(&t, 0x64, 0x60);
	devtest_outb(&t, 0x60, 0x45);
	devtest_outb(&t, 0x64, 0x20);
	assert_int_equal(devtest_inb(&t, 0x60), 0x45);
	/* AUX loopback (0xD3) comes back flagged as AUX data. */
	devtest_outb(&t, 0x64, 0xd3);
	devtest_outb(&t, 0x60, 0x5a);
	assert_int_equal(devtest_inb(&t, 0x64) & 0x21, 0x21);
	assert_int_equal(devtest_inb(&t, 0x60), 0x5a);
	/* Keyboard reset answers ACK then BAT OK. */
	devtest_outb(&t, 0x60, 0xff);
	assert_int_equal(devtest_inb(&t, 0x60), 0xfa);
	assert_int_equal(devtest_inb(&t, 0x60), 0xaa);
	assert_int_equal(atomic_load(&t.m.requests), 0);
	devtest_fini(&t);
}

static void test_i8042_fe_pulse_requests_reset(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	devtest_outb(&t, 0x64, 0xfe);
	assert_int_equal(atomic_load(&t.m.requests) & MACHINE_REQ_RESET, MACHINE_REQ_RESET);
	devtest_fini(&t);
}

static void test_port92_bit0_requests_reset(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	assert_int_equal(devtest_inb(&t, 0x92), 0x02);
	devtest_outb(&t, 0x92, 0x03);
	assert_int_equal(atomic_load(&t.m.requests) & MACHINE_REQ_RESET, MACHINE_REQ_RESET);
	devtest_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_i8042_self_test_and_command_byte),
		cmocka_unit_test(test_i8042_fe_pulse_requests_reset),
		cmocka_unit_test(test_port92_bit0_requests_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
