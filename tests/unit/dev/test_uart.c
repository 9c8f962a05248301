/* 16550A: output to the backend, THRE interrupts, IIR priorities, loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devtest.h"

#define COM1 0x3f8

static char path[64];

static void test_uart_thr_writes_reach_the_file_backend(void **state)
{
	(void)state;
	struct devtest t;
	snprintf(path, sizeof(path), "/tmp/havm-uart-%d", getpid());
	devtest_init(&t, 1, path, 1);
	for (const char *s = "hello\n"; *s; s++) {
		assert_true(devtest_inb(&t, COM1 + 5) & 0x20);   /* THRE */
		devtest_outb(&t, COM1, (uint8_t)*s);
	}
	devtest_fini(&t);
	char file[80], buf[32] = { 0 };
	snprintf(file, sizeof(file), "%s.0", path);
	FILE *f = fopen(file, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 6);
	fclose(f);
	unlink(file);
	assert_string_equal(buf, "hello\n");
}

static void test_uart_thre_interrupt_needs_out2_and_clears_on_iir_read(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 1, NULL, 1);
	devtest_pic_init(&t);
	devtest_outb(&t, COM1 + 1, 0x02);                  /* IER: THRI */
	assert_int_equal(pic_output(t.m.pic), 0);          /* OUT2 off: line gated */
	devtest_outb(&t, COM1 + 4, 0x08);                  /* MCR: OUT2 */
	assert_int_equal(pic_output(t.m.pic), 1);
	assert_int_equal(t.m.bus.irq_ack(t.m.bus.opaque), 0x24);
	assert_int_equal(devtest_inb(&t, COM1 + 2), 0x02); /* IIR: THRE */
	assert_int_equal(devtest_inb(&t, COM1 + 2), 0x01); /* acknowledged */
	devtest_outb(&t, COM1, 'x');                       /* next THRE after the write */
	assert_int_equal(devtest_inb(&t, COM1 + 2), 0x02);
	devtest_fini(&t);
}

static void test_uart_linux_thre_probe_sees_an_interrupt(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 1, NULL, 1);
	/* serial8250_do_startup's UART_BUG_THRE test. */
	devtest_outb(&t, COM1 + 1, 0x02);
	uint8_t lsr = devtest_inb(&t, COM1 + 5);
	uint8_t iir1 = devtest_inb(&t, COM1 + 2);
	devtest_outb(&t, COM1 + 1, 0x00);
	devtest_outb(&t, COM1 + 1, 0x02);
	uint8_t iir = devtest_inb(&t, COM1 + 2);
	assert_true(lsr & 0x40);
	assert_int_equal(iir1 & 0x01, 0);
	assert_int_equal(iir & 0x01, 0);
	devtest_fini(&t);
}

static void test_uart_loopback_echoes_and_maps_modem_lines(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 1, NULL, 1);
	devtest_outb(&t, COM1 + 4, 0x1a);                  /* LOOP | OUT2 | RTS */
	assert_int_equal(devtest_inb(&t, COM1 + 6) & 0xf0, 0x90);
	devtest_outb(&t, COM1 + 2, 0x07);                  /* FIFO on, cleared */
	devtest_outb(&t, COM1, 'a');
	devtest_outb(&t, COM1, 'b');
	assert_true(devtest_inb(&t, COM1 + 5) & 0x01);     /* DR */
	assert_int_equal(devtest_inb(&t, COM1 + 2) & 0xc0, 0xc0);
	assert_int_equal(devtest_inb(&t, COM1), 'a');
	assert_int_equal(devtest_inb(&t, COM1), 'b');
	assert_int_equal(devtest_inb(&t, COM1 + 5) & 0x01, 0);
	/* Scratch and divisor latch. */
	devtest_outb(&t, COM1 + 7, 0x5a);
	assert_int_equal(devtest_inb(&t, COM1 + 7), 0x5a);
	devtest_outb(&t, COM1 + 3, 0x80);
	devtest_outb(&t, COM1, 0x01);
	assert_int_equal(devtest_inb(&t, COM1), 0x01);
	devtest_outb(&t, COM1 + 3, 0x03);
	devtest_fini(&t);
}

static void test_uart_rx_interrupt_has_priority_over_thre(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 1, NULL, 1);
	devtest_outb(&t, COM1 + 4, 0x18);                  /* LOOP | OUT2 */
	devtest_outb(&t, COM1 + 1, 0x03);                  /* RDI | THRI */
	devtest_outb(&t, COM1, 'z');
	assert_int_equal(devtest_inb(&t, COM1 + 2) & 0x0f, 0x04);
	assert_int_equal(devtest_inb(&t, COM1), 'z');
	assert_int_equal(devtest_inb(&t, COM1 + 2) & 0x0f, 0x02);
	devtest_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uart_thr_writes_reach_the_file_backend),
		cmocka_unit_test(test_uart_thre_interrupt_needs_out2_and_clears_on_iir_read),
		cmocka_unit_test(test_uart_linux_thre_probe_sees_an_interrupt),
		cmocka_unit_test(test_uart_loopback_echoes_and_maps_modem_lines),
		cmocka_unit_test(test_uart_rx_interrupt_has_priority_over_thre),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
