/* CMOS/RTC: time from the given host time in BCD and binary, UIP window,
 * NVRAM, memory size bytes, update interrupt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "devtest.h"

static uint8_t rd(struct devtest *t, uint8_t reg)
{
	devtest_outb(t, 0x70, reg);
	return devtest_inb(t, 0x71);
}

static void wr(struct devtest *t, uint8_t reg, uint8_t v)
{
	devtest_outb(t, 0x70, reg);
	devtest_outb(t, 0x71, v);
}

/* 2026-11-25 00:10:33 UTC, a Wednesday. */
#define T0 1795565433

static void test_cmos_reads_host_time_in_bcd(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, T0);
	assert_int_equal(rd(&t, 0x00), 0x33);
	assert_int_equal(rd(&t, 0x02), 0x10);
	assert_int_equal(rd(&t, 0x04), 0x00);
	assert_int_equal(rd(&t, 0x06), 0x04);
	assert_int_equal(rd(&t, 0x07), 0x25);
	assert_int_equal(rd(&t, 0x08), 0x11);
	assert_int_equal(rd(&t, 0x09), 0x26);
	assert_int_equal(rd(&t, 0x32), 0x20);
	assert_int_equal(rd(&t, 0x0d), 0x80);
	devtest_advance(&t, 2000000000ull);     /* guest time moves the clock */
	assert_int_equal(rd(&t, 0x00), 0x35);
	devtest_fini(&t);
}

static void test_cmos_binary_mode_and_guest_set_time(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, T0);
	wr(&t, 0x0b, 0x06);                     /* binary, 24 h */
	assert_int_equal(rd(&t, 0x00), 33);
	wr(&t, 0x0b, 0x86);                     /* SET */
	wr(&t, 0x04, 13);
	wr(&t, 0x0b, 0x06);
	assert_int_equal(rd(&t, 0x04), 13);
	devtest_advance(&t, 1000000000ull);
	assert_int_equal(rd(&t, 0x00), 34);
	devtest_fini(&t);
}

/* A restore moves the RTC on by the host time passed since the save (the
 * virtual clock itself resumes where it stopped). The saved host time is
 * the state's last field; pretend the save was an hour ago. */
static void test_cmos_restore_moves_the_rtc_by_the_host_time_since_the_save(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, T0);
	void *cmos = pc_find_dev(&t.m, "cmos");
	size_t n = cmos_dev_ops.state_size;
	uint8_t *buf = malloc(n);
	assert_non_null(buf);
	cmos_dev_ops.save(cmos, buf);
	int64_t host;
	memcpy(&host, buf + n - 8, 8);
	assert_true(host > 0);
	host -= 3600;
	memcpy(buf + n - 8, &host, 8);
	assert_int_equal(cmos_dev_ops.load(cmos, buf, n, NULL), 0);
	assert_int_equal(rd(&t, 0x04), 0x01);   /* 00:10:33 + 1 h */
	assert_int_equal(rd(&t, 0x02), 0x10);
	/* With SET held by the guest the clock is left alone. */
	wr(&t, 0x0b, 0x82);
	cmos_dev_ops.save(cmos, buf);
	memcpy(&host, buf + n - 8, 8);
	host -= 3600;
	memcpy(buf + n - 8, &host, 8);
	assert_int_equal(cmos_dev_ops.load(cmos, buf, n, NULL), 0);
	assert_int_equal(rd(&t, 0x04), 0x01);
	free(buf);
	devtest_fini(&t);
}

static void test_cmos_uip_is_set_just_before_each_second(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, T0);
	assert_int_equal(rd(&t, 0x0a) & 0x80, 0);
	devtest_advance(&t, 999900000ull);
	assert_int_equal(rd(&t, 0x0a) & 0x80, 0x80);
	devtest_advance(&t, 200000ull);
	assert_int_equal(rd(&t, 0x0a) & 0x80, 0);
	devtest_fini(&t);
}

static void test_cmos_nvram_and_memory_size(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, T0);
	wr(&t, 0x40, 0xa5);
	assert_int_equal(rd(&t, 0x40), 0xa5);
	/* 4 MiB board: 3072 KiB above 1 MiB. */
	assert_int_equal(rd(&t, 0x17) | rd(&t, 0x18) << 8, 3072);
	devtest_fini(&t);
}

static void test_cmos_update_interrupt_on_irq8(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, T0);
	devtest_pic_init(&t);
	wr(&t, 0x0b, 0x12);                     /* UIE, 24 h */
	assert_int_equal(pic_output(t.m.pic), 0);
	devtest_advance(&t, 1000000000ull);
	assert_int_equal(pic_output(t.m.pic), 1);
	assert_int_equal(t.m.bus.irq_ack(t.m.bus.opaque), 0x28);
	assert_int_equal(rd(&t, 0x0c), 0x90);   /* IRQF | UF, cleared by the read */
	assert_int_equal(rd(&t, 0x0c), 0x00);
	devtest_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmos_reads_host_time_in_bcd),
		cmocka_unit_test(test_cmos_binary_mode_and_guest_set_time),
		cmocka_unit_test(test_cmos_uip_is_set_just_before_each_second),
		cmocka_unit_test(test_cmos_nvram_and_memory_size),
		cmocka_unit_test(test_cmos_update_interrupt_on_irq8),
		cmocka_unit_test(test_cmos_restore_moves_the_rtc_by_the_host_time_since_the_save),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
