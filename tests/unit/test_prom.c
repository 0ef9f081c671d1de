/* Prometheus text format: values, histograms, label escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "common/prom.h"
#include "common/promset.h"

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

/* Two sources (pools) rendering the same families: one HELP/TYPE per
 * family, its samples together in source order, each source's labels
 * first; families in the order first declared. */
static void test_set_groups_families(void **state)
{
	struct prom_set *s = prom_set_new();
	struct buf b;
	const char *pools[] = { "pool=\"a\"", "pool=\"b\"" };

	(void)state;
	assert_non_null(s);
	for (int i = 0; i < 2; i++) {
		prom_set_labels(s, pools[i]);
		prom_set_header(s, "x_size", "gauge", "Size.");
		prom_set_sample(s, "x_size", NULL, i + 1);
		prom_set_header(s, "x_total", "counter", "By op.");
		prom_set_sample_u64(s, "x_total", "op=\"list\"", 10 * (i + 1));
		if (i == 1) {	/* a family only the second source has */
			prom_set_header(s, "x_only_b", "gauge", "B.");
			prom_set_sample(s, "x_only_b", "", 7);
		}
		prom_set_header(s, "x_seconds", "summary", "Time.");
		prom_set_sample(s, "x_seconds_sum", NULL, 0.5);
	}
	buf_init(&b, 4096);
	assert_int_equal(prom_set_write(s, &b), 0);
	buf_append(&b, "", 1);
	assert_string_equal(b.p,
	    "# HELP x_size Size.\n# TYPE x_size gauge\n"
	    "x_size{pool=\"a\"} 1\nx_size{pool=\"b\"} 2\n"
	    "# HELP x_total By op.\n# TYPE x_total counter\n"
	    "x_total{pool=\"a\",op=\"list\"} 10\nx_total{pool=\"b\",op=\"list\"} 20\n"
	    "# HELP x_seconds Time.\n# TYPE x_seconds summary\n"
	    "x_seconds_sum{pool=\"a\"} 0.5\nx_seconds_sum{pool=\"b\"} 0.5\n"
	    "# HELP x_only_b B.\n# TYPE x_only_b gauge\n"
	    "x_only_b{pool=\"b\"} 7\n");
	buf_fini(&b);
	prom_set_free(s);
	/* Without source labels a sample is as prom_sample writes it. */
	s = prom_set_new();
	prom_set_labels(s, NULL);
	prom_set_header(s, "y", "gauge", "Y.");
	prom_set_sample(s, "y", NULL, 1);
	buf_init(&b, 4096);
	assert_int_equal(prom_set_write(s, &b), 0);
	buf_append(&b, "", 1);
	assert_string_equal(b.p, "# HELP y Y.\n# TYPE y gauge\ny 1\n");
	buf_fini(&b);
	prom_set_free(s);
	/* A sample before any family is our bug: the page is refused. */
	s = prom_set_new();
	prom_set_sample(s, "z", NULL, 1);
	buf_init(&b, 4096);
	assert_int_equal(prom_set_write(s, &b), -1);
	assert_int_equal(b.len, 0);
	buf_fini(&b);
	prom_set_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_histogram_is_cumulative),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_buf_limit),
		cmocka_unit_test(test_set_groups_families),
	};

	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
