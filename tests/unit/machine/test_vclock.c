/* Virtual clock: time from instructions, idle skips, timer order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>

#include "vmcore/machine/vclock.h"

static uint64_t insns;
static uint64_t get_insns(void *opaque)
{
	(void)opaque;
	return insns;
}

static int order[8], norder;
static void record(void *opaque)
{
	order[norder++] = (int)(intptr_t)opaque;
}

static void test_vclock_time_follows_instructions_and_idle_skips(void **state)
{
	(void)state;
	struct vclock c;
	insns = 0;
	vclock_init(&c, get_insns, NULL, 100000000);
	insns = 1000;
	assert_int_equal(vclock_now(&c), 10000);
	vclock_advance(&c, 5000);
	assert_int_equal(vclock_now(&c), 15000);
	assert_int_equal(vclock_insns_until(&c, 15000), 0);
	assert_int_equal(vclock_insns_until(&c, 15015), 2);   /* rounded up */
	vclock_set(&c, 1000000);
	assert_int_equal(vclock_now(&c), 1000000);
}

static void test_vtimer_fires_in_deadline_order_once(void **state)
{
	(void)state;
	struct vclock c;
	struct vtimer a, b, d;
	insns = 0;
	norder = 0;
	vclock_init(&c, get_insns, NULL, 100000000);
	vtimer_init(&a, record, (void *)1);
	vtimer_init(&b, record, (void *)2);
	vtimer_init(&d, record, (void *)3);
	vtimer_mod(&c, &a, 300);
	vtimer_mod(&c, &b, 100);
	vtimer_mod(&c, &d, 200);
	vtimer_del(&c, &d);
	assert_int_equal(vclock_next_deadline(&c), 100);
	insns = 20;   /* 200 ns */
	assert_int_equal(vclock_run_timers(&c), 1);
	insns = 40;
	assert_int_equal(vclock_run_timers(&c), 1);
	assert_int_equal(vclock_run_timers(&c), 0);
	assert_int_equal(norder, 2);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(vclock_next_deadline(&c), VCLOCK_NEVER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vclock_time_follows_instructions_and_idle_skips),
		cmocka_unit_test(test_vtimer_fires_in_deadline_order_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
