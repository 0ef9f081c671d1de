/* What `poolscale app` counts and shows on /metrics (app/stats.c), checked
 * against the Prometheus exposition rules; the system tests see only
 * counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "common/buf.h"

#define LOAD "poolscale_app_http_requests_total{path=\"/load\",code=\"200\"}"
#define DUR "poolscale_app_http_request_duration_seconds"

static char *render(struct app *a, struct buf *b)
{
	buf_init(b, 1 << 20);
	app_render_metrics(a, b, false);
	assert_int_equal(buf_append(b, "", 1), 0);
	return b->p;
}

/* A fresh app already shows 0 for the 200s of its paths, so rate() over a
 * first request has a starting point. */
static void test_fresh_app_shows_zero_200s(void **state)
{
	struct app *a = calloc(1, sizeof(*a));
	struct buf b;

	(void)state;
	assert_non_null(a);
	assert_non_null(strstr(render(a, &b), LOAD " 0\n"));
	/* and the demand counter and the queue, typed */
	assert_non_null(strstr(b.p, "# TYPE poolscale_app_requests_received_total counter\n"
	    "poolscale_app_requests_received_total 0\n"));
	assert_non_null(strstr(b.p, "# TYPE poolscale_app_queue_length gauge\n"
	    "poolscale_app_queue_length 0\n"));
	buf_fini(&b);
	free(a);
}

/* Buckets are "less than or equal": a request of exactly 5 ms (5e6 ns /
 * 1e9 is the double 0.005) counts in le="0.005", not only from le="0.01";
 * the sum is 0.005 s. */
static void test_duration_on_a_bucket_bound(void **state)
{
	struct app *a = calloc(1, sizeof(*a));
	struct http_request req;
	struct buf b;
	const char *page;

	(void)state;
	assert_non_null(a);
	memset(&req, 0, sizeof(req));
	req.path = (struct slice){ "/load", 5 };
	app_stats_done(a, 0, &req, 200, 5000000);
	page = render(a, &b);
	assert_non_null(strstr(page, LOAD " 1\n"));
	assert_non_null(strstr(page, DUR "_bucket{path=\"/load\",le=\"0.0025\"} 0\n"));
	assert_non_null(strstr(page, DUR "_bucket{path=\"/load\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(page, DUR "_sum{path=\"/load\"} 0.005\n"));
	assert_non_null(strstr(page, DUR "_count{path=\"/load\"} 1\n"));
	buf_fini(&b);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_app_shows_zero_200s),
		cmocka_unit_test(test_duration_on_a_bucket_bound),
	};

	return cmocka_run_group_tests_name("app_stats", tests, NULL, NULL);
}
