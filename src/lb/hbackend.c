/* lb/hbackend.c: the backend side of an HTTP exchange: picking a backend
 * and a pooled or new connection to it, sending the request, retrying,
 * reading and framing the response. The client side is lb/hproxy.c. */
#include "lb/hconn.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lb/framing.h"
#include "lb/hmsg.h"

static void backend_event(struct loop *l, int fd, uint32_t events, void *ctx);
static void resp_process(struct hconn *hc);

static void bconn_close(struct bconn *bc)
{
	struct lb_hworker *w = bc->w;

	if (bc->in_idle)
		hw_idle_remove(w, bc);
	loop_close_fd(w->loop, bc->fd);	/* the lb never forks */
	free(bc);
}

/* Ends the current attempt's hold on its backend's in-flight count. */
void hx_release_backend(struct hconn *hc)
{
	if (hc->in_active) {
		atomic_fetch_sub_explicit(&hc->be->active, 1, memory_order_relaxed);
		hc->in_active = false;
	}
}

/* Detaches and closes the exchange's backend connection. */
void hx_drop_backend(struct hconn *hc)
{
	if (hc->bc != NULL) {
		bconn_close(hc->bc);
		hc->bc = NULL;
	}
	hx_release_backend(hc);
}

/* A new connection to be, connecting; NULL when the connect failed at once. */
static struct bconn *bconn_open(struct lb_hworker *w, struct lb_backend *be)
{
	struct bconn *bc;
	int fd = socket(be->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return NULL;
	if (connect(fd, (struct sockaddr *)&be->addr.ss, be->addr.len) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return NULL;
	}
	bc = malloc(sizeof(*bc));
	if (bc == NULL) {
		close(fd);
		return NULL;
	}
	memset(bc, 0, offsetof(struct bconn, in));
	bc->in.off = bc->in.len = 0;
	bc->w = w;
	bc->be = be;
	bc->fd = fd;
	bc->interest = EPOLLIN | EPOLLOUT;
	net_set_nodelay(fd);
	if (loop_add_fd(w->loop, fd, bc->interest, backend_event, bc, NULL) == -1) {
		close(fd);
		free(bc);
		return NULL;
	}
	return bc;
}

/* A backend connection failed before any response byte. sent: request
 * bytes were written to it. Sends the request again when that is safe. */
void hx_backend_failed(struct hconn *hc, bool sent, bool connect_failure)
{
	struct lb_counters *k = hc->w->cfg.counters;
	bool retry = hc->replayable && (!sent || (hc->idem && !hc->retried_after_send));

	if (connect_failure)
		atomic_fetch_add(&hc->be->connect_failures, 1);
	hx_drop_backend(hc);
	if (!retry) {
		hx_error(hc, 502);
		return;
	}
	if (sent)
		hc->retried_after_send = true;
	atomic_fetch_add_explicit(&hc->be->req.retries, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&k->req.retries, 1, memory_order_relaxed);
	hx_send(hc, connect_failure ? 503 : 502);
}

/* Writes what it can of the request head and the body bytes at hand. */
void hx_req_pump(struct hconn *hc)
{
	struct bconn *bc = hc->bc;
	struct iovec iov[2];
	size_t head_left = hc->reqhead.len - hc->reqhead_sent;
	size_t body_left = hc->body_scanned - hc->body_sent;
	int n = 0;
	ssize_t wr;

	if (head_left > 0)
		iov[n++] = (struct iovec){ hc->reqhead.p + hc->reqhead_sent, head_left };
	if (body_left > 0)
		iov[n++] = (struct iovec){ hc->in.data + hc->in.off + hc->body_sent, body_left };
	if (n > 0) {
		wr = writev(bc->fd, iov, n);
		if (wr == -1 && errno != EAGAIN && errno != EINTR) {
			hx_backend_failed(hc, hc->sent_any, false);
			return;
		}
		if (wr > 0) {
			size_t k = (size_t)wr, h = k < head_left ? k : head_left;

			hc->sent_any = true;
			hc->reqhead_sent += h;
			hc->body_sent += k - h;
			atomic_fetch_add_explicit(&hc->be->bytes_in, k, memory_order_relaxed);
		}
	}
	head_left = hc->reqhead.len - hc->reqhead_sent;
	body_left = hc->body_scanned - hc->body_sent;
	hx_want(hc->w, bc->fd, &bc->interest,
	    (bc->in.len < LB_HBUF ? EPOLLIN : 0) | (head_left || body_left ? EPOLLOUT : 0));
	hx_client_interest(hc);
	hx_deadline(hc);
}

/* Picks a backend for the request and starts sending it there, on a pooled
 * connection when the worker holds one. fail_status: what the client gets
 * when no backend is left (503, or 502 after a backend broke the request). */
/* A pooled connection to be. For a request that may not be sent twice,
 * first make sure the backend has not closed it meanwhile (its FIN may sit
 * unread in this very loop iteration): one recv(MSG_PEEK) keeps the race
 * that would turn such a request into a 502 to a few microseconds. */
static struct bconn *pop_alive(struct lb_hworker *w, struct lb_backend *be, bool check)
{
	struct bconn *bc;

	while ((bc = hw_idle_pop(w, be)) != NULL) {
		char c;
		ssize_t n;

		if (!check)
			return bc;
		n = recv(bc->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return bc;
		bconn_close(bc);	/* closed, reset, or unasked bytes */
	}
	return NULL;
}

void hx_unhold(struct hconn *hc)
{
	if (hc->held) {
		hc->held = false;
		atomic_fetch_sub(&hc->w->cfg.counters->held, 1);
	}
}

/* No backend is healthy: keep the request for a while when allowed, since
 * one may start because of it (a pool at min 0). true: held. */
static bool hold(struct hconn *hc)
{
	const struct lb_http_cfg *c = &hc->w->cfg.http;
	struct lb_counters *k = hc->w->cfg.counters;

	if (hc->held)
		return true;
	if (c->hold_ms == 0 || hc->ntried > 0)
		return false;
	if (atomic_fetch_add(&k->held, 1) >= c->hold_max) {
		atomic_fetch_sub(&k->held, 1);
		return false;
	}
	atomic_fetch_add(&k->held_total, 1);
	hc->held = true;
	hc->held_until_ms = hx_now_ms(hc) + c->hold_ms;
	hc->deadline_ms = hc->held_until_ms;
	return true;
}

void hx_send(struct hconn *hc, int fail_status)
{
	struct lb_hworker *w = hc->w;

	while (hc->ntried < LB_HTTP_MAX_TRIES) {
		struct lb_backend *be = lb_pool_pick(w->cfg.pool, hc->tried, hc->ntried);
		struct bconn *bc;

		if (be == NULL && hc->ntried == 0 && hold(hc))
			return;	/* the sweep tries again */
		hx_unhold(hc);
		if (be == NULL)
			break;
		hc->tried[hc->ntried++] = be;
		hc->be = be;
		hc->in_active = true;
		bc = pop_alive(w, be, !hc->idem);
		if (bc == NULL) {
			bc = bconn_open(w, be);
			if (bc == NULL) {
				atomic_fetch_add(&be->connect_failures, 1);
				hx_release_backend(hc);
				fail_status = 503;
				continue;
			}
			atomic_fetch_add_explicit(&be->conns_opened, 1, memory_order_relaxed);
		}
		bc->hc = hc;
		hc->bc = bc;
		hc->reqhead_sent = 0;
		hc->body_sent = 0;
		hc->sent_any = false;
		if (bc->connected) {
			hx_want(w, bc->fd, &bc->interest, EPOLLIN);
			hx_req_pump(hc);
		} else {
			hx_deadline(hc);
		}
		return;
	}
	hx_error(hc, fail_status);
}

/* Reads the backend's response into its buffer and passes it on. */
void hx_resp_read(struct hconn *hc)
{
	struct bconn *bc = hc->bc;
	struct hbuf *b = &bc->in;
	ssize_t n;

	if (b->len == 0)
		b->off = 0;
	if (b->off + b->len == LB_HBUF && b->off > 0) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	if (b->len == LB_HBUF) {
		hx_want(hc->w, bc->fd, &bc->interest, bc->interest & ~(uint32_t)EPOLLIN);
		return;
	}
	n = read(bc->fd, b->data + b->off + b->len, LB_HBUF - b->off - b->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (!hc->resp_any) {
			hx_backend_failed(hc, hc->sent_any, false);
		} else if (hc->resp_head && hc->respf.kind == LB_BODY_CLOSE && n == 0) {
			hc->respf.done = true;
			hc->bc_keeps = false;
			hx_want(hc->w, bc->fd, &bc->interest, 0);
			hx_flush(hc);
		} else if (!hc->resp_head) {
			hx_error(hc, 502);	/* a partial head, then the end */
		} else {
			hx_abort(hc);		/* cut inside the body */
		}
		return;
	}
	b->len += (size_t)n;
	hc->resp_any = true;
	resp_process(hc);
}

/* Parses response heads (1xx ones are passed on) and finds the body's end. */
static void resp_process(struct hconn *hc)
{
	struct lb_hworker *w = hc->w;
	struct bconn *bc = hc->bc;
	struct hbuf *b = &bc->in;
	struct http_response_head *r = &w->resp;
	long n;

	while (!hc->resp_head) {
		const char *head = b->data + b->off;
		int rc = http_parse_response(head, b->len, LB_HBUF, r);
		enum lb_body kind;

		if (rc == HTTP_PARSE_MORE) {
			if (hc->out_sent < hc->out.len)
				hx_flush(hc);	/* a 100 Continue goes out now */
			return;
		}
		if (rc == HTTP_PARSE_BAD || r->status == 101) {
			hx_error(hc, 502);
			return;
		}
		if (r->status < 200) {
			/* 100 Continue and friends: the client may wait for it. */
			if (!hc->http10 && lb_hmsg_response(head, r, false, false, &hc->out) == -1) {
				hx_error(hc, 502);
				return;
			}
			b->off += r->head_len;
			b->len -= r->head_len;
			continue;
		}
		hc->status = r->status;
		kind = hc->is_head || r->status == 204 || r->status == 304 ? LB_BODY_NONE :
		    r->chunked ? LB_BODY_CHUNKED : r->content_length >= 0 ? LB_BODY_LENGTH :
		    LB_BODY_CLOSE;
		lb_framing_init(&hc->respf, kind,
		    r->content_length > 0 ? (uint64_t)r->content_length : 0);
		hc->bc_keeps = kind != LB_BODY_CLOSE && lb_hmsg_backend_keeps(head, r);
		if (kind == LB_BODY_CLOSE || hc->c_eof)
			hc->close_after = true;
		if (lb_hmsg_response(head, r, hc->close_after, hc->http10, &hc->out) == -1) {
			hx_error(hc, 502);
			return;
		}
		b->off += r->head_len;
		b->len -= r->head_len;
		hc->resp_head = true;
	}
	n = lb_framing_scan(&hc->respf, b->data + b->off + hc->resp_scanned,
	    b->len - hc->resp_scanned);
	if (n < 0) {
		hx_abort(hc);	/* broken chunking after the head went out */
		return;
	}
	hc->resp_scanned += (size_t)n;
	if (hc->respf.done && b->len > hc->resp_scanned)
		hc->bc_keeps = false;	/* bytes after the response: not reusable */
	hx_flush(hc);
}

static void backend_event(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct bconn *bc = ctx;
	struct hconn *hc = bc->hc;

	(void)l;
	(void)fd;
	if (hc == NULL) {
		/* Idle in the pool: the backend closed it or sent unasked bytes. */
		bconn_close(bc);
		return;
	}
	if (!bc->connected) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(bc->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr != 0 || (events & EPOLLERR)) {
			hx_backend_failed(hc, false, true);
			return;
		}
		bc->connected = true;
		hx_req_pump(hc);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		hx_resp_read(hc);
		return;	/* hc may be gone; EPOLLOUT comes back if still wanted */
	}
	if (events & EPOLLOUT)
		hx_req_pump(hc);
}
