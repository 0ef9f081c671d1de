/* The load generator's pure parts: the latency histogram, the schedule and
 * its inverse, the trace reader and the URL parser. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "guard.h"
#include "load/hist.h"
#include "load/rate.h"
#include "load/trace.h"
#include "load/url.h"

/* Every value from 1 us to 60 s lands in a bucket whose range holds it and
 * is at most 1/128 of it wide; buckets are contiguous and increasing. */
static void test_hist_buckets(void **state)
{
	int64_t prev_hi = 0;

	(void)state;
	for (unsigned b = 1; b <= hist_bucket(HIST_MAX_US); b++) {
		int64_t lo, hi;

		hist_bucket_range(b, &lo, &hi);
		assert_int_equal(lo, prev_hi + 1);
		assert_true(hi >= lo);
		assert_true((double)(hi - lo + 1) <= (double)lo / 128 + 1);
		prev_hi = hi;
	}
	assert_true(prev_hi >= HIST_MAX_US);
	assert_true(hist_bucket(HIST_MAX_US) < HIST_BUCKETS);
	for (int64_t v = 1; v < HIST_MAX_US; v = v * 3 / 2 + 1) {
		int64_t lo, hi;

		hist_bucket_range(hist_bucket(v), &lo, &hi);
		assert_true(lo <= v && v <= hi);
	}
	assert_int_equal(hist_bucket(0), hist_bucket(1));
	assert_int_equal(hist_bucket(HIST_MAX_US * 10), hist_bucket(HIST_MAX_US));
}

/* Quantiles of 1..100000 us come back within 1% of the exact ones. */
static void test_hist_quantiles(void **state)
{
	static struct hist h, a, b;
	const double qs[] = { 0.5, 0.9, 0.95, 0.99, 0.999 };

	(void)state;
	hist_reset(&h);
	hist_reset(&a);
	hist_reset(&b);
	assert_int_equal(hist_quantile(&h, 0.5), 0);
	for (int64_t v = 1; v <= 100000; v++) {
		hist_record(&h, v);
		hist_record(v % 2 ? &a : &b, v);
	}
	hist_merge(&a, &b);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double exact = qs[i] * 100000;
		int64_t got = hist_quantile(&h, qs[i]);

		print_message("q=%g exact=%g got=%lld\n", qs[i], exact, (long long)got);
		assert_true(fabs((double)got - exact) <= exact * 0.01);
		assert_int_equal(hist_quantile(&a, qs[i]), got);
	}
	assert_int_equal(hist_quantile(&h, 0), 1);
	assert_int_equal(hist_quantile(&h, 1), 100000);
	assert_int_equal(h.count, 100000);
	assert_int_equal(a.count, 100000);
	assert_true(fabs(hist_mean_us(&h) - 50000.5) < 1e-6);
	/* A single value is reported as itself, not as its bucket's middle. */
	hist_reset(&h);
	hist_record(&h, 123457);
	assert_int_equal(hist_quantile(&h, 0.99), 123457);
}

/* n-th send times invert the count: count(time_of(n)) == n. */
static void check_inverse(const struct load_rate *r)
{
	size_t seg = 0;

	for (double n = 0; n < r->total; n += r->total / 997) {
		double t = load_rate_time_of(r, n, &seg);

		assert_true(t >= 0 && t <= r->end_s);
		assert_true(fabs(load_rate_count(r, t) - n) < 1e-6 * fmax(1, n));
	}
	assert_true(load_rate_time_of(r, r->total, &seg) < 0);
}

static void test_rate_constant(void **state)
{
	struct load_rate r;
	struct err e = { "" };
	size_t seg = 0;

	(void)state;
	assert_int_equal(load_rate_constant(&r, 200, 10, &e), 0);
	assert_true(fabs(r.total - 2000) < 1e-9);
	assert_true(fabs(load_rate_time_of(&r, 100, &seg) - 0.5) < 1e-12);
	assert_true(fabs(load_rate_at(&r, 3) - 200) < 1e-12);
	assert_true(load_rate_at(&r, 10) == 0);
	check_inverse(&r);
	load_rate_fini(&r);
	assert_int_equal(load_rate_constant(&r, 0, 10, &e), -1);
	assert_int_equal(load_rate_constant(&r, 10, 0, &e), -1);
}

static void test_rate_profile(void **state)
{
	struct load_rate r;
	struct err e = { "" };

	(void)state;
	/* Ramp 0 -> 100 over 10 s (500 requests), hold 10 s (1000), step to 0. */
	assert_int_equal(load_rate_profile(&r, "0:0,10:100,20:100,20:0", 0, &e), 0);
	assert_true(fabs(r.end_s - 20) < 1e-12);
	assert_true(fabs(r.total - 1500) < 1e-9);
	assert_true(fabs(load_rate_at(&r, 5) - 50) < 1e-9);
	assert_true(fabs(load_rate_count(&r, 10) - 500) < 1e-9);
	check_inverse(&r);
	load_rate_fini(&r);

	/* The last rate holds until --duration; a shorter one cuts the ramp. */
	assert_int_equal(load_rate_profile(&r, "0:10,5:20", 10, &e), 0);
	assert_true(fabs(r.total - (75 + 100)) < 1e-9);
	load_rate_fini(&r);
	assert_int_equal(load_rate_profile(&r, "0:0,10:100", 5, &e), 0);
	assert_true(fabs(r.total - 125) < 1e-9);
	assert_true(fabs(r.end_s - 5) < 1e-12);
	check_inverse(&r);
	load_rate_fini(&r);

	/* A quiet stretch in the middle: nothing is due in it. */
	assert_int_equal(load_rate_profile(&r, "0:10,10:10,10:0,20:0,20:10,30:10", 0, &e), 0);
	{
		size_t seg = 0;
		double t = load_rate_time_of(&r, 100, &seg);

		assert_true(fabs(t - 20) < 1e-9);
	}
	check_inverse(&r);
	load_rate_fini(&r);

	const char *bad[] = { "", "10", "0:10,5", "5:10,2:10", "0:-1", "0:x", "0:10,",
		"0:10", "a:1", "0:0,10:0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		print_message("bad profile \"%s\"\n", bad[i]);
		assert_int_equal(load_rate_profile(&r, bad[i], 0, &e), -1);
		assert_true(e.msg[0] != '\0');
		assert_null(r.segs);
	}
}

static void test_rate_trace(void **state)
{
	const char *text = "t_seconds,requests\n0,600\n60,1200\n120,0\n180,60\n";
	struct trace t;
	struct load_rate r;
	struct err e = { "" };

	(void)state;
	assert_int_equal(trace_parse(text, strlen(text), "x.csv", &t, &e), 0);
	assert_int_equal(t.n, 4);
	assert_true(t.step_s == 60);
	/* 60x faster, half the rate: rows of 1 s at 5, 10, 0, 0.5 req/s. */
	assert_int_equal(load_rate_trace(&r, &t, 60, 0.5, 0, &e), 0);
	assert_true(fabs(r.end_s - 4) < 1e-12);
	assert_true(fabs(r.total - 15.5) < 1e-9);
	assert_true(fabs(load_rate_at(&r, 1.5) - 10) < 1e-12);
	assert_true(load_rate_at(&r, 2.5) == 0);
	check_inverse(&r);
	load_rate_fini(&r);
	trace_fini(&t);
}

static void test_trace_errors(void **state)
{
	/* len 0: strlen(text). */
	static const struct {
		const char *text, *msg;
		size_t len;
	} cases[] = {
		{ "", "x.csv:1: expected the header", 0 },
		{ "t,requests\n0,1\n", "x.csv:1: expected the header", 0 },
		{ "t_seconds,requests\n", "x.csv:1: no rows", 0 },
		{ "t_seconds,requests\n0,1\n1\n", "x.csv:3: expected t_seconds,requests", 0 },
		{ "t_seconds,requests\n0,1\n1,x\n", "x.csv:3: requests \"x\" is not a plain decimal", 0 },
		{ "t_seconds,requests\n0,1\n1,2 \n", "x.csv:3: requests \"2 \" is not a plain decimal", 0 },
		{ "t_seconds,requests\n-1,1\n", "x.csv:2: negative time", 0 },
		{ "t_seconds,requests\n0,-5\n", "x.csv:2: negative request count", 0 },
		{ "t_seconds,requests\n5,1\n", "x.csv:2: the first row must be at t=0", 0 },
		{ "t_seconds,requests\n0,1\n60,1\n30,1\n", "x.csv:4: time 30 does not increase", 0 },
		{ "t_seconds,requests\n0,1\n0,1\n", "x.csv:3: time 0 does not increase", 0 },
		{ "t_seconds,requests\n0,1\n60,1\n180,1\n", "x.csv:4: time 180 breaks the fixed step", 0 },
		{ "t_seconds,requests\n0,1\n\n1,1\n", "x.csv:3: empty line", 0 },
		/* Only plain decimals: strtod() took all of these. */
		{ "t_seconds,requests\n0,0x10\n", "x.csv:2: requests \"0x10\" is not a plain decimal", 0 },
		{ "t_seconds,requests\n0,1\n1e16,1\n", "x.csv:3: t_seconds \"1e16\" is not a plain", 0 },
		{ "t_seconds,requests\n0,inf\n", "x.csv:2: requests \"inf\" is not a plain", 0 },
		{ "t_seconds,requests\n0,nan\n", "x.csv:2: requests \"nan\" is not a plain", 0 },
		{ "t_seconds,requests\n0,+5\n", "x.csv:2: requests \"+5\" is not a plain", 0 },
		{ "t_seconds,requests\n0,1.2.3\n", "x.csv:2: requests \"1.2.3\" is not a plain", 0 },
		{ "t_seconds,requests\n0,-\n", "x.csv:2: requests \"-\" is not a plain", 0 },
		{ "t_seconds,requests\n0,5\0junk\n", "x.csv:2: byte 0x00 at column 4: a trace is plain text",
		  sizeof("t_seconds,requests\n0,5\0junk\n") - 1 },
		{ "t_seconds,requests\n0,5\n1,\x01\n", "x.csv:3: byte 0x01 at column 3", 0 },
		/* Bounded span and step, so a slip fails now, not after minutes. */
		{ "t_seconds,requests\n0,1\n10000000000000000,1\n",
		  "x.csv:3: time 1e+16 is beyond the longest trace, 31622400 s (366 days)", 0 },
		{ "t_seconds,requests\n0,1\n1000000000,1\n", "x.csv:3: time 1e+09 is beyond", 0 },
		{ "t_seconds,requests\n0,1\n1000000000000,1\n", "x.csv:3: time 1e+12 is beyond", 0 },
		{ "t_seconds,requests\n0,1\n15811201,1\n", "x.csv:3: time 1.58112e+07 is beyond", 0 },
		{ "t_seconds,requests\n0,1\n0.000001,1\n",
		  "x.csv:3: a step of 1e-06s is below the shortest, 0.001s", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct guarded g;
		struct trace t;
		struct err e = { "" };
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		const char *p = guard_copy(&g, cases[i].text, len);

		print_message("case %zu: %s\n", i, cases[i].msg);
		assert_int_equal(trace_parse(p, len, "x.csv", &t, &e), -1);
		assert_non_null(strstr(e.msg, cases[i].msg));
		assert_null(t.requests);
		guard_free(&g);
	}
	{
		const char *crlf = "t_seconds,requests\r\n0,1\r\n1,2.5\r\n";
		struct trace t;
		struct err e = { "" };

		assert_int_equal(trace_parse(crlf, strlen(crlf), "x.csv", &t, &e), 0);
		assert_int_equal(t.n, 2);
		assert_true(t.requests[1] == 2.5);
		trace_fini(&t);
	}
}

/* At the limits: a trace ending exactly at TRACE_SPAN_MAX_S and a 1 ms step
 * read; one row beyond TRACE_ROWS_MAX fails at its line, at once. */
static void test_trace_limits(void **state)
{
	const char *edge = "t_seconds,requests\n0,1\n15811200,1\n";
	const char *fine = "t_seconds,requests\n0,1\n0.001,1\n0.002,3\n";
	size_t rows = TRACE_ROWS_MAX + 1, len = 0;
	char *text = malloc(32 + rows * 16);
	struct trace t;
	struct err e = { "" };
	struct timespec t0, t1;

	(void)state;
	assert_int_equal(trace_parse(edge, strlen(edge), "x.csv", &t, &e), 0);
	assert_true(t.step_s == 15811200);
	trace_fini(&t);
	assert_int_equal(trace_parse(fine, strlen(fine), "x.csv", &t, &e), 0);
	assert_int_equal(t.n, 3);
	trace_fini(&t);
	assert_non_null(text);
	len += (size_t)sprintf(text, "t_seconds,requests\n");
	for (size_t i = 0; i < rows; i++)
		len += (size_t)sprintf(text + len, "%zu,1\n", i);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	assert_int_equal(trace_parse(text, len, "x.csv", &t, &e), -1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	assert_non_null(strstr(e.msg, "x.csv:1000002: more than 1000000 rows"));
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 2000);
	free(text);
}

/* A 2 GB (sparse) file is refused from its size, before a byte is read. */
static void test_trace_too_large(void **state)
{
	char path[] = "/tmp/poolscale-trace-XXXXXX";
	int fd = mkstemp(path);
	struct trace t;
	struct err e = { "" };
	struct timespec t0, t1;
	char want[128];

	(void)state;
	assert_true(fd != -1);
	assert_int_equal(ftruncate(fd, 2LL << 30), 0);
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(trace_read(path, &t, &e), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unlink(path);
	snprintf(want, sizeof(want), "%s: larger than %u bytes", path, TRACE_MAX_BYTES);
	assert_string_equal(e.msg, want);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 500);
	assert_null(t.requests);
}

/* The real traces shipped beside the project read without an error. */
static void test_trace_shared(void **state)
{
	struct trace t;
	struct err e = { "" };
	const char *path = "../shared/traces/worldcup98_jun1998_60s.csv";
	FILE *f = fopen(path, "r");

	(void)state;
	if (f == NULL) {
		/* CI has shared/ beside the clone; a bare clone does not. */
		print_message("skipped: %s not found (shared/ is not beside this clone)\n", path);
		skip();
	}
	fclose(f);
	assert_int_equal(trace_read(path, &t, &e), 0);
	assert_int_equal(t.n, 2880);
	assert_true(t.step_s == 60);
	assert_true(t.requests[0] == 29692);
	trace_fini(&t);
	assert_int_equal(trace_read("/nonexistent/trace.csv", &t, &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent/trace.csv"));
}

static void test_url(void **state)
{
	struct load_url u;
	struct err e = { "" };
	const struct sockaddr_in *in = (const struct sockaddr_in *)&u.addr.ss;

	(void)state;
	assert_int_equal(load_url_parse("http://127.0.0.1:8000/load?ms=5", &u, &e), 0);
	assert_string_equal(u.host, "127.0.0.1:8000");
	assert_string_equal(u.path, "/load?ms=5");
	assert_int_equal(ntohs(in->sin_port), 8000);
	assert_int_equal(load_url_parse("http://127.0.0.1", &u, &e), 0);
	assert_string_equal(u.path, "/");
	assert_int_equal(ntohs(in->sin_port), 80);
	assert_int_equal(load_url_parse("http://localhost:81/", &u, &e), 0);
	assert_int_equal(load_url_parse("http://[::1]:8080/x", &u, &e), 0);
	assert_int_equal(load_url_parse("http://[::1]/x", &u, &e), 0);

	const char *bad[] = { "https://127.0.0.1/", "ftp://x/", "127.0.0.1:80/", "http:///x",
		"http://example.com/", "http://127.0.0.1:0/", "http://127.0.0.1:99999/",
		"http://127.0.0.1/a b", "http://u@127.0.0.1/", "http://127.0.0.1/#f" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		print_message("bad url %s\n", bad[i]);
		assert_int_equal(load_url_parse(bad[i], &u, &e), -1);
		assert_true(e.msg[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_hist_quantiles),
		cmocka_unit_test(test_rate_constant),
		cmocka_unit_test(test_rate_profile),
		cmocka_unit_test(test_rate_trace),
		cmocka_unit_test(test_trace_errors),
		cmocka_unit_test(test_trace_limits),
		cmocka_unit_test(test_trace_too_large),
		cmocka_unit_test(test_trace_shared),
		cmocka_unit_test(test_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
