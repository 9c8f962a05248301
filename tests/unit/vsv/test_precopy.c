/* Unit tests for vmcore/vsv/precopy.c: the pre-copy stop rule (bandwidth,
 * dirty rate, downtime limit, bounds), alone and driven by a simulated
 * guest that dirties pages at a set rate while passes are written. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmcore/vsv/precopy.h"

#define MiB (1024ull * 1024)
#define MS 1000000ull
#define RAM (256 * MiB)
#define RAM_PAGES (RAM / 4096)

static void test_defaults_are_qemus_downtime_and_the_old_bounds(void **state)
{
	(void)state;
	struct vsv_precopy p;
	vsv_precopy_init(&p, RAM, 0, 0, 0, 0);
	assert_int_equal(p.downtime_ns, 300 * MS);
	assert_int_equal(p.converge_pages, 256);
	assert_int_equal(p.max_passes, 8);
	assert_int_equal(p.max_bytes, 3 * RAM);
	vsv_precopy_init(&p, RAM, 20, 10, 3, 5 * MiB);
	assert_int_equal(p.downtime_ns, 20 * MS);
	assert_int_equal(p.converge_pages, 10);
	assert_int_equal(p.max_passes, 3);
	assert_int_equal(p.max_bytes, 5 * MiB);
}

static void test_small_dirty_set_stops_whatever_the_bandwidth(void **state)
{
	(void)state;
	struct vsv_precopy p;
	vsv_precopy_init(&p, RAM, 1, 0, 0, 0);
	vsv_precopy_pass(&p, RAM_PAGES, 1 * MiB, 500 * MS);  /* slow: 2 MiB/s */
	assert_int_equal(vsv_precopy_decide(&p, 256, 500 * MS, true), VSV_PRECOPY_SMALL);
	assert_true(vsv_precopy_converged(VSV_PRECOPY_SMALL));
	assert_int_equal(vsv_precopy_decide(&p, 257, 500 * MS, true), VSV_PRECOPY_GO_ON);
}

static void test_dirty_set_within_the_downtime_limit_stops_and_says_how_long(void **state)
{
	(void)state;
	struct vsv_precopy p;
	vsv_precopy_init(&p, RAM, 300, 0, 0, 0);
	vsv_precopy_pass(&p, RAM_PAGES, 100 * MiB, 1000 * MS);  /* 100 MiB/s */
	assert_true(p.bandwidth > 99.0 * MiB && p.bandwidth < 101.0 * MiB);
	/* 16 MiB at 100 MiB/s: 160 ms expected, under 300. */
	assert_int_equal(vsv_precopy_decide(&p, 4096, 1000 * MS, true), VSV_PRECOPY_DOWNTIME);
	assert_in_range(p.expected_ns, 159 * MS, 161 * MS);
	assert_true(p.dirty_rate > 15.9 * MiB && p.dirty_rate < 16.1 * MiB);
	/* 32 MiB: 320 ms expected, over the limit: go on (the set shrinks:
	 * 8192 pages per second dirtied against 65536 written). */
	assert_int_equal(vsv_precopy_decide(&p, 8192, 1000 * MS, true), VSV_PRECOPY_GO_ON);
	assert_in_range(p.expected_ns, 319 * MS, 321 * MS);
}

static void test_dirty_rate_at_the_bandwidth_stops_early_not_at_the_pass_bound(void **state)
{
	(void)state;
	struct vsv_precopy p;
	vsv_precopy_init(&p, RAM, 1, 0, 100, 0);
	vsv_precopy_pass(&p, 4096, 16 * MiB, 32 * MS);
	/* Dirtied 4000 pages while 4096 were written in about the same time. */
	assert_int_equal(vsv_precopy_decide(&p, 4000, 34 * MS, true), VSV_PRECOPY_NO_PROGRESS);
	assert_false(vsv_precopy_converged(VSV_PRECOPY_NO_PROGRESS));
	assert_true(p.expected_ns > 1 * MS);
	/* Half the rate: the set shrinks, another pass is worth it. */
	assert_int_equal(vsv_precopy_decide(&p, 2048, 32 * MS, true), VSV_PRECOPY_GO_ON);
}

static void test_bounds_passes_and_bytes(void **state)
{
	(void)state;
	struct vsv_precopy p;
	vsv_precopy_init(&p, RAM, 1, 0, 2, 0);
	vsv_precopy_pass(&p, RAM_PAGES, 16 * MiB, 100 * MS);
	assert_int_equal(vsv_precopy_decide(&p, 2000, 100 * MS, true), VSV_PRECOPY_GO_ON);
	vsv_precopy_pass(&p, 2000, 2000 * 4096, 10 * MS);
	assert_int_equal(vsv_precopy_decide(&p, 1000, 100 * MS, true), VSV_PRECOPY_MAX_PASSES);

	vsv_precopy_init(&p, RAM, 1, 0, 0, RAM + 4 * MiB);
	vsv_precopy_pass(&p, RAM_PAGES, 16 * MiB, 100 * MS);
	assert_int_equal(vsv_precopy_decide(&p, 1024, 100 * MS, true), VSV_PRECOPY_GO_ON);
	assert_int_equal(vsv_precopy_decide(&p, 1025, 100 * MS, true), VSV_PRECOPY_MAX_BYTES);
}

static void test_paused_guest_needs_no_convergence(void **state)
{
	(void)state;
	struct vsv_precopy p;
	vsv_precopy_init(&p, RAM, 1, 0, 0, 0);
	vsv_precopy_pass(&p, RAM_PAGES, 16 * MiB, 100 * MS);
	assert_int_equal(vsv_precopy_decide(&p, 100000, 100 * MS, false), VSV_PRECOPY_PAUSED);
	assert_true(vsv_precopy_converged(VSV_PRECOPY_PAUSED));
	assert_string_equal(vsv_precopy_stop_name(VSV_PRECOPY_NO_PROGRESS), "no_progress");
	assert_string_equal(vsv_precopy_stop_name(VSV_PRECOPY_DOWNTIME), "downtime");
}

static void test_tiny_pass_keeps_the_measured_bandwidth(void **state)
{
	(void)state;
	struct vsv_precopy p;
	vsv_precopy_init(&p, RAM, 300, 0, 0, 0);
	vsv_precopy_pass(&p, RAM_PAGES, 64 * MiB, 100 * MS);   /* 640 MiB/s */
	vsv_precopy_pass(&p, 3, 3 * 4096, 5 * MS);             /* one flush: 2.4 MiB/s */
	assert_true(p.bandwidth > 639.0 * MiB);
}

/* A guest whose working set of @ws pages is dirtied at @dirty_pps pages/s
 * while the passes write at @bw bytes/s (4 KiB a page, 10 ms of flush a
 * pass). Runs the rule as vm_save.c does; returns why it stopped. */
struct sim {
	unsigned passes;
	uint64_t last_set;
	struct vsv_precopy p;
};

static enum vsv_precopy_stop simulate(struct sim *s, uint64_t downtime_ms, uint64_t ws, double dirty_pps, double bw,
				      uint64_t data_pages0)
{
	vsv_precopy_init(&s->p, RAM, downtime_ms, 0, 0, 0);
	uint64_t pages = RAM_PAGES, data = data_pages0;
	for (s->passes = 0; s->passes < 100; s->passes++) {
		uint64_t ns = (uint64_t)((double)data * 4096 / bw * 1e9) + 10 * MS;
		vsv_precopy_pass(&s->p, pages, data * 4096, ns);
		uint64_t run = ns + 1 * MS;   /* the park and log read */
		double dirtied = dirty_pps * (double)run / 1e9;
		s->last_set = dirtied > (double)ws ? ws : (uint64_t)dirtied;
		enum vsv_precopy_stop why = vsv_precopy_decide(&s->p, s->last_set, run, true);
		if (why != VSV_PRECOPY_GO_ON)
			return why;
		pages = data = s->last_set;
	}
	return VSV_PRECOPY_GO_ON;
}

static void test_simulated_idle_guest_converges_after_few_passes_with_a_small_last_pass(void **state)
{
	(void)state;
	struct sim s;
	/* 400 pages/s (a timer tick and stack), 300 MiB/s, 20 MiB in use. */
	assert_int_equal(simulate(&s, 300, 2048, 400, 300.0 * MiB, 5120), VSV_PRECOPY_SMALL);
	assert_true(s.passes + 1 <= 2);
	assert_true(s.last_set <= 256);
	/* Tight limit, busier guest: the set shrinks pass by pass until it fits. */
	assert_int_equal(simulate(&s, 50, 65536, 20000, 300.0 * MiB, 20000), VSV_PRECOPY_DOWNTIME);
	assert_true(s.passes + 1 <= 4);
	assert_true(s.p.expected_ns <= 50 * MS);
}

static void test_simulated_fast_dirtying_guest_stops_by_the_rule_within_the_bound(void **state)
{
	(void)state;
	struct sim s;
	/* 16 MiB rewritten 20 times a second at 300 MiB/s, 1 ms allowed:
	 * the set never shrinks under 16 MiB (63 ms to write, flush included). */
	assert_int_equal(simulate(&s, 1, 4096, 4096 * 20, 300.0 * MiB, 4096), VSV_PRECOPY_NO_PROGRESS);
	assert_true(s.passes + 1 < 8);
	assert_in_range(s.p.expected_ns, 60 * MS, 66 * MS);
	/* The same guest with QEMU's default limit: it fits at once. */
	assert_int_equal(simulate(&s, 300, 4096, 4096 * 20, 300.0 * MiB, 4096), VSV_PRECOPY_DOWNTIME);
	assert_int_equal(s.passes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_qemus_downtime_and_the_old_bounds),
		cmocka_unit_test(test_small_dirty_set_stops_whatever_the_bandwidth),
		cmocka_unit_test(test_dirty_set_within_the_downtime_limit_stops_and_says_how_long),
		cmocka_unit_test(test_dirty_rate_at_the_bandwidth_stops_early_not_at_the_pass_bound),
		cmocka_unit_test(test_bounds_passes_and_bytes),
		cmocka_unit_test(test_paused_guest_needs_no_convergence),
		cmocka_unit_test(test_tiny_pass_keeps_the_measured_bandwidth),
		cmocka_unit_test(test_simulated_idle_guest_converges_after_few_passes_with_a_small_last_pass),
		cmocka_unit_test(test_simulated_fast_dirtying_guest_stops_by_the_rule_within_the_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
