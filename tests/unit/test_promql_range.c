/* promql/range.h: query_range answers, good and bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql/range.h"

static int parse(const char *body, int status, struct prom_matrix *m, struct err *e)
{
	return prom_parse_range(body, strlen(body), status, m, e);
}

static void test_matrix(void **state)
{
	static const char body[] =
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
	    "{\"metric\":{},\"values\":[[1795420200,\"3.5\"],[1795420500.5,\"4\"],"
	    "[1795420800,\"NaN\"]]},"
	    "{\"metric\":{\"instance\":\"127.0.1.2:9100\"},\"values\":[]}]}}";
	struct prom_matrix m;
	struct err e;

	(void)state;
	assert_int_equal(parse(body, 200, &m, &e), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.s[0].n, 3);
	assert_string_equal(m.s[0].instance, "");
	assert_true(m.s[0].p[1].t_s == 1795420500.5 && m.s[0].p[1].value == 4);
	assert_true(isnan(m.s[0].p[2].value));
	assert_int_equal(m.s[1].n, 0);
	assert_string_equal(m.s[1].instance, "127.0.1.2:9100");
	prom_matrix_free(&m);
	assert_int_equal(m.n, 0);
}

static const struct {
	const char *name, *body;
	int status;
	const char *want;
} bad[] = {
	{ "instant_vector", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	  "\"result\":[]}}", 200, "not a range" },
	{ "error_envelope", "{\"status\":\"error\",\"errorType\":\"bad_data\","
	  "\"error\":\"exceeded maximum resolution\"}", 400, "bad_data: exceeded maximum" },
	{ "value_not_string", "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
	  "\"result\":[{\"metric\":{},\"values\":[[1,3]]}]}}", 200, "malformed series 0" },
	{ "value_trailing_junk", "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
	  "\"result\":[{\"metric\":{},\"values\":[[1,\"3x\"]]}]}}", 200, "malformed series 0" },
	{ "no_values", "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
	  "\"result\":[{\"metric\":{}}]}}", 200, "malformed series 0" },
	{ "not_json", "<html>", 502, "HTTP 502" },
	{ "success_on_500", "{\"status\":\"success\",\"data\":{}}", 500, "HTTP 500" },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct prom_matrix m;
		struct err e;

		print_message("%s\n", bad[i].name);
		assert_int_equal(parse(bad[i].body, bad[i].status, &m, &e), -1);
		if (strstr(e.msg, bad[i].want) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].name, e.msg, bad[i].want);
		assert_int_equal(m.n, 0);
	}
}

/* More points than PROM_RANGE_MAX_POINTS over all series: refused. */
static void test_too_many_points(void **state)
{
	size_t per = PROM_RANGE_MAX_POINTS / 2 + 1, cap = 2 * per * 16 + 256, n = 0;
	char *b = malloc(cap);
	struct prom_matrix m;
	struct err e;

	(void)state;
	assert_non_null(b);
	n += (size_t)snprintf(b + n, cap - n,
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[");
	for (int s = 0; s < 2; s++) {
		n += (size_t)snprintf(b + n, cap - n, "%s{\"metric\":{},\"values\":[", s ? "," : "");
		for (size_t i = 0; i < per; i++)
			n += (size_t)snprintf(b + n, cap - n, "%s[%zu,\"1\"]", i ? "," : "", i);
		n += (size_t)snprintf(b + n, cap - n, "]}");
	}
	snprintf(b + n, cap - n, "]}}");
	assert_int_equal(parse(b, 200, &m, &e), -1);
	assert_non_null(strstr(e.msg, "more than"));
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_too_many_points),
	};

	return cmocka_run_group_tests_name("promql_range", tests, NULL, NULL);
}
