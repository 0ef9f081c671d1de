/* The HTTP request parser and chunked decoder: valid heads, every truncation,
 * bad input with its status code, reads bounded by a guard page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "common/http_parse.h"
#include "guard.h"

#define MAXH 8192

/* The slices in r point into g: guard_free(g) after looking at them. */
static int parse_guarded(struct guarded *g, const char *s, size_t len,
    struct http_request *r, int *status)
{
	guard_copy(g, s, len);
	return http_parse_request(g->p, len, MAXH, r, status);
}

static int parse(const char *s, size_t len, struct http_request *r, int *status)
{
	struct guarded g;
	int rc = parse_guarded(&g, s, len, r, status);

	guard_free(&g);
	return rc;
}

static const struct {
	const char *name;
	const char *req;
	const char *method, *path, *query;
	int minor;
	int64_t content_length;
	bool keep_alive, chunked;
	size_t nheaders;
} good[] = {
	{ "simple_get", "GET /load HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/load", "", 1, -1, true, false, 1 },
	{ "query", "GET /load?ms=20&x HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/load", "ms=20&x", 1, -1, true, false, 1 },
	{ "http10_closes", "GET / HTTP/1.0\r\n\r\n", "GET", "/", "", 0, -1, false, false, 0 },
	{ "http10_keepalive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET", "/", "", 0, -1, true, false, 1 },
	{ "http11_close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", "GET", "/", "", 1, -1, false, false, 2 },
	{ "bare_lf", "GET /health HTTP/1.1\nHost: a\n\n", "GET", "/health", "", 1, -1, true, false, 1 },
	{ "leading_crlf", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/", "", 1, -1, true, false, 1 },
	{ "content_length", "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n", "POST", "/up", "", 1, 12, true, false, 2 },
	{ "same_cl_twice", "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n", "POST", "/up", "", 1, 3, true, false, 3 },
	{ "chunked", "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", "POST", "/up", "", 1, -1, true, true, 2 },
	{ "absolute_form", "GET http://x:8080/load?ms=1 HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/load", "ms=1", 1, -1, true, false, 1 },
	{ "absolute_form_no_path", "GET http://x HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/", "", 1, -1, true, false, 1 },
	{ "ows_trimmed", "GET / HTTP/1.1\r\nHost:   a  \t\r\n\r\n", "GET", "/", "", 1, -1, true, false, 1 },
	{ "options_star", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "OPTIONS", "*", "", 1, -1, true, false, 1 },
};

static void test_good_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct http_request r;
		struct guarded g;
		size_t len = strlen(good[i].req);
		int status = 0;
		int rc = parse_guarded(&g, good[i].req, len, &r, &status);

		print_message("%s\n", good[i].name);
		assert_int_equal(rc, (int)len);
		assert_true(slice_eq(r.method, good[i].method));
		assert_true(slice_eq(r.path, good[i].path));
		assert_true(slice_eq(r.query, good[i].query));
		assert_int_equal(r.minor_version, good[i].minor);
		assert_int_equal(r.content_length, good[i].content_length);
		assert_int_equal(r.keep_alive, good[i].keep_alive);
		assert_int_equal(r.chunked, good[i].chunked);
		assert_int_equal(r.nheaders, good[i].nheaders);
		guard_free(&g);
	}
}

/* Every proper prefix of a valid head is "need more", never an error or a
 * read past the end (the guard page would fault). */
static void test_every_truncation_needs_more(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t len = strlen(good[i].req);

		for (size_t cut = 0; cut < len; cut++) {
			struct http_request r;
			int status = 0;
			int rc = parse(good[i].req, cut, &r, &status);

			if (rc != HTTP_PARSE_MORE)
				print_error("%s cut at %zu: rc %d status %d\n", good[i].name, cut, rc, status);
			assert_int_equal(rc, HTTP_PARSE_MORE);
		}
	}
}

static const struct {
	const char *name;
	const char *req;
	int status;
} bad[] = {
	{ "no_host_in_11", "GET / HTTP/1.1\r\n\r\n", 400 },
	{ "two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
	{ "space_in_method", "G T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "bad_method_char", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "garbage_early", "\x16\x03\x01\x02", 400 },
	{ "no_version", "GET /\r\nHost: a\r\n\r\n", 400 },
	{ "version_2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
	{ "bad_version", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400 },
	{ "ctl_in_target", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "empty_target", "GET  HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "obs_fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  2\r\n\r\n", 400 },
	{ "space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400 },
	{ "no_colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", 400 },
	{ "ctl_in_value", "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", 400 },
	{ "cl_not_number", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400 },
	{ "cl_negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400 },
	{ "cl_conflict", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400 },
	{ "cl_and_te", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
	{ "te_gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501 },
	{ "expect_other", "POST / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417 },
};

static void test_bad_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_request r;
		int status = 0;
		int rc = parse(bad[i].req, strlen(bad[i].req), &r, &status);

		print_message("%s\n", bad[i].name);
		assert_int_equal(rc, HTTP_PARSE_BAD);
		assert_int_equal(status, bad[i].status);
	}
}

static void test_size_limits(void **state)
{
	static char big[MAXH + 100];
	struct http_request r;
	int status = 0;
	size_t n;

	(void)state;
	/* A request line that never ends: 414. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	assert_int_equal(parse(big, MAXH, &r, &status), HTTP_PARSE_BAD);
	assert_int_equal(status, 414);
	/* Headers that never end: 431. */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(big + n, 'b', sizeof(big) - n);
	assert_int_equal(parse(big, MAXH, &r, &status), HTTP_PARSE_BAD);
	assert_int_equal(status, 431);
	/* A complete head larger than the limit: 431. */
	memcpy(big + MAXH + 10, "\r\n\r\n", 4);
	assert_int_equal(parse(big, MAXH + 14, &r, &status), HTTP_PARSE_BAD);
	assert_int_equal(status, 431);
}

static void test_too_many_headers(void **state)
{
	char req[4096];
	size_t n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\n");
	struct http_request r;
	int status = 0;

	(void)state;
	for (int i = 0; i < HTTP_MAX_HEADERS; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "X%d: y\r\n", i);
	n += (size_t)snprintf(req + n, sizeof(req) - n, "\r\n");
	assert_int_equal(parse(req, n, &r, &status), HTTP_PARSE_BAD);
	assert_int_equal(status, 431);
}

static void test_find_head_end_resumes(void **state)
{
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
	size_t len = strlen(s), scanned = 0, end = 0;

	(void)state;
	/* Fed a byte at a time, it finds the end exactly where it is. */
	for (size_t n = 1; n <= len && end == 0; n++)
		end = http_find_head_end(s, n, &scanned);
	assert_int_equal(end, len - 4);
}

static void test_header_find_and_query(void **state)
{
	const char *s = "GET /load?ms=25&big&x=1 HTTP/1.1\r\nHost: a\r\nX-Thing: v\r\n\r\n";
	struct http_request r;
	struct slice v;
	int status;

	(void)state;
	assert_true(http_parse_request(s, strlen(s), MAXH, &r, &status) > 0);
	assert_non_null(http_header_find(&r, "x-thing"));
	assert_true(slice_eq(http_header_find(&r, "X-THING")->value, "v"));
	assert_null(http_header_find(&r, "missing"));
	assert_true(http_query_param(r.query, "ms", &v));
	assert_true(slice_eq(v, "25"));
	assert_true(http_query_param(r.query, "big", &v));
	assert_int_equal(v.len, 0);
	assert_true(http_query_param(r.query, "x", &v));
	assert_true(slice_eq(v, "1"));
	assert_false(http_query_param(r.query, "m", &v));
}

static const struct {
	const char *name;
	const char *wire;
	const char *body;	/* NULL: bad */
	size_t trailing;	/* bytes after the body */
} chunks[] = {
	{ "one_chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", 0 },
	{ "two_chunks", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", "abcde", 0 },
	{ "hex_upper", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789", 0 },
	{ "extension", "3;name=val\r\nabc\r\n0\r\n\r\n", "abc", 0 },
	{ "trailer", "3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n", "abc", 0 },
	{ "bare_lf", "3\nabc\n0\n\n", "abc", 0 },
	{ "pipelined_rest", "1\r\nz\r\n0\r\n\r\nGET /", "z", 5 },
	{ "empty", "0\r\n\r\n", "", 0 },
	{ "no_size", "\r\nabc\r\n0\r\n\r\n", NULL, 0 },
	{ "bad_hex", "g\r\nabc\r\n0\r\n\r\n", NULL, 0 },
	{ "missing_crlf_after_data", "3\r\nabcX\r\n0\r\n\r\n", NULL, 0 },
	{ "size_overflow", "1000000000000000\r\n", NULL, 0 },
};

static void test_chunked(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		size_t len = strlen(chunks[i].wire);
		struct http_chunked d = { 0 };
		struct guarded g;
		int64_t rc;

		print_message("%s\n", chunks[i].name);
		guard_copy(&g, chunks[i].wire, len);
		rc = http_chunked_decode(&d, g.p, len, 1 << 20);
		if (chunks[i].body == NULL) {
			assert_int_equal(rc, HTTP_PARSE_BAD);
		} else {
			assert_int_equal(rc, (int64_t)(len - chunks[i].trailing));
			assert_int_equal(d.out_len, strlen(chunks[i].body));
			assert_memory_equal(g.p, chunks[i].body, d.out_len);
		}
		guard_free(&g);
	}
}

/* Bytes arriving one at a time, appended as a socket would append them,
 * decode to the same body. */
static void test_chunked_incremental(void **state)
{
	const char *wire = "4\r\nWiki\r\n6;x=y\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n";
	const char *want = "Wikipedia in \r\n\r\nchunks.";
	size_t len = strlen(wire);
	char buf[128];
	struct http_chunked d = { 0 };
	int64_t rc = HTTP_PARSE_MORE;

	(void)state;
	for (size_t n = 1; n <= len; n++) {
		buf[n - 1] = wire[n - 1];
		rc = http_chunked_decode(&d, buf, n, 1 << 20);
		if (n < len)
			assert_int_equal(rc, HTTP_PARSE_MORE);
	}
	assert_int_equal(rc, (int64_t)len);
	assert_int_equal(d.out_len, strlen(want));
	assert_memory_equal(buf, want, d.out_len);
}

static void test_chunked_limit(void **state)
{
	char wire[] = "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n";
	struct http_chunked d = { 0 };

	(void)state;
	assert_int_equal(http_chunked_decode(&d, wire, strlen(wire), 8), HTTP_CHUNKED_TOO_BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_requests),
		cmocka_unit_test(test_every_truncation_needs_more),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_too_many_headers),
		cmocka_unit_test(test_find_head_end_resumes),
		cmocka_unit_test(test_header_find_and_query),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_incremental),
		cmocka_unit_test(test_chunked_limit),
	};

	return cmocka_run_group_tests_name("http_parse", tests, NULL, NULL);
}
