/* Prometheus text format: values, histograms, label escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "common/prom.h"

static void test_values(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	prom_sample(&b, "a", NULL, 3);
	prom_sample(&b, "b", "x=\"1\"", 0.1);
	prom_sample(&b, "c", NULL, NAN);
	prom_sample(&b, "d", NULL, INFINITY);
	prom_sample(&b, "e", NULL, -INFINITY);
	prom_sample(&b, "f", NULL, 1e21);
	prom_sample_u64(&b, "g", "", UINT64_MAX);
	buf_append(&b, "", 1);
	assert_string_equal(b.p, "a 3\nb{x=\"1\"} 0.1\nc NaN\nd +Inf\ne -Inf\nf 1e+21\n"
	    "g 18446744073709551615\n");
	buf_fini(&b);
}

static void test_histogram_is_cumulative(void **state)
{
	static const double bounds[] = { 0.1, 1 };
	static const uint64_t counts[] = { 2, 3, 1 };
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	prom_histogram(&b, "h", "path=\"/x\"", bounds, counts, 2, 4.5);
	buf_append(&b, "", 1);
	assert_string_equal(b.p,
	    "h_bucket{path=\"/x\",le=\"0.1\"} 2\n"
	    "h_bucket{path=\"/x\",le=\"1\"} 5\n"
	    "h_bucket{path=\"/x\",le=\"+Inf\"} 6\n"
	    "h_sum{path=\"/x\"} 4.5\n"
	    "h_count{path=\"/x\"} 6\n");
	buf_reset(&b);
	prom_histogram(&b, "h", NULL, bounds, counts, 2, 0);
	buf_append(&b, "", 1);
	assert_non_null(strstr(b.p, "h_bucket{le=\"0.1\"} 2\n"));
	buf_fini(&b);
}

static void test_escape(void **state)
{
	char out[64];

	(void)state;
	assert_string_equal(prom_escape("a\"b\\c\nd", out, sizeof(out)), "a\\\"b\\\\c\\nd");
	/* Stops where an escape could no longer fit with the NUL. */
	assert_string_equal(prom_escape("xxxxxxxx", out, 5), "xxx");
}

static void test_buf_limit(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_appends(&b, "12345678"), 0);
	assert_int_equal(buf_appends(&b, "9"), -1);
	assert_int_equal(b.len, 8);
	buf_consume(&b, 3);
	assert_memory_equal(b.p, "45678", 5);
	assert_int_equal(buf_appendf(&b, "%d", 123), 0);
	assert_int_equal(buf_appendf(&b, "%d", 1), -1);
	buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_histogram_is_cumulative),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_buf_limit),
	};

	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
