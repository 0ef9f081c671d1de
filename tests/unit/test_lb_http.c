/* The HTTP mode's pure parts: body framing, head rewriting, p2c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_parse.h"
#include "lb/balance.h"
#include "lb/framing.h"
#include "lb/hmsg.h"

/* Scans s fed `step` bytes at a time; returns the body's length or -1. */
static long scan_in_steps(enum lb_body kind, uint64_t length, const char *s, size_t step)
{
	struct lb_framing f;
	size_t len = strlen(s), at = 0;

	lb_framing_init(&f, kind, length);
	while (at < len && !f.done) {
		size_t n = len - at < step ? len - at : step;
		long k = lb_framing_scan(&f, s + at, n);

		if (k < 0)
			return -1;
		at += (size_t)k;
		if ((size_t)k < n && !f.done)
			return -2;	/* stopped short without an end */
	}
	return f.done ? (long)at : -3;
}

static void test_chunked_end_found_at_any_split(void **state)
{
	const char *body = "5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\nGET /next";
	long want = (long)(strstr(body, "GET") - body);

	(void)state;
	for (size_t step = 1; step < 50; step++)
		assert_int_equal(scan_in_steps(LB_BODY_CHUNKED, 0, body, step), want);
	assert_int_equal(scan_in_steps(LB_BODY_CHUNKED, 0, "3\nabc\n0\n\nX", 1), 9);
}

static void test_chunked_rejects(void **state)
{
	(void)state;
	assert_int_equal(scan_in_steps(LB_BODY_CHUNKED, 0, "10000000000000000\r\n", 4), -1);
	assert_int_equal(scan_in_steps(LB_BODY_CHUNKED, 0, "zz\r\n", 4), -1);
	assert_int_equal(scan_in_steps(LB_BODY_CHUNKED, 0, "3\r\nabcX\r\n", 4), -1);
	assert_int_equal(scan_in_steps(LB_BODY_CHUNKED, 0, "\r\n", 4), -1);
}

static void test_length_and_none(void **state)
{
	struct lb_framing f;

	(void)state;
	assert_int_equal(scan_in_steps(LB_BODY_LENGTH, 4, "abcdGET", 3), 4);
	lb_framing_init(&f, LB_BODY_NONE, 0);
	assert_true(f.done);
	assert_int_equal(lb_framing_scan(&f, "GET", 3), 0);
	lb_framing_init(&f, LB_BODY_LENGTH, 0);
	assert_true(f.done);
	lb_framing_init(&f, LB_BODY_CLOSE, 0);
	assert_int_equal(lb_framing_scan(&f, "abc", 3), 3);
	assert_false(f.done);
}

static struct slice sl(const char *s)
{
	return (struct slice){ s, strlen(s) };
}

static void test_hop_by_hop(void **state)
{
	struct http_header h[2] = {
		{ sl("Connection"), sl("keep-alive, X-Private ,content-length") },
		{ sl("X-Private"), sl("1") },
	};

	(void)state;
	assert_true(lb_hmsg_is_hop(sl("connection"), h, 2));
	assert_true(lb_hmsg_is_hop(sl("Keep-Alive"), h, 2));
	assert_true(lb_hmsg_is_hop(sl("TE"), h, 2));
	assert_true(lb_hmsg_is_hop(sl("Upgrade"), h, 2));
	assert_true(lb_hmsg_is_hop(sl("Proxy-Connection"), h, 2));
	assert_true(lb_hmsg_is_hop(sl("x-private"), h, 2));
	assert_false(lb_hmsg_is_hop(sl("Content-Length"), h, 2));	/* never framing */
	assert_false(lb_hmsg_is_hop(sl("X-Public"), h, 2));
	assert_true(lb_hmsg_idempotent(sl("PUT")));
	assert_false(lb_hmsg_idempotent(sl("POST")));
	assert_false(lb_hmsg_idempotent(sl("get")));
}

static void test_request_rewrite(void **state)
{
	const char *in = "GET /a?b HTTP/1.0\r\nConnection: keep-alive, X-Gone\r\nX-Gone: 1\r\n"
	    "X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-Proto: https\r\nTE: trailers\r\n"
	    "X-Forwarded-For: 2.2.2.2\r\nAccept: */*\r\n\r\n";
	const char *want = "GET /a?b HTTP/1.1\r\nAccept: */*\r\nHost: \r\n"
	    "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 127.0.0.9\r\nX-Forwarded-Proto: http\r\n\r\n";
	struct http_request r;
	struct buf out;
	int st;

	(void)state;
	assert_true(http_parse_request(in, strlen(in), 8192, &r, &st) > 0);
	buf_init(&out, 4096);
	assert_int_equal(lb_hmsg_request(&r, "127.0.0.9", "", &out), 0);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.p, want, out.len);
	buf_fini(&out);
}

static void test_response_rewrite(void **state)
{
	const char *in = "HTTP/1.1 200 Fine\r\nConnection: X-A\r\nX-A: 1\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\nKeep-Alive: timeout=3\r\nX-B: 2\r\n\r\n";
	struct http_response_head r;
	struct buf out;

	(void)state;
	assert_true(http_parse_response(in, strlen(in), 8192, &r) > 0);
	assert_true(lb_hmsg_backend_keeps(in, &r));
	buf_init(&out, 4096);
	assert_int_equal(lb_hmsg_response(in, &r, true, false, &out), 0);
	assert_int_equal(buf_append(&out, "", 1), 0);
	assert_string_equal(out.p, "HTTP/1.1 200 Fine\r\nTransfer-Encoding: chunked\r\nX-B: 2\r\n"
	    "Connection: close\r\n\r\n");
	buf_reset(&out);
	assert_int_equal(lb_hmsg_error(503, &out), 0);
	assert_int_equal(buf_append(&out, "", 1), 0);
	assert_non_null(strstr(out.p, "Content-Length: 24\r\n"));
	assert_non_null(strstr(out.p, "\r\n\r\n503 Service Unavailable\n"));
	buf_fini(&out);
	in = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
	assert_true(http_parse_response(in, strlen(in), 8192, &r) > 0);
	assert_false(lb_hmsg_backend_keeps(in, &r));
	in = "HTTP/1.0 200 OK\r\n\r\n";
	assert_true(http_parse_response(in, strlen(in), 8192, &r) > 0);
	assert_false(lb_hmsg_backend_keeps(in, &r));
}

static void test_p2c_picks_the_less_busy_of_two(void **state)
{
	bool el[4] = { true, true, false, true };
	int active[4] = { 9, 0, 0, 5 }, hits[4] = { 0 };
	unsigned cur = 0;

	(void)state;
	for (uint32_t r = 0; r < 600; r++)
		hits[lb_pick(LB_P2C, el, active, 4, &cur, r * 2654435761u)]++;
	assert_int_equal(hits[2], 0);	/* ineligible */
	assert_int_equal(hits[0], 0);	/* the busiest never beats its rival */
	assert_true(hits[1] > hits[3]);
	assert_true(hits[3] > 0);	/* drawn against the busiest, it wins */
	el[1] = el[3] = false;
	assert_int_equal(lb_pick(LB_P2C, el, active, 4, &cur, 7), 0);	/* the only one */
	el[0] = false;
	assert_int_equal(lb_pick(LB_P2C, el, active, 4, &cur, 7), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunked_end_found_at_any_split),
		cmocka_unit_test(test_chunked_rejects),
		cmocka_unit_test(test_length_and_none),
		cmocka_unit_test(test_hop_by_hop),
		cmocka_unit_test(test_request_rewrite),
		cmocka_unit_test(test_response_rewrite),
		cmocka_unit_test(test_p2c_picks_the_less_busy_of_two),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
