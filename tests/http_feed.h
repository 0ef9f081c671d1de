/* tests/http_feed.h: drives common/http_server's connection code with a byte
 * stream cut into reads at chosen offsets, over a socketpair, one loop
 * iteration per piece; the handler writes down every request it is given
 * (method, target, headers, body). The unit test and the libFuzzer target
 * share it: the same stream must give the same record however it is cut,
 * and under ASan any read of a stale view into the input buffer aborts. */
#ifndef POOLSCALE_TEST_HTTP_FEED_H
#define POOLSCALE_TEST_HTTP_FEED_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/http_server.h"
#include "common/loop.h"

struct feed_log {
	char *p;
	size_t len, cap;
};

static inline void feed_log_put(struct feed_log *g, const void *p, size_t n)
{
	if (g->len + n > g->cap) {
		size_t cap = g->cap ? g->cap : 256;

		while (cap < g->len + n)
			cap *= 2;
		g->p = realloc(g->p, cap);
		if (g->p == NULL)
			abort();
		g->cap = cap;
	}
	memcpy(g->p + g->len, p, n);
	g->len += n;
}

/* A field as "LEN:BYTES " so that any byte may appear in it. */
static inline void feed_log_field(struct feed_log *g, const char *p, size_t n)
{
	char num[32];
	int k = snprintf(num, sizeof(num), "%zu:", n);

	feed_log_put(g, num, (size_t)k);
	feed_log_put(g, p, n);
	feed_log_put(g, " ", 1);
}

static inline enum http_handled feed_handler(void *ctx, struct http_conn *c,
    const struct http_request *req, struct slice body)
{
	struct feed_log *g = ctx;
	char num[64];
	int k;

	feed_log_put(g, "R ", 2);
	feed_log_field(g, req->method.p, req->method.len);
	feed_log_field(g, req->target.p, req->target.len);
	feed_log_field(g, req->path.p, req->path.len);
	k = snprintf(num, sizeof(num), "v%d n%zu cl%lld ", req->minor_version,
	    req->nheaders, (long long)req->content_length);
	feed_log_put(g, num, (size_t)k);
	for (size_t i = 0; i < req->nheaders; i++) {
		feed_log_field(g, req->headers[i].name.p, req->headers[i].name.len);
		feed_log_field(g, req->headers[i].value.p, req->headers[i].value.len);
	}
	feed_log_field(g, body.p, body.len);
	feed_log_put(g, "\n", 1);
	http_respond(c, 200, "text/plain", NULL, "ok\n", 3);
	return HTTP_HANDLED_DONE;
}

/* Reads and drops what the server sent, so its output never backs up. */
static inline void feed_drain(int fd)
{
	char sink[8192];

	while (read(fd, sink, sizeof(sink)) > 0)
		;
}

/* Sends data[0..len) cut at cuts[0..ncuts) (ascending offsets; others are
 * ignored), one loop iteration after each piece, then half-closes and runs
 * until the server closed. Appends the handler's record to *log. 0 or -1
 * when the harness itself failed. */
static inline int feed_run(const char *data, size_t len, const size_t *cuts,
    size_t ncuts, struct feed_log *log)
{
	struct http_server_cfg cfg;
	struct http_server *s;
	struct loop *l;
	struct err e;
	int sv[2];
	size_t at = 0;
	int rc = -1;

	l = loop_new(&e);
	if (l == NULL)
		return -1;
	http_server_cfg_defaults(&cfg);
	cfg.handler = feed_handler;
	cfg.ctx = log;
	s = http_server_new(l, &cfg, &e);
	if (s == NULL)
		goto out_loop;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
		goto out_srv;
	if (http_server_add_conn(s, sv[0], 0, &e) == -1) {
		close(sv[0]);
		close(sv[1]);
		goto out_srv;
	}
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		if (end <= at || end > len)
			continue;
		/* A server that stopped reading (closed, or full) ends the feed. */
		for (int stuck = 0; at < end && stuck < 100;) {
			ssize_t n = send(sv[1], data + at, end - at, MSG_NOSIGNAL);

			if (n == -1 && errno != EAGAIN && errno != EINTR)
				break;	/* the server closed: the rest is unread */
			if (n > 0) {
				at += (size_t)n;
				stuck = 0;
			} else {
				stuck++;
			}
			if (loop_run_once(l, 0, &e) == -1)
				goto out_peer;
			feed_drain(sv[1]);
		}
		if (at < end)
			break;
	}
	shutdown(sv[1], SHUT_WR);
	/* Bounded: a server that never closes is reported by the caller's
	 * comparison, not waited on forever. */
	for (int i = 0; i < 1000 && http_server_open_conns(s, 0) > 0; i++) {
		if (loop_run_once(l, 1, &e) == -1)
			goto out_peer;
		feed_drain(sv[1]);
	}
	rc = 0;
out_peer:
	close(sv[1]);
out_srv:
	http_server_free(s);
out_loop:
	loop_free(l);
	return rc;
}

#endif
