/* 16550A: output to the backend, THRE interrupts, IIR priorities, loopback,
 * back-pressure from a slow socket reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
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

/* A board whose COM1 is a socket backend with a connected client that
 * reads only when the test says so. */
struct slow_peer {
	struct devtest t;
	qb_loop_t *loop;
	int client;
	char sock[80];
};

static void stop_loop(void *data)
{
	qb_loop_stop(data);
}

/* Runs the event loop for about a millisecond (accept, drain, input). */
static void pump(struct slow_peer *p)
{
	qb_loop_timer_handle th;
	assert_int_equal(qb_loop_timer_add(p->loop, QB_LOOP_LOW, 1000000, p->loop, stop_loop, &th), 0);
	qb_loop_run(p->loop);
}

static void slow_peer_init(struct slow_peer *p)
{
	struct pc_config cfg = { .nuarts = 1 };
	memset(p, 0, sizeof(*p));
	p->loop = qb_loop_create();
	assert_non_null(p->loop);
	cfg.loop = p->loop;
	cfg.uart[0].base = COM1;
	cfg.uart[0].irq = 4;
	cfg.uart[0].chardev.kind = CHARDEV_SOCKET;
	snprintf(p->sock, sizeof(p->sock), "/tmp/havm-uart-sock-%d", getpid());
	snprintf(cfg.uart[0].chardev.path, CHARDEV_PATH_MAX, "%s", p->sock);
	devtest_init_cfg(&p->t, &cfg);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->sock);
	p->client = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(p->client >= 0);
	int small = 4096;
	setsockopt(p->client, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	assert_int_equal(connect(p->client, (struct sockaddr *)&sa, sizeof(sa)), 0);
	pump(p);   /* accept */
}

static void slow_peer_fini(struct slow_peer *p)
{
	close(p->client);
	devtest_fini(&p->t);
	qb_loop_destroy(p->loop);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

/* Reads at most @max bytes and checks them against the pattern. */
static size_t slow_read(struct slow_peer *p, size_t got, size_t max)
{
	uint8_t buf[4096];
	ssize_t n = read(p->client, buf, max < sizeof(buf) ? max : sizeof(buf));
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != pattern(got + (size_t)i))
			fail_msg("byte %zu: 0x%02x, expected 0x%02x", got + (size_t)i, buf[i],
				 pattern(got + (size_t)i));
	return n > 0 ? got + (size_t)n : got;
}

#define SLOW_TOTAL (512u << 10)   /* far more than the socket and vmm buffers hold */

static void test_uart_slow_socket_reader_loses_no_byte(void **state)
{
	(void)state;
	struct slow_peer p;
	slow_peer_init(&p);
	devtest_outb(&p.t, COM1 + 2, 0x07);                 /* FCR: FIFO on */
	size_t sent = 0, got = 0, withheld = 0;
	/* Like Linux's 8250: 16 bytes per THRE, no LSR check in between. */
	for (unsigned step = 0; sent < SLOW_TOTAL && step < 200000; step++) {
		if (devtest_inb(&p.t, COM1 + 5) & 0x20) {
			for (unsigned i = 0; i < 16 && sent < SLOW_TOTAL; i++, sent++)
				devtest_outb(&p.t, COM1, pattern(sent));
			continue;
		}
		withheld++;
		got = slow_read(&p, got, 2048);
		pump(&p);
	}
	assert_int_equal(sent, SLOW_TOTAL);
	for (unsigned step = 0; got < SLOW_TOTAL && step < 100000; step++) {
		size_t before = got;
		got = slow_read(&p, got, 4096);
		if (got == before)
			pump(&p);
	}
	assert_int_equal(got, SLOW_TOTAL);
	assert_true(withheld > 0);   /* THRE really stayed clear for a while */
	slow_peer_fini(&p);
}

static void test_uart_thre_interrupt_waits_for_the_backend_to_drain(void **state)
{
	(void)state;
	struct slow_peer p;
	slow_peer_init(&p);
	devtest_pic_init(&p.t);
	devtest_outb(&p.t, COM1 + 2, 0x07);
	devtest_outb(&p.t, COM1 + 4, 0x08);                 /* OUT2 */
	devtest_outb(&p.t, COM1 + 1, 0x02);                 /* THRI */
	size_t sent = 0, got = 0;
	for (unsigned step = 0; step < 100000; step++) {
		if (!(devtest_inb(&p.t, COM1 + 5) & 0x20))
			break;
		for (unsigned i = 0; i < 16; i++, sent++)
			devtest_outb(&p.t, COM1, pattern(sent));
	}
	assert_int_equal(devtest_inb(&p.t, COM1 + 5) & 0x60, 0);   /* THRE, TEMT clear */
	assert_int_equal(devtest_inb(&p.t, COM1 + 2) & 0x0f, 0x01); /* no THRE interrupt */
	for (unsigned step = 0; got < sent && step < 100000; step++) {
		size_t before = got;
		got = slow_read(&p, got, 4096);
		if (got == before)
			pump(&p);
	}
	assert_int_equal(got, sent);
	pump(&p);
	assert_int_equal(devtest_inb(&p.t, COM1 + 2) & 0x0f, 0x02); /* drained: THRE interrupt */
	assert_int_equal(devtest_inb(&p.t, COM1 + 5) & 0x60, 0x60);
	slow_peer_fini(&p);
}

/* Saved while THRE is withheld, the restored VM (whose backend starts
 * empty) gets its THRE interrupt at once instead of waiting forever. */
static void test_uart_save_with_thre_withheld_restores_thre_due(void **state)
{
	(void)state;
	struct slow_peer p;
	slow_peer_init(&p);
	devtest_outb(&p.t, COM1 + 2, 0x07);
	devtest_outb(&p.t, COM1 + 4, 0x08);
	devtest_outb(&p.t, COM1 + 1, 0x02);
	size_t sent = 0;
	for (unsigned step = 0; step < 100000 && (devtest_inb(&p.t, COM1 + 5) & 0x20); step++)
		for (unsigned i = 0; i < 16; i++, sent++)
			devtest_outb(&p.t, COM1, pattern(sent));
	assert_int_equal(devtest_inb(&p.t, COM1 + 2) & 0x0f, 0x01);
	uint8_t buf[256];
	assert_true(uart_dev_ops.state_size <= sizeof(buf));
	uart_dev_ops.save(pc_find_dev(&p.t.m, "uart"), buf);
	struct devtest t2;
	devtest_init(&t2, 1, NULL, 1);
	assert_int_equal(uart_dev_ops.load(pc_find_dev(&t2.m, "uart"), buf, uart_dev_ops.state_size,
					   NULL), 0);
	assert_int_equal(devtest_inb(&t2, COM1 + 2) & 0x0f, 0x02);
	assert_int_equal(devtest_inb(&t2, COM1 + 5) & 0x60, 0x60);
	devtest_fini(&t2);
	slow_peer_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uart_thr_writes_reach_the_file_backend),
		cmocka_unit_test(test_uart_thre_interrupt_needs_out2_and_clears_on_iir_read),
		cmocka_unit_test(test_uart_linux_thre_probe_sees_an_interrupt),
		cmocka_unit_test(test_uart_loopback_echoes_and_maps_modem_lines),
		cmocka_unit_test(test_uart_rx_interrupt_has_priority_over_thre),
		cmocka_unit_test(test_uart_slow_socket_reader_loses_no_byte),
		cmocka_unit_test(test_uart_thre_interrupt_waits_for_the_backend_to_drain),
		cmocka_unit_test(test_uart_save_with_thre_withheld_restores_thre_due),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
