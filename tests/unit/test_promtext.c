/* Reading the Prometheus text format: metric names, and the sum of a
 * family's samples, which a drain waits on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/promtext.h"

static void test_names(void **state)
{
	(void)state;
	assert_true(prom_name_ok("poolscale_lb_requests_in_flight"));
	assert_true(prom_name_ok("job:rate:5m"));
	assert_true(prom_name_ok("_x9"));
	assert_false(prom_name_ok(""));
	assert_false(prom_name_ok("9x"));
	assert_false(prom_name_ok("a-b"));
	assert_false(prom_name_ok("a{b}"));
	assert_false(prom_name_ok("a b"));
}

static int sum(const char *page, const char *name, double *out)
{
	return prom_text_sum(page, strlen(page), name, out);
}

static void test_sum(void **state)
{
	/* The lb's page: an unlabelled gauge, a labelled one whose name the
	 * first one prefixes, comments naming both. */
	static const char page[] =
	    "# HELP poolscale_lb_requests_in_flight HTTP requests received and not yet answered.\n"
	    "# TYPE poolscale_lb_requests_in_flight gauge\n"
	    "poolscale_lb_requests_in_flight 3\n"
	    "poolscale_lb_requests_in_flight_total 99\n"
	    "poolscale_lb_backend_requests_in_flight{backend=\"127.0.1.1:8080\"} 2\n"
	    "poolscale_lb_backend_requests_in_flight{backend=\"a}\\\"b\"} 1.5 1700000000000\n"
	    "poolscale_lb_backend_requests_in_flight{backend=\"127.0.1.3:8080\"} 0";
	double v = -1;

	(void)state;
	assert_int_equal(sum(page, "poolscale_lb_requests_in_flight", &v), 1);
	assert_true(v == 3.0);
	/* Labelled samples add up; a '}' and a '"' inside a value do not end
	 * the labels; a timestamp is not the value; the last line has no \n. */
	assert_int_equal(sum(page, "poolscale_lb_backend_requests_in_flight", &v), 3);
	assert_true(v == 3.5);
	/* A prefix of a name is not the name. */
	assert_int_equal(sum(page, "poolscale_lb_requests", &v), 0);
	assert_true(v == 0.0);
	assert_int_equal(sum("", "x", &v), 0);
	/* Tabs, and a CRLF page. */
	assert_int_equal(sum("x\t2\r\nx{a=\"b\"}  3 \r\n", "x", &v), 2);
	assert_true(v == 5.0);
}

static void test_malformed(void **state)
{
	double v;

	(void)state;
	assert_int_equal(sum("x{a=\"1\" 3\n", "x", &v), -1);	/* labels never close */
	assert_int_equal(sum("x three\n", "x", &v), -1);
	assert_int_equal(sum("x \n", "x", &v), -1);
	assert_int_equal(sum("x 1\nx 2x\n", "x", &v), -1);
	/* Another family's bad line is not ours to judge. */
	assert_int_equal(sum("y oops\nx 2\n", "x", &v), 1);
	assert_true(v == 2.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_sum),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests_name("promtext", tests, NULL, NULL);
}
