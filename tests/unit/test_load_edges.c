/* Edges of the load generator's schedule and latency histogram that the
 * mutation pass (issue 16) found unguarded: a rate step's instant, the
 * quantile's rank, merging into an empty histogram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "load/hist.h"
#include "load/rate.h"

/* Segments are [t0, t1): at the instant of a step the new rate holds.
 * "0:10,10:10,10:50,20:50" is 10 req/s for 10 s, then 50 req/s. */
static void test_rate_step_instant(void **state)
{
	struct load_rate r;
	struct err e;

	(void)state;
	assert_int_equal(load_rate_profile(&r, "0:10,10:10,10:50,20:50", 0, &e), 0);
	assert_true(load_rate_at(&r, 9.5) == 10);
	assert_true(load_rate_at(&r, 10) == 50);
	assert_true(load_rate_at(&r, 19.5) == 50);
	assert_true(load_rate_at(&r, 20) == 0);	/* past the end */
	/* 10 s x 10 + 10 s x 50 */
	assert_true(load_rate_count(&r, 10) == 100);
	assert_true(load_rate_count(&r, 20) == 600);
	load_rate_fini(&r);
}

/* The quantile is the smallest value with at least q of the samples at or
 * below it: of {100, 200} (each its own bucket below 256) the median is
 * 100 (rank ceil(0.5 x 2) = 1), the 0.51 quantile 200 (rank 2). */
static void test_hist_quantile_rank(void **state)
{
	static struct hist h;

	(void)state;
	hist_reset(&h);
	hist_record(&h, 200);
	hist_record(&h, 100);
	assert_int_equal(hist_quantile(&h, 0.5), 100);
	assert_int_equal(hist_quantile(&h, 0.51), 200);
	assert_int_equal(hist_quantile(&h, 1), 200);
}

/* Merging into an empty histogram takes the source's minimum, not the
 * empty one's 0. */
static void test_hist_merge_into_empty(void **state)
{
	static struct hist dst, src;

	(void)state;
	hist_reset(&dst);
	hist_reset(&src);
	hist_record(&src, 70);
	hist_record(&src, 50);
	hist_merge(&dst, &src);
	assert_int_equal(dst.count, 2);
	assert_int_equal(dst.min_us, 50);
	assert_int_equal(dst.max_us, 70);
	assert_int_equal(hist_quantile(&dst, 0), 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_step_instant),
		cmocka_unit_test(test_hist_quantile_rank),
		cmocka_unit_test(test_hist_merge_into_empty),
	};

	return cmocka_run_group_tests_name("load_edges", tests, NULL, NULL);
}
