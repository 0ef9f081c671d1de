/* The controller's history ring (controller/history.h): bounded, oldest
 * first, wraps, filters by time, and its JSON shape; the status page's
 * string has no external URL and no unescaped surprise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "controller/history.h"
#include "controller/statuspage.h"

static void test_cap_for_an_hour(void **state)
{
	(void)state;
	assert_int_equal(history_cap_for(1000), HISTORY_MAX_POINTS);
	assert_int_equal(history_cap_for(2000), 1801);
	assert_int_equal(history_cap_for(5000), 721);
	assert_int_equal(history_cap_for(60000), 61);
	assert_int_equal(history_cap_for(100), HISTORY_MAX_POINTS);
	assert_int_equal(history_cap_for(0), HISTORY_MAX_POINTS);
	assert_int_equal(history_cap_for(7200000), 2);
}

static struct history_point pt(int64_t s, int desired)
{
	return (struct history_point){ .unix_ms = s * 1000, .desired = desired,
		.ready = desired - 1, .metric = s % 2 ? NAN : 0.25 * (double)s, .need = NAN };
}

static void test_ring_wraps_and_stays_bounded(void **state)
{
	struct history h;
	json_t *j, *points;

	(void)state;
	assert_int_equal(history_init(&h, 4), 0);
	j = history_json(&h, 0, 1000);
	assert_int_equal(json_array_size(json_object_get(j, "points")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "capacity")), 4);
	json_decref(j);
	for (int i = 1; i <= 10; i++) {
		struct history_point p = pt(100 + i, i);

		history_add(&h, &p);
		assert_true(h.n <= 4);
	}
	j = history_json(&h, 0, 2500);
	assert_true(json_real_value(json_object_get(j, "interval_s")) == 2.5);
	points = json_object_get(j, "points");
	assert_int_equal(json_array_size(points), 4);
	/* the last four, oldest first */
	for (size_t k = 0; k < 4; k++) {
		json_t *p = json_array_get(points, k);
		int i = 7 + (int)k;

		assert_true(json_real_value(json_object_get(p, "time")) == 100.0 + i);
		assert_int_equal(json_integer_value(json_object_get(p, "desired")), i);
		assert_int_equal(json_integer_value(json_object_get(p, "ready")), i - 1);
		/* NaN is null, not a number JSON cannot carry */
		if ((100 + i) % 2)
			assert_true(json_is_null(json_object_get(p, "metric")));
		else
			assert_true(json_real_value(json_object_get(p, "metric")) == 0.25 * (100 + i));
		assert_true(json_is_null(json_object_get(p, "need")));
	}
	json_decref(j);
	/* since: only the points after it */
	j = history_json(&h, 108 * 1000, 1000);
	points = json_object_get(j, "points");
	assert_int_equal(json_array_size(points), 2);
	assert_true(json_real_value(json_object_get(json_array_get(points, 0), "time")) == 109.0);
	json_decref(j);
	history_fini(&h);
	history_fini(&h);	/* twice is harmless */
}

static void test_page_is_self_contained(void **state)
{
	const char *p = ctl_status_page;

	(void)state;
	assert_non_null(strstr(p, "<!doctype html>"));
	assert_non_null(strstr(p, "name='viewport'"));
	assert_null(strstr(p, "http://"));
	assert_null(strstr(p, "https://"));
	assert_null(strstr(p, "innerHTML"));
	/* the token only ever goes to sessionStorage and a header */
	assert_null(strstr(p, "localStorage"));
	assert_non_null(strstr(p, "sessionStorage"));
	assert_non_null(strstr(p, "Authorization"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_for_an_hour),
		cmocka_unit_test(test_ring_wraps_and_stays_bounded),
		cmocka_unit_test(test_page_is_self_contained),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
