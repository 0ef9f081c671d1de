/* libFuzzer target: the HTTP mode's framing and head rewriting. The input
 * is read as a request and as a response; a head that parses is rewritten
 * as the balancer would send it on, and the rewrite must parse again with
 * the same framing and no hop-by-hop field left. The bytes after the head
 * are scanned as the body, fed in pieces whose sizes come from the input:
 * the body's end must not depend on where the stream was split. Any crash,
 * sanitizer report or broken invariant (abort) fails. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_parse.h"
#include "lb/framing.h"
#include "lb/hmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* -1 malformed, -2 no end yet, else the body's length. */
static long scan(enum lb_body kind, uint64_t n, const char *p, size_t len, const uint8_t *steps,
    size_t nsteps)
{
	struct lb_framing f;
	size_t at = 0, k = 0;

	lb_framing_init(&f, kind, n);
	while (at < len && !f.done) {
		size_t step = nsteps ? (size_t)steps[k++ % nsteps] % 64 + 1 : len;
		size_t m = len - at < step ? len - at : step;
		long r = lb_framing_scan(&f, p + at, m);

		if (r < 0)
			return -1;
		if ((size_t)r > m || ((size_t)r < m && !f.done))
			abort();
		at += (size_t)r;
	}
	return f.done ? (long)at : -2;
}

static void check_body(enum lb_body kind, uint64_t n, const char *p, size_t len,
    const uint8_t *steps, size_t nsteps)
{
	long whole = scan(kind, n, p, len, NULL, 0);
	long split = scan(kind, n, p, len, steps, nsteps);

	if (kind != LB_BODY_CLOSE && whole != split)
		abort();
}

/* No hop-by-hop field but the balancer's own "Connection: close" (which
 * makes a field named "close" one, harmlessly). */
static void no_hop(const struct http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (slice_eq_nocase(h[i].name, "connection") && slice_eq(h[i].value, "close"))
			continue;
		if (slice_eq_nocase(h[i].name, "close"))
			continue;
		if (lb_hmsg_is_hop(h[i].name, h, n))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const uint8_t *steps = data;
	size_t nsteps = size < 16 ? size : 16;
	struct http_request req, again;
	struct http_response_head resp, resp2;
	struct buf out;
	int st = 0, rc;

	buf_init(&out, 1 << 16);
	rc = http_parse_request(buf, size, 8192, &req, &st);
	if (rc > 0) {
		enum lb_body kind = req.chunked ? LB_BODY_CHUNKED :
		    req.content_length >= 0 ? LB_BODY_LENGTH : LB_BODY_NONE;

		/* The rewrite adds up to three fields: past the parser's count it
		 * would not parse again here (a real peer may take more). */
		if (req.nheaders + 3 <= HTTP_MAX_HEADERS &&
		    lb_hmsg_request(&req, "127.0.0.1", "", &out) == 0) {
			if (http_parse_request(out.p, out.len, 1 << 16, &again, &st) != (int)out.len ||
			    again.chunked != req.chunked || again.content_length != req.content_length)
				abort();
			no_hop(again.headers, again.nheaders);
		}
		check_body(kind, req.content_length > 0 ? (uint64_t)req.content_length : 0,
		    buf + rc, size - (size_t)rc, steps, nsteps);
	}
	buf_reset(&out);
	rc = http_parse_response(buf, size, 8192, &resp);
	if (rc > 0) {
		enum lb_body kind = resp.chunked ? LB_BODY_CHUNKED :
		    resp.content_length >= 0 ? LB_BODY_LENGTH : LB_BODY_CLOSE;

		(void)lb_hmsg_backend_keeps(buf, &resp);
		if (resp.nheaders < HTTP_MAX_HEADERS &&
		    lb_hmsg_response(buf, &resp, true, false, &out) == 0) {
			if (http_parse_response(out.p, out.len, 1 << 16, &resp2) != (int)out.len ||
			    resp2.status != resp.status || resp2.chunked != resp.chunked ||
			    (!resp.chunked && resp2.content_length != resp.content_length))
				abort();
			no_hop(resp2.headers, resp2.nheaders);
		}
		check_body(kind, resp.content_length > 0 ? (uint64_t)resp.content_length : 0,
		    buf + rc, size - (size_t)rc, steps, nsteps);
	}
	buf_fini(&out);
	return 0;
}
