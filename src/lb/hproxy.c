/* lb/hproxy.c: the client side of the HTTP mode: accepting, request heads,
 * limits and timeouts, error pages, writing responses back, keep-alive, and
 * a worker's part of the stop on SIGTERM (struct lb_stop). The backend side
 * is lb/hbackend.c; when to give up on the stop, lb/main.c. */
#include "lb/hproxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "lb/framing.h"
#include "lb/hconn.h"
#include "lb/hmsg.h"

#define LB_SWEEP_MS 100
#define LB_LINGER_MS 1000

static void client_event(struct loop *l, int fd, uint32_t events, void *ctx);
static void try_head(struct hconn *hc);

/* ---- client connections ---- */

static void hc_close(struct hconn *hc)
{
	struct lb_hworker *w = hc->w;

	hx_unhold(hc);
	if (hc->state == H_XCHG) {
		atomic_fetch_sub(&w->cfg.counters->in_flight, 1);
		hc->state = H_HEAD;
	}
	hx_drop_backend(hc);
	loop_close_fd(w->loop, hc->fd);	/* the lb never forks */
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		w->conns = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	atomic_fetch_sub(&w->cfg.counters->open, 1);
	buf_fini(&hc->out);
	buf_fini(&hc->reqhead);
	free(hc);
}

/* Counts the request once, for the listener and its last backend. */
static void record(struct hconn *hc, int status)
{
	int64_t us = clock_mono_ns() / 1000 - hc->start_us;

	if (hc->recorded)
		return;
	hc->recorded = true;
	lb_req_stats_add(&hc->w->cfg.counters->req, status, us);
	if (hc->be != NULL)
		lb_req_stats_add(&hc->be->req, status, us);
}

/* The request ends without a response the client could use: close. */
void hx_abort(struct hconn *hc)
{
	if (hc->state == H_XCHG)
		record(hc, hc->resp_head ? hc->status : 0);
	hc_close(hc);
}

/* Answers with the balancer's own error page and closes after it. Once a
 * response byte went to the client there is nothing to say: close. */
void hx_error(struct hconn *hc, int status)
{
	if (hc->resp_head || hc->out_sent > 0) {
		hx_abort(hc);
		return;
	}
	hx_unhold(hc);
	if (hc->state == H_XCHG) {
		record(hc, status);
		atomic_fetch_sub(&hc->w->cfg.counters->in_flight, 1);
	} else {
		hc->start_us = clock_mono_ns() / 1000;
		hc->be = NULL;
		record(hc, status);
	}
	hx_drop_backend(hc);
	hc->state = H_ERROR;
	hc->resp_scanned = 0;
	buf_reset(&hc->out);
	hc->out_sent = 0;
	if (lb_hmsg_error(status, &hc->out) == -1) {
		hc_close(hc);
		return;
	}
	hc->deadline_ms = hx_now_ms(hc) + hc->w->cfg.http.client_timeout_ms;
	hx_want(hc->w, hc->fd, &hc->interest, EPOLLOUT);
	hx_flush(hc);
}

/* Room at the end of the client buffer: compacts, and drops body bytes
 * already sent when it must (the request can then no longer be replayed). */
static bool client_room(struct hconn *hc)
{
	struct hbuf *b = &hc->in;

	if (b->len == 0)
		b->off = 0;
	if (b->off + b->len < LB_HBUF)
		return true;
	if (hc->state == H_XCHG && !hc->reqf.done && hc->body_sent > 0) {
		b->off += hc->body_sent;
		b->len -= hc->body_sent;
		hc->body_scanned -= hc->body_sent;
		hc->body_sent = 0;
		hc->replayable = false;
	}
	if (b->off == 0)
		return b->len < LB_HBUF;
	memmove(b->data, b->data + b->off, b->len);
	b->off = 0;
	return b->len < LB_HBUF;
}

/* Reads what fits: > 0 bytes, 0 at EOF, -1 on error, -2 nothing now. */
static long client_read(struct hconn *hc)
{
	struct hbuf *b = &hc->in;
	ssize_t n;

	if (!client_room(hc))
		return -2;
	n = read(hc->fd, b->data + b->off + b->len, LB_HBUF - b->off - b->len);
	if (n > 0) {
		b->len += (size_t)n;
		return n;
	}
	if (n == 0)
		return 0;
	return errno == EAGAIN || errno == EINTR ? -2 : -1;
}

/* What the client side waits for now, and until when. */
void hx_client_interest(struct hconn *hc)
{
	uint32_t ev = 0;
	bool blocked = hc->out_sent < hc->out.len || hc->resp_scanned > 0;

	if (!hc->c_eof && hc->state != H_ERROR &&
	    (hc->in.off + hc->in.len < LB_HBUF || hc->in.off > 0 ||
	     (hc->state == H_XCHG && !hc->reqf.done && hc->body_sent > 0)))
		ev |= EPOLLIN;
	if (blocked)
		ev |= EPOLLOUT;
	hx_want(hc->w, hc->fd, &hc->interest, ev);
}

/* Sets the exchange's deadline after progress: connecting, waiting on a
 * slow client, or waiting on the backend. */
void hx_deadline(struct hconn *hc)
{
	const struct lb_proxy_cfg *c = &hc->w->cfg;
	bool client_slow = hc->out_sent < hc->out.len || hc->resp_scanned > 0 ||
	    (!hc->reqf.done && hc->body_sent == hc->body_scanned &&
	     hc->reqhead_sent == hc->reqhead.len);

	if (hc->bc != NULL && !hc->bc->connected)
		hc->deadline_ms = hx_now_ms(hc) + c->connect_timeout_ms;
	else if (client_slow && !hc->resp_head)
		hc->deadline_ms = hx_now_ms(hc) + (hc->reqf.done ? c->http.server_timeout_ms :
		    c->http.client_timeout_ms);
	else if (client_slow)
		hc->deadline_ms = hx_now_ms(hc) + c->http.client_timeout_ms;
	else
		hc->deadline_ms = hx_now_ms(hc) + c->http.server_timeout_ms;
}

static void enter_head(struct hconn *hc)
{
	hc->state = H_HEAD;
	hc->head_started = false;
	hc->deadline_ms = hx_now_ms(hc) + hc->w->cfg.http.idle_timeout_ms;
	if (hc->in.len > 0) {
		hc->head_started = true;
		hc->deadline_ms = hx_now_ms(hc) + hc->w->cfg.http.request_timeout_ms;
		try_head(hc);
		return;
	}
	hx_client_interest(hc);
}

/* The response went out whole: count it, pool the backend connection when
 * it can serve again, and wait for the client's next request. */
static void xchg_done(struct hconn *hc)
{
	struct lb_hworker *w = hc->w;
	struct bconn *bc = hc->bc;
	bool pool = bc != NULL && hc->bc_keeps && hc->reqf.done && bc->in.len == 0 &&
	    lb_backend_eligible(hc->be);

	record(hc, hc->status);
	atomic_fetch_sub(&w->cfg.counters->in_flight, 1);
	if (pool) {
		bc->hc = NULL;
		bc->reused = true;
		hc->bc = NULL;
		hx_release_backend(hc);
		hw_idle_push(w, bc, hx_now_ms(hc));
		hx_want(w, bc->fd, &bc->interest, EPOLLIN);
	} else {
		hx_drop_backend(hc);
	}
	if (!hc->reqf.done)
		hc->close_after = true;	/* the rest of the body would be a request */
	hc->in.off += hc->body_scanned;
	hc->in.len -= hc->body_scanned;
	hc->state = H_HEAD;
	if (hc->close_after) {
		hc_close(hc);
		return;
	}
	enter_head(hc);
}

/* Writes the pending response head and body bytes to the client. */
void hx_flush(struct hconn *hc)
{
	struct iovec iov[2];
	int n = 0;
	ssize_t wr;
	size_t head_left = hc->out.len - hc->out_sent;

	if (head_left > 0)
		iov[n++] = (struct iovec){ hc->out.p + hc->out_sent, head_left };
	if (hc->resp_scanned > 0 && hc->bc != NULL)
		iov[n++] = (struct iovec){ hc->bc->in.data + hc->bc->in.off, hc->resp_scanned };
	if (n > 0) {
		wr = writev(hc->fd, iov, n);
		if (wr == -1 && errno != EAGAIN && errno != EINTR) {
			hx_abort(hc);	/* the client left */
			return;
		}
		if (wr > 0) {
			size_t k = (size_t)wr;
			size_t h = k < head_left ? k : head_left;

			hc->out_sent += h;
			k -= h;
			if (k > 0) {
				struct hbuf *b = &hc->bc->in;

				b->off += k;
				b->len -= k;
				hc->resp_scanned -= k;
				if (b->len == 0)
					b->off = 0;
				atomic_fetch_add_explicit(&hc->be->bytes_out, k, memory_order_relaxed);
			}
		}
	}
	if (hc->state == H_ERROR) {
		if (hc->out_sent == hc->out.len) {
			/* Close gently: a client still sending would get a reset
			 * that can destroy the answer; read and drop for a while. */
			shutdown(hc->fd, SHUT_WR);
			hc->state = H_LINGER;
			hc->deadline_ms = hx_now_ms(hc) + LB_LINGER_MS;
			hx_want(hc->w, hc->fd, &hc->interest, EPOLLIN);
		}
		return;
	}
	if (hc->state != H_XCHG)
		return;
	if (hc->resp_head && hc->respf.done && hc->out_sent == hc->out.len && hc->resp_scanned == 0) {
		xchg_done(hc);
		return;
	}
	/* Room again in the backend buffer: read it again. */
	if (hc->bc != NULL && hc->bc->connected && hc->bc->in.len < LB_HBUF)
		hx_want(hc->w, hc->bc->fd, &hc->bc->interest,
		    EPOLLIN | (hc->bc->interest & EPOLLOUT));
	hx_client_interest(hc);
	hx_deadline(hc);
}

/* Finds the body's end among the client bytes at hand. false: answered. */
static bool scan_req_body(struct hconn *hc)
{
	const struct hbuf *b = &hc->in;
	long n = lb_framing_scan(&hc->reqf, b->data + b->off + hc->body_scanned,
	    b->len - hc->body_scanned);
	uint64_t max = hc->w->cfg.http.max_body_bytes;

	if (n < 0) {
		hx_error(hc, 400);
		return false;
	}
	hc->body_scanned += (size_t)n;
	if (max > 0 && hc->reqf.payload > max) {
		hx_error(hc, 413);
		return false;
	}
	return true;
}

/* A complete head is at the start of the client buffer: check it, rewrite
 * it for a backend and send it. */
static void start_exchange(struct hconn *hc, const struct http_request *r)
{
	struct lb_hworker *w = hc->w;
	enum lb_body kind = r->chunked ? LB_BODY_CHUNKED :
	    r->content_length >= 0 ? LB_BODY_LENGTH : LB_BODY_NONE;
	uint64_t max = w->cfg.http.max_body_bytes;

	hc->state = H_XCHG;
	atomic_fetch_add(&w->cfg.counters->in_flight, 1);
	hc->start_us = clock_mono_ns() / 1000;
	hc->recorded = false;
	hc->be = NULL;
	hc->ntried = 0;
	hc->retried_after_send = false;
	hc->replayable = true;
	hc->idem = lb_hmsg_idempotent(r->method);
	hc->is_head = slice_eq(r->method, "HEAD");
	hc->http10 = r->minor_version == 0;
	hc->close_after = !r->keep_alive || w->stopping;
	hc->resp_head = false;
	hc->resp_any = false;
	hc->resp_scanned = 0;
	hc->status = 0;
	hc->bc_keeps = false;
	buf_reset(&hc->out);
	hc->out_sent = 0;
	buf_reset(&hc->reqhead);
	hc->body_scanned = hc->body_sent = 0;
	if (max > 0 && r->content_length > 0 && (uint64_t)r->content_length > max) {
		hx_error(hc, 413);
		return;
	}
	if (lb_hmsg_request(r, hc->ip, "", &hc->reqhead) == -1) {
		hx_error(hc, 431);
		return;
	}
	lb_framing_init(&hc->reqf, kind, r->content_length > 0 ? (uint64_t)r->content_length : 0);
	hc->in.off += r->head_len;
	hc->in.len -= r->head_len;
	if (!scan_req_body(hc))
		return;
	hx_send(hc, 503);
}

static void try_head(struct hconn *hc)
{
	struct lb_hworker *w = hc->w;
	int status = 0, rc;

	rc = http_parse_request(hc->in.data + hc->in.off, hc->in.len, w->cfg.http.max_head_bytes,
	    &w->req, &status);
	if (rc == HTTP_PARSE_MORE) {
		if (hc->c_eof) {
			hc_close(hc);
			return;
		}
		hx_client_interest(hc);
		return;
	}
	if (rc == HTTP_PARSE_BAD) {
		hx_error(hc, status);
		return;
	}
	start_exchange(hc, &w->req);
}

static void linger_read(struct hconn *hc)
{
	char scratch[4096];
	ssize_t n = read(hc->fd, scratch, sizeof(scratch));

	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		hc_close(hc);
}

static void client_event(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct hconn *hc = ctx;
	long n;

	(void)l;
	(void)fd;
	if (hc->state == H_LINGER) {
		linger_read(hc);
		return;
	}
	if (events & EPOLLOUT) {
		hx_flush(hc);
		return;	/* it may have freed hc; a pending read comes back */
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = client_read(hc);
	if (n == -1) {
		if (hc->state == H_XCHG)
			hx_abort(hc);
		else
			hc_close(hc);
		return;
	}
	if (n == 0) {
		hc->c_eof = true;
		if (hc->state == H_XCHG && !hc->reqf.done) {
			hx_abort(hc);	/* left in the middle of its request */
			return;
		}
		hc->close_after = true;
	}
	if (hc->state == H_HEAD) {
		if (n > 0 && !hc->head_started) {
			hc->head_started = true;
			hc->deadline_ms = hx_now_ms(hc) + hc->w->cfg.http.request_timeout_ms;
		}
		if (hc->in.len == 0 && hc->c_eof) {
			hc_close(hc);
			return;
		}
		try_head(hc);
		return;
	}
	if (hc->state == H_XCHG) {
		if (!hc->reqf.done && n > 0 && !scan_req_body(hc))
			return;
		if (hc->bc != NULL && hc->bc->connected)
			hx_req_pump(hc);
		else
			hx_client_interest(hc);
	}
}

static int accept_batch(struct loop *l, int fd, void *ctx)
{
	struct lb_hworker *w = ctx;
	struct lb_counters *k = w->cfg.counters;
	int i;

	for (i = 0; i < LB_ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct hconn *hc;

		if (cfd == -1) {
			if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO)
				continue;	/* that one went; the queue goes on */
			break;
		}
		if (atomic_load(&k->open) >= w->cfg.max_conns ||
		    (hc = malloc(sizeof(*hc))) == NULL) {
			close(cfd);
			atomic_fetch_add(&k->refused, 1);
			continue;
		}
		memset(hc, 0, offsetof(struct hconn, in));
		hc->in.off = hc->in.len = 0;
		hc->w = w;
		hc->fd = cfd;
		hc->interest = EPOLLIN;
		buf_init(&hc->out, 2 * LB_HBUF);
		buf_init(&hc->reqhead, 2 * LB_HBUF);
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, hc->ip, sizeof(hc->ip));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, hc->ip,
			    sizeof(hc->ip));
		atomic_fetch_add(&k->open, 1);
		atomic_fetch_add(&k->accepted, 1);
		hc->next = w->conns;
		if (w->conns)
			w->conns->prev = hc;
		w->conns = hc;
		if (loop_add_fd(l, cfd, EPOLLIN, client_event, hc, NULL) == -1) {
			hc_close(hc);
			continue;
		}
		/* The first head has the request timeout from the accept on. */
		hc->head_started = true;
		hc->deadline_ms = loop_now_ms(l) + w->cfg.http.request_timeout_ms;
	}
	return i;
}

static void accept_ready(struct loop *l, int fd, uint32_t events, void *ctx)
{
	(void)events;
	accept_batch(l, fd, ctx);
}

/* A deadline passed: what it means depends on what the exchange waits for. */
static void expire(struct hconn *hc)
{
	switch (hc->state) {
	case H_HEAD:
		if (hc->in.len == 0)
			hc_close(hc);	/* idle keep-alive ended, or never asked */
		else
			hx_error(hc, 408);
		return;
	case H_ERROR:
	case H_LINGER:
		hc_close(hc);
		return;
	case H_XCHG:
		break;
	}
	if (hc->held) {
		hx_unhold(hc);
		hx_error(hc, 503);	/* no backend came in time */
		return;
	}
	if (hc->bc != NULL && !hc->bc->connected) {
		hx_backend_failed(hc, false, true);	/* connect timeout: never sent */
	} else if (hc->out_sent < hc->out.len || hc->resp_scanned > 0) {
		hx_abort(hc);			/* the client does not read */
	} else if (!hc->reqf.done && hc->body_sent == hc->body_scanned &&
	    hc->reqhead_sent == hc->reqhead.len) {
		hx_error(hc, 408);		/* the client stopped sending its body */
	} else {
		hx_error(hc, 504);		/* the backend is silent */
	}
}

/* Client bytes in the socket not read yet (closing now would reset them). */
static bool bytes_waiting(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static int64_t sweep(struct loop *l, void *ctx);

/* The stop, posted by the main thread: a sweep starts it (requested is
 * set) and closes idle keep-alive at once. */
static void stop_now(struct loop *l, void *ctx)
{
	struct lb_hworker *w = ctx;

	if (!w->stopping)
		(void)sweep(l, w);
}

void lb_hworker_stop(struct lb_hworker *w)
{
	(void)loop_post(w->loop, stop_now, w);	/* else the next sweep */
}

static int64_t sweep(struct loop *l, void *ctx)
{
	struct lb_hworker *w = ctx;
	int64_t now = loop_now_ms(l);
	struct hconn *hc, *next;

	if (!w->stopping && atomic_load(&w->cfg.stop->requested)) {
		w->stopping = true;
		lb_stop_release(w->cfg.stop, l, w->cfg.listen_fd, accept_batch, w);
	}
	for (hc = w->conns; hc != NULL; hc = next) {
		next = hc->next;
		if (w->stopping) {
			/* Idle keep-alive between requests goes now, unless its
			 * next request already arrived; everything else is
			 * answered, then closed. */
			if (hc->state == H_HEAD && !hc->head_started && hc->in.len == 0 &&
			    !bytes_waiting(hc->fd)) {
				hc_close(hc);
				continue;
			}
			hc->close_after = true;
		}
		if (now >= hc->deadline_ms) {
			expire(hc);
			continue;
		}
		if (hc->held && hc->state == H_XCHG) {
			hx_send(hc, 503);	/* a backend may be healthy now */
			continue;
		}
		if (hc->state == H_XCHG && hc->be != NULL && hc->bc != NULL) {
			int64_t since = atomic_load_explicit(&hc->be->ineligible_ms,
			    memory_order_relaxed);

			if (since != 0 && now - since >= w->cfg.drain_timeout_ms)
				hx_error(hc, 502);	/* drained as long as allowed */
		}
	}
	hw_idle_sweep(w, now);
	if (w->stopping && w->conns == NULL)
		loop_stop(l);
	return LB_SWEEP_MS;
}

struct lb_hworker *lb_hworker_new(const struct lb_proxy_cfg *cfg, struct err *e)
{
	struct lb_hworker *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	w->cfg = *cfg;
	w->loop = loop_new(e);
	if (w->loop == NULL ||
	    loop_add_fd(w->loop, cfg->listen_fd, EPOLLIN | EPOLLEXCLUSIVE, accept_ready, w, e) == -1 ||
	    loop_add_timer(w->loop, LB_SWEEP_MS, sweep, w) == 0) {
		lb_hworker_free(w);
		return NULL;
	}
	return w;
}

void *lb_hworker_run(void *p)
{
	struct lb_hworker *w = p;
	struct err e;

	if (loop_run(w->loop, &e) == -1)
		log_msg(LOG_ERROR, "worker loop failed", "error=%s", e.msg);
	return NULL;
}

struct loop *lb_hworker_loop(struct lb_hworker *w)
{
	return w->loop;
}

void lb_hworker_free(struct lb_hworker *w)
{
	if (w == NULL)
		return;
	while (w->conns != NULL)
		hc_close(w->conns);
	hw_idle_free(w);
	if (w->loop && !w->stopping)
		loop_del_fd(w->loop, w->cfg.listen_fd);
	loop_free(w->loop);
	free(w);
}
