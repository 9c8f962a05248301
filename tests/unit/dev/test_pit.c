/* 8254 PIT and port 0x61: periodic IRQ 0, latched counts, channel 2 gate
 * and OUT2 as the kernel's TSC calibration uses them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "devtest.h"

static int ack(struct devtest *t)
{
	return t->m.bus.irq_ack(t->m.bus.opaque);
}

static uint16_t latch_ch0(struct devtest *t)
{
	devtest_outb(t, 0x43, 0x00);
	uint16_t lo = devtest_inb(t, 0x40);
	return (uint16_t)(lo | devtest_inb(t, 0x40) << 8);
}

static void test_pit_mode2_interrupts_at_the_programmed_rate(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	devtest_pic_init(&t);
	devtest_outb(&t, 0x43, 0x34);          /* ch0, lo/hi, mode 2 */
	devtest_outb(&t, 0x40, 0xa9);          /* 4777 = 250 Hz (4 ms) */
	devtest_outb(&t, 0x40, 0x12);
	uint64_t deadline = vclock_next_deadline(&t.m.clock);
	assert_true(deadline > 3990000 && deadline < 4010000);
	int ticks = 0;
	for (int i = 0; i < 100; i++) {        /* 100 x 1 ms */
		devtest_advance(&t, 1000000);
		if (pic_output(t.m.pic)) {
			assert_int_equal(ack(&t), 0x20);
			devtest_outb(&t, 0x20, 0x20);
			ticks++;
		}
	}
	assert_int_equal(ticks, 24);   /* edges every 4.0036 ms within 100 ms */
	devtest_fini(&t);
}

static void test_pit_mode4_one_shot_interrupts_once(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	devtest_pic_init(&t);
	devtest_outb(&t, 0x43, 0x38);          /* ch0, lo/hi, mode 4: Linux's one-shot */
	devtest_outb(&t, 0x40, 0xa9);          /* 4777 ticks = 4 ms */
	devtest_outb(&t, 0x40, 0x12);
	uint64_t deadline = vclock_next_deadline(&t.m.clock);
	assert_true(deadline > 3990000 && deadline < 4010000);
	int ticks = 0;
	for (int i = 0; i < 20; i++) {         /* 20 x 1 ms */
		devtest_advance(&t, 1000000);
		if (pic_output(t.m.pic)) {
			assert_int_equal(ack(&t), 0x20);
			devtest_outb(&t, 0x20, 0x20);
			ticks++;
		}
	}
	assert_int_equal(ticks, 1);
	devtest_fini(&t);
}

static void test_pit_latched_count_decreases_with_guest_time(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	devtest_outb(&t, 0x43, 0x34);
	devtest_outb(&t, 0x40, 0x00);
	devtest_outb(&t, 0x40, 0x80);          /* 32768 */
	uint16_t a = latch_ch0(&t);
	devtest_advance(&t, 1000000);          /* 1 ms = 1193 ticks */
	uint16_t b = latch_ch0(&t);
	assert_true(a - b >= 1190 && a - b <= 1196);
	/* A latch holds its value until read, whatever time does. */
	devtest_outb(&t, 0x43, 0x00);
	devtest_advance(&t, 1000000);
	uint16_t lo = devtest_inb(&t, 0x40);
	uint16_t c = (uint16_t)(lo | devtest_inb(&t, 0x40) << 8);
	assert_int_equal(b, c);
	devtest_fini(&t);
}

static void test_pit_channel2_gate_and_out2_in_port61(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	devtest_outb(&t, 0x61, (uint8_t)((devtest_inb(&t, 0x61) & ~0x02) | 0x01)); /* gate on, speaker off */
	devtest_outb(&t, 0x43, 0xb0);          /* ch2, lo/hi, mode 0 */
	devtest_outb(&t, 0x42, 0xff);
	devtest_outb(&t, 0x42, 0xff);
	assert_int_equal(devtest_inb(&t, 0x61) & 0x20, 0);
	/* The MSB polled like pit_expect_msb() walks down with time. */
	devtest_inb(&t, 0x42);
	uint8_t msb0 = devtest_inb(&t, 0x42);
	devtest_advance(&t, 300000);           /* 358 ticks: MSB drops by 1 or 2 */
	devtest_inb(&t, 0x42);
	uint8_t msb1 = devtest_inb(&t, 0x42);
	assert_true(msb0 - msb1 >= 1 && msb0 - msb1 <= 2);
	devtest_advance(&t, 60000000);         /* past terminal count */
	assert_int_equal(devtest_inb(&t, 0x61) & 0x20, 0x20);
	/* Gate off freezes the count. */
	devtest_outb(&t, 0x43, 0xb0);
	devtest_outb(&t, 0x42, 0x00);
	devtest_outb(&t, 0x42, 0x80);
	devtest_outb(&t, 0x61, 0x00);
	devtest_outb(&t, 0x43, 0x80);
	uint16_t f0 = devtest_inb(&t, 0x42);
	f0 = (uint16_t)(f0 | devtest_inb(&t, 0x42) << 8);
	devtest_advance(&t, 5000000);
	devtest_outb(&t, 0x43, 0x80);
	uint16_t f1 = devtest_inb(&t, 0x42);
	f1 = (uint16_t)(f1 | devtest_inb(&t, 0x42) << 8);
	assert_int_equal(f0, f1);
	devtest_fini(&t);
}

static void test_pit_readback_status_reports_mode_and_out(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	devtest_outb(&t, 0x43, 0x34);
	devtest_outb(&t, 0x40, 0x10);
	devtest_outb(&t, 0x40, 0x00);
	devtest_outb(&t, 0x43, 0xe2);          /* read-back status of ch0 */
	assert_int_equal(devtest_inb(&t, 0x40), 0x80 | 0x30 | 0x04);
	devtest_fini(&t);
}

static void test_pit_load_rejects_bad_reload(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 0, NULL, 1);
	void *pit = pc_find_dev(&t.m, "pit");
	uint8_t buf[512];
	assert_true(pit_dev_ops.state_size <= sizeof(buf));
	pit_dev_ops.save(pit, buf);
	struct havm_err err;
	assert_int_equal(pit_dev_ops.load(pit, buf, pit_dev_ops.state_size, &err), 0);
	uint32_t zero = 0;
	memcpy(buf + 8, &zero, 4);             /* channel 0 reload */
	assert_int_equal(pit_dev_ops.load(pit, buf, pit_dev_ops.state_size, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "channel 0"));
	devtest_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pit_mode2_interrupts_at_the_programmed_rate),
		cmocka_unit_test(test_pit_mode4_one_shot_interrupts_once),
		cmocka_unit_test(test_pit_latched_count_decreases_with_guest_time),
		cmocka_unit_test(test_pit_channel2_gate_and_out2_in_port61),
		cmocka_unit_test(test_pit_readback_status_reports_mode_and_out),
		cmocka_unit_test(test_pit_load_rejects_bad_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
