#include "common/http_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/http_parse.h"

struct http_creq {
	struct http_client *cl;
	struct http_creq *prev, *next;
	int fd;
	uint64_t timer;
	char req[512];
	size_t req_len, req_sent;
	bool connected;
	char failed[96];	/* set when connect() failed at once */
	struct buf in;
	http_client_cb cb;
	void *ctx;
};

struct http_client {
	struct loop *loop;
	struct http_creq *reqs;
	unsigned n;
};

struct http_client *http_client_new(struct loop *l)
{
	struct http_client *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->loop = l;
	return c;
}

static void creq_free(struct http_creq *r)
{
	struct http_client *c = r->cl;

	if (r->fd != -1) {
		loop_del_fd(c->loop, r->fd);
		close(r->fd);
	}
	if (r->timer)
		loop_cancel_timer(c->loop, r->timer);
	if (r->prev)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	c->n--;
	buf_fini(&r->in);
	free(r);
}

void http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	while (c->reqs) {
		http_client_cb cb = c->reqs->cb;
		void *ctx = c->reqs->ctx;

		creq_free(c->reqs);
		cb(ctx, HTTP_CLIENT_CANCELLED, NULL, 0, "cancelled");
	}
	free(c);
}

unsigned http_client_pending(const struct http_client *c)
{
	return c->n;
}

static void finish(struct http_creq *r, int status, const char *body, size_t len,
    const char *err)
{
	http_client_cb cb = r->cb;
	void *ctx = r->ctx;
	char msg[sizeof(r->failed)];

	/* Free first: the callback may start new requests or free the client. */
	if (status >= 0) {
		/* body points into r->in: hand over a copy of the buffer. */
		struct buf keep = r->in;
		size_t off = (size_t)(body - r->in.p);

		buf_init(&r->in, 0);
		creq_free(r);
		cb(ctx, status, keep.p + off, len, NULL);
		buf_fini(&keep);
		return;
	}
	/* err may point into r (its saved connect error): copy it first. */
	snprintf(msg, sizeof(msg), "%s", err ? err : "");
	creq_free(r);
	cb(ctx, status, NULL, 0, msg);
}

static void complete(struct http_creq *r)
{
	struct http_response_head h;
	char *body;
	size_t avail;
	int rc;

	rc = http_parse_response(r->in.p, r->in.len, 8192, &h);
	if (rc <= 0) {
		finish(r, -1, NULL, 0, "malformed response");
		return;
	}
	body = r->in.p + h.head_len;
	avail = r->in.len - h.head_len;
	if (h.chunked) {
		struct http_chunked d = { 0 };

		if (http_chunked_decode(&d, body, avail, r->in.max) < 0) {
			finish(r, -1, NULL, 0, "malformed chunked body");
			return;
		}
		avail = d.out_len;
	} else if (h.content_length >= 0) {
		if ((size_t)h.content_length > avail) {
			finish(r, -1, NULL, 0, "response body cut short");
			return;
		}
		avail = (size_t)h.content_length;
	}
	finish(r, h.status, body, avail, NULL);
}

static void creq_event(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct http_creq *r = ctx;

	(void)l;
	if (!r->connected) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr != 0) {
			char msg[96];

			snprintf(msg, sizeof(msg), "connect: %s", strerror(soerr));
			finish(r, -1, NULL, 0, msg);
			return;
		}
		r->connected = true;
	}
	if (r->req_sent < r->req_len && (events & EPOLLOUT)) {
		ssize_t n = send(fd, r->req + r->req_sent, r->req_len - r->req_sent, MSG_NOSIGNAL);

		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			finish(r, -1, NULL, 0, strerror(errno));
			return;
		}
		if (n > 0)
			r->req_sent += (size_t)n;
		if (r->req_sent == r->req_len)
			loop_mod_fd(r->cl->loop, fd, EPOLLIN, NULL);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			ssize_t n;

			size_t room = r->in.max - r->in.len;

			if (room == 0 || buf_reserve(&r->in, room < 4096 ? room : 4096) == -1) {
				finish(r, -1, NULL, 0, "response too large");
				return;
			}
			n = read(fd, r->in.p + r->in.len, r->in.cap - r->in.len);
			if (n > 0) {
				r->in.len += (size_t)n;
				continue;
			}
			if (n == 0) {
				complete(r);
				return;
			}
			if (errno == EAGAIN || errno == EINTR)
				return;
			finish(r, -1, NULL, 0, strerror(errno));
			return;
		}
	}
}

static int64_t creq_timeout(struct loop *l, void *ctx)
{
	struct http_creq *r = ctx;

	(void)l;
	r->timer = 0;
	finish(r, -1, NULL, 0, r->failed[0] ? r->failed : "timeout");
	return LOOP_TIMER_STOP;
}

int http_client_get(struct http_client *c, const struct net_addr *addr, const char *path,
    int64_t timeout_ms, size_t max_bytes, http_client_cb cb, void *ctx)
{
	struct http_creq *r = calloc(1, sizeof(*r));
	char host[80];
	int n;

	if (r == NULL)
		return -1;
	r->cl = c;
	r->cb = cb;
	r->ctx = ctx;
	buf_init(&r->in, max_bytes);
	net_addr_format((const struct sockaddr *)&addr->ss, host, sizeof(host));
	n = snprintf(r->req, sizeof(r->req),
	    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: poolscale/" POOLSCALE_VERSION
	    "\r\nConnection: close\r\n\r\n", path, host);
	if (n < 0 || (size_t)n >= sizeof(r->req)) {
		free(r);
		return -1;
	}
	r->req_len = (size_t)n;
	r->fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd == -1) {
		free(r);
		return -1;
	}
	r->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = r;
	c->reqs = r;
	c->n++;
	/* A refused connect on loopback fails at once; report it through the
	 * loop all the same, so callers never see a callback inside this call. */
	if (connect(r->fd, (const struct sockaddr *)&addr->ss, addr->len) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(r->failed, sizeof(r->failed), "connect: %s", strerror(errno));
		close(r->fd);
		r->fd = -1;
		r->timer = loop_add_timer(c->loop, 0, creq_timeout, r);
		if (r->timer == 0) {
			creq_free(r);
			return -1;
		}
		return 0;
	}
	if (loop_add_fd(c->loop, r->fd, EPOLLOUT, creq_event, r, NULL) == -1 ||
	    (r->timer = loop_add_timer(c->loop, timeout_ms, creq_timeout, r)) == 0) {
		creq_free(r);
		return -1;
	}
	return 0;
}
