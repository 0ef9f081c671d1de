/* The open-loop HTTP client; see engine.h. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/http_parse.h"
#include "common/net.h"
#include "load/arrival.h"
#include "load/engine.h"

#define RBUF_BYTES 4096
#define MAX_EVENTS 256
#define SCAN_NS (10 * 1000 * 1000LL)	/* timeouts and the stop flag, checked this often */
#define NS_PER_S 1000000000LL

enum conn_state { C_FREE = 0, C_CONNECTING, C_IDLE, C_BUSY };

struct conn {
	int fd;
	enum conn_state state;
	unsigned used;		/* requests answered on it */
	bool want_out;		/* registered for EPOLLOUT */
	bool got_bytes;		/* some of the current response arrived */
	bool retried;		/* the current request is a retry */
	bool closing;		/* close once the response is in */
	int64_t due_ns;		/* the current request's scheduled time */
	int64_t deadline_ns;
	const char *req;	/* bytes left to write */
	size_t req_left;
	/* Response being read. */
	bool head_done;
	bool chunked;
	int status;
	int64_t body_left;	/* content-length bytes still to come; -1 until close */
	struct http_chunked ch;
	size_t rlen;
	char rbuf[RBUF_BYTES];
	struct conn *next_idle;
};

/* Requests due while every connection is busy, oldest first. */
struct waiting {
	int64_t due_ns;
	bool retry;		/* already sent once (not counted as sent again) */
};

struct backlog {
	struct waiting *w;	/* a ring */
	size_t cap, head, len;
};

struct engine {
	const struct load_cfg *cfg;
	int epfd;
	struct conn *conns;
	unsigned nconns;	/* slots ever used, at the front of conns[] */
	unsigned open;
	unsigned inflight;	/* connections connecting or waiting for an answer */
	struct conn *idle;	/* connected, nothing to do */
	struct conn *spare;	/* closed slots, for reuse */
	struct backlog bl;
	char req_ka[700], req_close[700];
	size_t req_ka_len, req_close_len;
	int64_t start_ns;
	struct load_tick tick;
	struct load_result *res;
	int64_t last_send_ns;
};

const char *load_err_name(enum load_err k)
{
	static const char *const names[LOAD_ERR_N] = {
		"connect", "timeout", "io", "status", "unsent",
	};

	return (unsigned)k < LOAD_ERR_N ? names[k] : "?";
}

static void count_err(struct engine *g, enum load_err k)
{
	g->tick.err[k]++;
	g->res->err[k]++;
	g->res->failed++;
}

static int backlog_push(struct backlog *b, int64_t due_ns, bool retry)
{
	if (b->len == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 1024;
		struct waiting *p = malloc(ncap * sizeof(*p));

		if (p == NULL)
			return -1;
		for (size_t i = 0; i < b->len; i++)
			p[i] = b->w[(b->head + i) % b->cap];
		free(b->w);
		b->w = p;
		b->cap = ncap;
		b->head = 0;
	}
	b->w[(b->head + b->len) % b->cap] = (struct waiting){ due_ns, retry };
	b->len++;
	return 0;
}

static struct waiting backlog_pop(struct backlog *b)
{
	struct waiting v = b->w[b->head];

	b->head = (b->head + 1) % b->cap;
	b->len--;
	return v;
}

/* Slot c goes back for reuse. */
static void slot_release(struct engine *g, struct conn *c)
{
	c->next_idle = g->spare;
	g->spare = c;
}

static void conn_close(struct engine *g, struct conn *c)
{
	if (c->state == C_FREE)
		return;
	if (c->state == C_IDLE) {
		struct conn **pp = &g->idle;

		while (*pp != NULL && *pp != c)
			pp = &(*pp)->next_idle;
		if (*pp == c)
			*pp = c->next_idle;
	}
	if (c->state == C_BUSY || c->state == C_CONNECTING)
		g->inflight--;
	epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = C_FREE;
	slot_release(g, c);
	g->open--;
}

static struct conn *conn_slot(struct engine *g)
{
	struct conn *c = g->spare;

	if (c != NULL) {
		g->spare = c->next_idle;
		return c;
	}
	if (g->nconns < g->cfg->max_conns)
		return &g->conns[g->nconns++];
	return NULL;
}

static void set_out(struct engine *g, struct conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c };

	if (c->want_out == on)
		return;
	c->want_out = on;
	epoll_ctl(g->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void finish_request(struct engine *g, struct conn *c, int64_t now_ns);

/* A new connection on slot c carrying a request due at due_ns. When the
 * socket cannot even be made, the slot goes back and it counts as a
 * connect error. */
static void conn_open(struct engine *g, struct conn *c, int64_t due_ns, bool retry)
{
	const struct net_addr *a = &g->cfg->url.addr;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memset(c, 0, offsetof(struct conn, rbuf));
	c->fd = -1;
	if (fd == -1)
		goto fail;
	net_set_nodelay(fd);
	if ((connect(fd, (const struct sockaddr *)&a->ss, a->len) == -1 &&
	    errno != EINPROGRESS) || epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		close(fd);
		goto fail;
	}
	c->fd = fd;
	c->state = C_CONNECTING;
	c->want_out = true;
	g->open++;
	g->inflight++;
	c->due_ns = due_ns;
	c->retried = retry;
	c->deadline_ns = due_ns + g->cfg->timeout_ms * 1000000LL;
	return;
fail:
	slot_release(g, c);
	count_err(g, LOAD_ERR_CONNECT);
}

static void request_failed(struct engine *g, struct conn *c, enum load_err k);

static void write_request(struct engine *g, struct conn *c, int64_t now_ns)
{
	while (c->req_left > 0) {
		ssize_t n = send(c->fd, c->req, c->req_left, MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				set_out(g, c, true);
				return;
			}
			request_failed(g, c, LOAD_ERR_IO);
			return;
		}
		c->req += n;
		c->req_left -= (size_t)n;
	}
	set_out(g, c, false);
	hist_record(&g->res->lag, (now_ns - c->due_ns) / 1000);
	if (!c->retried) {
		g->tick.sent++;
		g->res->sent++;
	}
	if (now_ns > g->last_send_ns)
		g->last_send_ns = now_ns;
}

/* Puts the request due at due_ns on c, which is connected and idle. */
static void start_request(struct engine *g, struct conn *c, int64_t due_ns, bool retry)
{
	bool last = g->cfg->keepalive > 0 && c->used + 1 >= g->cfg->keepalive;

	if (c->state != C_CONNECTING)
		g->inflight++;
	c->state = C_BUSY;
	c->due_ns = due_ns;
	c->retried = retry;
	c->deadline_ns = due_ns + g->cfg->timeout_ms * 1000000LL;
	c->got_bytes = false;
	c->head_done = false;
	c->rlen = 0;
	c->closing = last;
	c->req = last ? g->req_close : g->req_ka;
	c->req_left = last ? g->req_close_len : g->req_ka_len;
	write_request(g, c, clock_mono_ns());
}

/* Sends a request due at due_ns: on an idle connection, a new one, or into
 * the backlog when --conns are all busy. */
static int dispatch(struct engine *g, int64_t due_ns, bool retry)
{
	struct conn *c = g->idle;

	if (c != NULL) {
		g->idle = c->next_idle;
		start_request(g, c, due_ns, retry);
		return 0;
	}
	c = conn_slot(g);
	if (c == NULL)
		return backlog_push(&g->bl, due_ns, retry);
	conn_open(g, c, due_ns, retry);
	return 0;
}

/* c is free for another request: the backlog's oldest, or the idle list. */
static void conn_ready(struct engine *g, struct conn *c)
{
	if (g->bl.len > 0) {
		struct waiting w = backlog_pop(&g->bl);

		c->state = C_IDLE;
		start_request(g, c, w.due_ns, w.retry);
		return;
	}
	c->state = C_IDLE;
	c->next_idle = g->idle;
	g->idle = c;
}

/* The current request on c failed with kind k. A request on a reused
 * keep-alive connection that the server closed before answering is sent
 * once more on another connection, as HTTP clients do for idempotent
 * requests (RFC 9112, 9.3.1). */
static void request_failed(struct engine *g, struct conn *c, enum load_err k)
{
	bool retry = k == LOAD_ERR_IO && !c->got_bytes && c->used > 0 && !c->retried;
	int64_t due = c->due_ns;

	conn_close(g, c);
	if (!retry) {
		count_err(g, k);
		return;
	}
	g->tick.retried++;
	g->res->retried++;
	if (dispatch(g, due, true) == -1)
		count_err(g, LOAD_ERR_UNSENT);
}

static bool header_says_close(const struct http_response_head *h)
{
	for (size_t i = 0; i < h->nheaders; i++) {
		const struct http_header *hd = &h->headers[i];

		if (hd->name.len == 10 && strncasecmp(hd->name.p, "connection", 10) == 0 &&
		    hd->value.len == 5 && strncasecmp(hd->value.p, "close", 5) == 0)
			return true;
	}
	return false;
}

/* Consumes body bytes at the start of rbuf; true when the body is complete,
 * or -1 (as int) on a malformed chunked body. */
static int eat_body(struct conn *c)
{
	if (c->chunked) {
		int64_t used = http_chunked_decode(&c->ch, c->rbuf, c->rlen, SIZE_MAX);

		if (used == HTTP_PARSE_BAD || used == HTTP_CHUNKED_TOO_BIG)
			return -1;
		/* The decoded bytes are not needed: restart the region each time. */
		if (used >= 0)
			return 1;
		c->rlen = 0;
		c->ch.in_pos = 0;
		c->ch.out_len = 0;
		return 0;
	}
	if (c->body_left < 0) {	/* until the server closes */
		c->rlen = 0;
		return 0;
	}
	if ((int64_t)c->rlen >= c->body_left) {
		c->rlen = 0;
		c->body_left = 0;
		return 1;
	}
	c->body_left -= (int64_t)c->rlen;
	c->rlen = 0;
	return 0;
}

static void on_readable(struct engine *g, struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
		int done;

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (c->state == C_IDLE) {	/* the server closed an idle one */
				conn_close(g, c);
				return;
			}
			if (n == 0 && c->head_done && c->body_left < 0 && !c->chunked) {
				finish_request(g, c, clock_mono_ns());
				return;
			}
			request_failed(g, c, LOAD_ERR_IO);
			return;
		}
		if (c->state != C_BUSY) {	/* bytes nobody asked for */
			conn_close(g, c);
			return;
		}
		c->got_bytes = true;
		c->rlen += (size_t)n;
		if (!c->head_done) {
			struct http_response_head h;
			int hl = http_parse_response(c->rbuf, c->rlen, sizeof(c->rbuf), &h);

			if (hl == HTTP_PARSE_MORE && c->rlen < sizeof(c->rbuf))
				continue;
			if (hl < 0) {
				request_failed(g, c, LOAD_ERR_IO);
				return;
			}
			c->head_done = true;
			c->status = h.status;
			c->chunked = h.chunked;
			memset(&c->ch, 0, sizeof(c->ch));
			c->body_left = h.status == 204 || h.status == 304 ? 0 : h.content_length;
			if (header_says_close(&h))
				c->closing = true;
			memmove(c->rbuf, c->rbuf + hl, c->rlen - (size_t)hl);
			c->rlen -= (size_t)hl;
		}
		done = eat_body(c);
		if (done == -1) {
			request_failed(g, c, LOAD_ERR_IO);
			return;
		}
		if (done == 1) {
			finish_request(g, c, clock_mono_ns());
			return;
		}
	}
}

static void finish_request(struct engine *g, struct conn *c, int64_t now_ns)
{
	if (c->status >= 200 && c->status < 400) {
		int64_t us = (now_ns - c->due_ns) / 1000;

		g->tick.ok++;
		g->res->ok++;
		hist_record(&g->tick.lat, us);
		hist_record(&g->res->lat, us);
	} else {
		count_err(g, LOAD_ERR_STATUS);
	}
	c->used++;
	if (c->closing || c->body_left < 0) {
		conn_close(g, c);
		return;
	}
	g->inflight--;
	conn_ready(g, c);
}

static void on_event(struct engine *g, struct conn *c, uint32_t events)
{
	if (c->state == C_CONNECTING) {
		int soerr = 0;
		socklen_t len = sizeof(soerr);

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
		if (soerr != 0 || (events & (EPOLLERR | EPOLLHUP))) {
			conn_close(g, c);
			count_err(g, LOAD_ERR_CONNECT);
			return;
		}
		start_request(g, c, c->due_ns, c->retried);
		return;
	}
	if (c->state == C_BUSY && (events & EPOLLOUT) && c->req_left > 0) {
		write_request(g, c, clock_mono_ns());
		if (c->state != C_BUSY)
			return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		on_readable(g, c);
}

/* Connections that closed leave room: the backlog's oldest go out on new ones. */
static void refill(struct engine *g)
{
	struct conn *c;

	while (g->bl.len > 0 && (c = conn_slot(g)) != NULL) {
		struct waiting w = backlog_pop(&g->bl);

		conn_open(g, c, w.due_ns, w.retry);
	}
}

static void scan_timeouts(struct engine *g, int64_t now_ns)
{
	for (unsigned i = 0; i < g->nconns; i++) {
		struct conn *c = &g->conns[i];

		if ((c->state == C_BUSY || c->state == C_CONNECTING) && now_ns >= c->deadline_ns) {
			conn_close(g, c);
			count_err(g, LOAD_ERR_TIMEOUT);
		}
	}
	/* Backlogged requests past their deadline will never be on time. */
	while (g->bl.len > 0 &&
	    now_ns >= g->bl.w[g->bl.head].due_ns + g->cfg->timeout_ms * 1000000LL) {
		backlog_pop(&g->bl);
		count_err(g, LOAD_ERR_TIMEOUT);
	}
}

static void emit_tick(struct engine *g, int64_t end_ns, bool last, load_tick_fn fn, void *ctx)
{
	double t0 = g->tick.t_s, t1 = (double)(end_ns - g->start_ns) / NS_PER_S;

	g->tick.span_s = t1 - t0;
	g->tick.last = last;
	g->tick.due = load_rate_count(g->cfg->rate, t1) - load_rate_count(g->cfg->rate, t0);
	g->tick.t_s = t1;
	if (fn != NULL)
		fn(&g->tick, ctx);
	memset(&g->tick, 0, offsetof(struct load_tick, lat));
	hist_reset(&g->tick.lat);
	g->tick.t_s = t1;
}

static void raise_nofile(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want + 64) {
		rl.rlim_cur = rl.rlim_max < want + 64 ? rl.rlim_max : want + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int engine_init(struct engine *g, const struct load_cfg *cfg, struct load_result *res,
    struct err *e)
{
	const char *p = cfg->url.path, *h = cfg->url.host;

	memset(g, 0, sizeof(*g));
	g->cfg = cfg;
	g->res = res;
	g->req_ka_len = (size_t)snprintf(g->req_ka, sizeof(g->req_ka),
	    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: poolscale-load\r\n\r\n", p, h);
	g->req_close_len = (size_t)snprintf(g->req_close, sizeof(g->req_close),
	    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: poolscale-load\r\n"
	    "Connection: close\r\n\r\n", p, h);
	raise_nofile(cfg->max_conns);
	/* Wake at the scheduled time, not up to 50 us later (the default slack). */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	g->conns = calloc(cfg->max_conns, sizeof(*g->conns));
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g->conns == NULL || g->epfd == -1) {
		free(g->conns);
		if (g->epfd != -1)
			close(g->epfd);
		return err_set(e, "load engine: %s", strerror(errno));
	}
	return 0;
}

static void engine_fini(struct engine *g)
{
	for (unsigned i = 0; i < g->nconns; i++)
		conn_close(g, &g->conns[i]);
	free(g->conns);
	free(g->bl.w);
	close(g->epfd);
}

int load_run(const struct load_cfg *cfg, load_tick_fn tick, void *ctx,
    const atomic_bool *stop, struct load_result *res, struct err *e)
{
	struct engine g;
	struct epoll_event evs[MAX_EVENTS];
	const struct load_rate *rate = cfg->rate;
	uint64_t rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ULL;
	size_t seg = 0;
	double n = 0, t_next;
	int64_t next_ns, tick_ns, scan_ns, end_ns, abort_ns, fin_ns;
	bool stopped = false;

	memset(res, 0, offsetof(struct load_result, lat));
	hist_reset(&res->lat);
	hist_reset(&res->lag);
	if (engine_init(&g, cfg, res, e) == -1)
		return -1;
	hist_reset(&g.tick.lat);
	g.start_ns = clock_mono_ns();
	end_ns = g.start_ns + (int64_t)(rate->end_s * NS_PER_S);
	abort_ns = end_ns + cfg->timeout_ms * 1000000LL;
	tick_ns = g.start_ns + NS_PER_S;
	scan_ns = g.start_ns + SCAN_NS;
	if (cfg->poisson)
		n = load_arrival_next(true, 0, &rng) - 1;
	t_next = load_rate_time_of(rate, n, &seg);
	next_ns = t_next < 0 ? INT64_MAX : g.start_ns + (int64_t)(t_next * NS_PER_S);

	for (;;) {
		int64_t now = clock_mono_ns(), wake;
		struct timespec ts;
		int nev;

		while (next_ns <= now) {
			res->due++;
			if (dispatch(&g, next_ns, false) == -1)
				count_err(&g, LOAD_ERR_UNSENT);
			n = load_arrival_next(cfg->poisson, n, &rng);
			t_next = load_rate_time_of(rate, n, &seg);
			next_ns = t_next < 0 ? INT64_MAX : g.start_ns + (int64_t)(t_next * NS_PER_S);
			now = clock_mono_ns();
		}
		if (now >= scan_ns) {
			scan_timeouts(&g, now);
			scan_ns = now + SCAN_NS;
			/* A stop ends the schedule here; what is out may still answer. */
			if (stop != NULL && atomic_load(stop) && !stopped) {
				stopped = true;
				next_ns = INT64_MAX;
				end_ns = now;
				abort_ns = now + cfg->timeout_ms * 1000000LL;
			}
		}
		/* Done when nothing more is due, in flight or waiting. */
		if (next_ns == INT64_MAX && now >= end_ns && g.bl.len == 0 && g.inflight == 0)
			break;
		if (now >= abort_ns)
			break;
		if (now >= tick_ns) {
			emit_tick(&g, tick_ns, false, tick, ctx);
			tick_ns += NS_PER_S;
		}
		/* With spin, sleep until spin_ns before the next send, then poll. */
		wake = next_ns - cfg->spin_ns < tick_ns ? next_ns - cfg->spin_ns : tick_ns;
		if (scan_ns < wake)
			wake = scan_ns;
		wake -= now;
		if (wake < 0)
			wake = 0;
		ts.tv_sec = wake / NS_PER_S;
		ts.tv_nsec = wake % NS_PER_S;
		nev = epoll_pwait2(g.epfd, evs, MAX_EVENTS, &ts, NULL);
		if (nev == -1 && errno != EINTR) {
			err_set(e, "epoll_pwait2: %s", strerror(errno));
			engine_fini(&g);
			return -1;
		}
		for (int i = 0; i < nev; i++) {
			struct conn *c = evs[i].data.ptr;

			/* A connection closed earlier in this batch has no owner now. */
			if (c->state != C_FREE)
				on_event(&g, c, evs[i].events);
		}
		refill(&g);
	}
	/* Whatever is still out when the run ends failed. */
	for (unsigned i = 0; i < g.nconns; i++) {
		struct conn *c = &g.conns[i];

		if (c->state == C_BUSY || c->state == C_CONNECTING) {
			conn_close(&g, c);
			count_err(&g, LOAD_ERR_TIMEOUT);
		}
	}
	while (g.bl.len > 0) {
		backlog_pop(&g.bl);
		count_err(&g, LOAD_ERR_UNSENT);
	}
	/* The loop can end past a second it has not reported yet: that second
	 * is whole, and only what follows it is the partial last interval.
	 * Requests a stop kept from being due do not count at all. */
	fin_ns = clock_mono_ns();
	for (; tick_ns <= fin_ns; tick_ns += NS_PER_S)
		emit_tick(&g, tick_ns, false, tick, ctx);
	emit_tick(&g, fin_ns, true, tick, ctx);
	res->span_s = stopped ? (double)(end_ns - g.start_ns) / NS_PER_S : rate->end_s;
	if (g.last_send_ns > g.start_ns + (int64_t)(res->span_s * NS_PER_S))
		res->span_s = (double)(g.last_send_ns - g.start_ns) / NS_PER_S;
	engine_fini(&g);
	return 0;
}
