#include "common/http_server.h"

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"

#define HTTP_MAX_LISTENERS 8
#define HTTP_IN_INITIAL 4096
#define HTTP_OUT_HIGH_WATER (256 * 1024)	/* stop reading pipelined requests beyond this */
#define HTTP_SWEEP_MS 250
#define HTTP_ACCEPT_BATCH 64
#define HTTP_ACCEPT_PAUSE_MS 100
#define HTTP_FD_RESERVE_MIN 32
#define HTTP_FD_RESERVE_MAX 256

struct http_conn {
	struct http_server *srv;
	struct http_conn *prev, *next;
	int fd;
	int tag;

	char *in;			/* unconsumed input is in[in_off, in_len) */
	size_t in_off, in_len, in_cap;
	size_t head_scanned;
	bool have_head;
	struct http_request req;
	struct http_chunked chunked;
	size_t req_bytes;		/* head + framed body of the current request */
	int64_t head_ns;		/* when the current head was complete */

	struct buf out;
	size_t out_sent;

	int64_t deadline_ms;		/* 0: none (a handler holds the connection) */
	unsigned nreq;
	uint32_t interest;
	bool pending;			/* a handler owes a response */
	bool in_dispatch;		/* inside process_input(): no recursion */
	bool keep_alive;		/* for the current response */
	bool is_head;
	bool sent_continue;
	bool close_after;		/* close once out is flushed */
	bool lingering;
	bool broken;			/* peer gone while pending: free on respond */
	bool peer_eof;			/* peer sent FIN: answer what came, then close */
	bool draining;
};

struct http_listener {
	int fd;
	int tag;
	bool active;
	bool paused;
};

struct http_server {
	struct loop *loop;
	struct http_server_cfg cfg;
	struct http_listener listeners[HTTP_MAX_LISTENERS];
	size_t nlisteners;
	struct http_conn *conns;	/* doubly linked, for the sweep */
	unsigned nconns;
	atomic_int open_by_tag[HTTP_SERVER_MAX_TAGS];
	bool draining_tag[HTTP_SERVER_MAX_TAGS];
	uint64_t sweep_timer;
	uint64_t resume_timer;
	time_t date_sec;
	char date[40];
	int64_t last_emfile_log_ms;
	int64_t last_reserve_log_ms;
	int fd_ceiling;			/* an accepted fd at or above this is closed */
};

static void conn_event(struct loop *l, int fd, uint32_t events, void *ctx);
static void conn_after_io(struct http_conn *c);

void http_server_cfg_defaults(struct http_server_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->head_max_bytes = 8192;
	cfg->body_max_bytes = 65536;
	cfg->out_max_bytes = 4 * 1024 * 1024;
	cfg->read_timeout_ms = 10000;
	cfg->idle_timeout_ms = 60000;
	cfg->write_timeout_ms = 10000;
	cfg->linger_ms = 2000;
	cfg->max_requests_per_conn = 100;
	cfg->max_conns = 10000;
	cfg->server_header = "poolscale";
}

static void conn_free(struct http_conn *c)
{
	struct http_server *s = c->srv;

	loop_del_fd(s->loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	atomic_fetch_sub(&s->open_by_tag[c->tag], 1);
	buf_fini(&c->out);
	free(c->in);
	free(c);
}

/* Closes c now, unless a handler still holds it: then it is freed when the
 * handler responds. */
static void conn_close(struct http_conn *c)
{
	if (c->pending) {
		if (!c->broken) {
			c->broken = true;
			loop_del_fd(c->srv->loop, c->fd);
		}
		return;
	}
	conn_free(c);
}

static void set_interest(struct http_conn *c, uint32_t want)
{
	if (c->interest == want)
		return;
	if (loop_mod_fd(c->srv->loop, c->fd, want, NULL) == 0)
		c->interest = want;
}

static const char *date_header(struct http_server *s)
{
	time_t now = time(NULL);

	if (now != s->date_sec) {
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(s->date, sizeof(s->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		s->date_sec = now;
	}
	return s->date;
}

/* Sends what it can of c->out. -1 when the connection failed. */
static int conn_flush(struct http_conn *c)
{
	struct http_server *s = c->srv;

	while (c->out_sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->out_sent, c->out.len - c->out_sent,
		    MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		c->out_sent += (size_t)n;
		c->deadline_ms = loop_now_ms(s->loop) + s->cfg.write_timeout_ms;
	}
	buf_reset(&c->out);
	c->out_sent = 0;
	return 0;
}

/* Forget the current request: the next one starts at in_off. */
static void conn_next_request(struct http_conn *c)
{
	c->in_off += c->req_bytes;
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	c->req_bytes = 0;
	c->have_head = false;
	c->head_scanned = 0;
	c->sent_continue = false;
	memset(&c->chunked, 0, sizeof(c->chunked));
}

static int write_response(struct http_conn *c, int status, const char *ctype,
    const char *extra, const void *body, size_t len)
{
	struct http_server *s = c->srv;
	const char *conn_hdr = "";
	size_t extra_len = extra ? strlen(extra) : 0;
	size_t room = 256 + strlen(s->cfg.server_header) + strlen(ctype) + extra_len;
	int n;

	if (!c->keep_alive)
		conn_hdr = "Connection: close\r\n";
	else if (c->have_head && c->req.minor_version == 0)
		conn_hdr = "Connection: keep-alive\r\n";
	if (buf_reserve(&c->out, room + (c->is_head ? 0 : len)) == -1)
		return -1;
	n = snprintf(c->out.p + c->out.len, room,
	    "HTTP/1.1 %d %s\r\nServer: %s\r\nDate: %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%s%s\r\n",
	    status, http_status_text(status), s->cfg.server_header, date_header(s),
	    ctype, len, conn_hdr, extra ? extra : "");
	if (n < 0 || (size_t)n >= room)
		return -1;
	c->out.len += (size_t)n;
	if (!c->is_head && len > 0) {
		memcpy(c->out.p + c->out.len, body, len);
		c->out.len += len;
	}
	return 0;
}

int http_respond(struct http_conn *c, int status, const char *ctype,
    const char *extra, const void *body, size_t len)
{
	struct http_server *s = c->srv;
	int rc = 0;

	if (!c->pending)
		return -1;	/* a handler bug: nothing to answer */
	if (s->draining_tag[c->tag] || c->draining)
		c->keep_alive = false;
	if (write_response(c, status, ctype, extra, body, len) == -1) {
		static const char oops[] = "{\"error\":\"response too large\"}\n";

		c->keep_alive = false;
		status = 500;
		write_response(c, status, "application/json", NULL, oops, sizeof(oops) - 1);
		rc = -1;
	}
	if (s->cfg.done)
		s->cfg.done(s->cfg.ctx, c->tag, c->have_head ? &c->req : NULL, status,
		    c->have_head ? clock_mono_ns() - c->head_ns : 0);
	c->pending = false;
	if (!c->keep_alive)
		c->close_after = true;
	if (c->broken) {
		conn_free(c);
		return rc;
	}
	conn_next_request(c);
	if (!c->in_dispatch)
		conn_after_io(c);
	return rc;
}

int http_respond_error(struct http_conn *c, int status, const char *msg)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", msg);

	if (n < 0 || (size_t)n >= sizeof(body))
		n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", http_status_text(status));
	return http_respond(c, status, "application/json", NULL, body, (size_t)n);
}

/* Answers a request that could not be handled, and closes after it. */
static void reject(struct http_conn *c, int status, const char *msg)
{
	c->pending = true;
	c->keep_alive = false;
	c->is_head = false;
	c->req_bytes = c->in_len - c->in_off;	/* drop whatever was read */
	http_respond_error(c, status, msg);
}

/* The parsed head's slices point into c->in: after the buffer moved, parse
 * the same bytes again at their new place. The result cannot differ (same
 * bytes, pure parser); a head that no longer parses is our own bug. */
static void rebase_head(struct http_conn *c)
{
	int status = 0;
	int rc;

	if (!c->have_head)
		return;
	rc = http_parse_request(c->in + c->in_off, c->in_len - c->in_off,
	    c->srv->cfg.head_max_bytes, &c->req, &status);
	assert(rc > 0);
	(void)rc;
}

/* Makes room after in_len: compacts, then grows up to the limit. Either
 * moves the bytes, so the head's views are rebuilt before returning. */
static bool grow_input(struct http_conn *c)
{
	struct http_server *s = c->srv;
	size_t limit = s->cfg.head_max_bytes + s->cfg.body_max_bytes + 16384;
	size_t cap;
	char *p;

	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
		rebase_head(c);
		if (c->in_len < c->in_cap)
			return true;
	}
	if (c->in_cap >= limit)
		return false;
	cap = c->in_cap ? c->in_cap * 2 : HTTP_IN_INITIAL;
	if (cap > limit)
		cap = limit;
	p = realloc(c->in, cap);
	if (p == NULL)
		return false;
	c->in = p;
	c->in_cap = cap;
	rebase_head(c);
	return true;
}

static const char *status_reason(int status)
{
	switch (status) {
	case 413: return "request body too large";
	case 414: return "request line too long";
	case 417: return "unsupported expectation";
	case 431: return "request headers too large";
	case 501: return "unsupported transfer coding";
	case 505: return "unsupported HTTP version";
	default: return "malformed request";
	}
}

/* Parses the head at in_off; false when the caller must wait or stop. */
static bool take_head(struct http_conn *c)
{
	struct http_server *s = c->srv;
	const char *data = c->in + c->in_off;
	size_t avail = c->in_len - c->in_off;
	int status = 0, rc;

	/* A full parse once the end is in sight, on the first bytes (to turn
	 * garbage away at once) or at the size limit. */
	if (c->head_scanned > 0 && avail < s->cfg.head_max_bytes &&
	    http_find_head_end(data, avail, &c->head_scanned) == 0)
		return false;
	rc = http_parse_request(data, avail, s->cfg.head_max_bytes, &c->req, &status);
	if (rc == HTTP_PARSE_MORE) {
		c->head_scanned = avail;
		return false;
	}
	if (rc == HTTP_PARSE_BAD) {
		reject(c, status, status_reason(status));
		return false;
	}
	c->have_head = true;
	c->head_ns = clock_mono_ns();
	if (c->req.content_length > (int64_t)s->cfg.body_max_bytes) {
		reject(c, 413, status_reason(413));
		return false;
	}
	return true;
}

/* Is the body of the current request complete? Sets *body when it is. */
static bool take_body(struct http_conn *c, struct slice *body)
{
	struct http_server *s = c->srv;
	char *start = c->in + c->in_off + c->req.head_len;
	size_t avail = c->in_len - c->in_off - c->req.head_len;

	if (c->req.chunked) {
		int64_t rc = http_chunked_decode(&c->chunked, start, avail,
		    s->cfg.body_max_bytes);

		if (rc == HTTP_PARSE_MORE)
			goto need_more;
		if (rc == HTTP_CHUNKED_TOO_BIG || rc == HTTP_PARSE_BAD) {
			int st = rc == HTTP_PARSE_BAD ? 400 : 413;

			reject(c, st, rc == HTTP_PARSE_BAD ? "malformed chunked body" :
			    status_reason(413));
			return false;
		}
		*body = (struct slice){ start, c->chunked.out_len };
		c->req_bytes = c->req.head_len + (size_t)rc;
		return true;
	}
	if (c->req.content_length > 0 && avail < (size_t)c->req.content_length)
		goto need_more;
	*body = (struct slice){ start, c->req.content_length > 0 ?
	    (size_t)c->req.content_length : 0 };
	c->req_bytes = c->req.head_len + body->len;
	return true;
need_more:
	if (c->req.expect_continue && !c->sent_continue && c->req.minor_version == 1) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

		buf_append(&c->out, cont, sizeof(cont) - 1);
		c->sent_continue = true;
	}
	return false;
}

static void dispatch(struct http_conn *c, struct slice body)
{
	struct http_server *s = c->srv;
	enum http_handled h;

	c->nreq++;
	c->keep_alive = c->req.keep_alive && !c->draining && !s->draining_tag[c->tag] &&
	    (s->cfg.max_requests_per_conn == 0 || c->nreq < s->cfg.max_requests_per_conn);
	c->is_head = slice_eq(c->req.method, "HEAD");
	c->pending = true;
	c->deadline_ms = 0;
	h = s->cfg.handler(s->cfg.ctx, c, &c->req, body);
	if (h == HTTP_HANDLED_DONE && c->pending)
		http_respond_error(c, 500, "handler gave no response");
}

/* Serves every complete request in the input, in order, while nothing holds
 * the connection and the output is not backed up. */
static void process_input(struct http_conn *c)
{
	struct http_server *s = c->srv;

	c->in_dispatch = true;
	while (!c->pending && !c->close_after && !c->lingering &&
	    c->out.len - c->out_sent < HTTP_OUT_HIGH_WATER && c->in_len > c->in_off) {
		struct slice body;

		if (!c->have_head) {
			if (c->head_scanned == 0)
				c->deadline_ms = loop_now_ms(s->loop) + s->cfg.read_timeout_ms;
			if (!take_head(c))
				break;
		}
		if (!take_body(c, &body))
			break;
		dispatch(c, body);
	}
	c->in_dispatch = false;
}

static void start_linger(struct http_conn *c)
{
	c->lingering = true;
	c->deadline_ms = loop_now_ms(c->srv->loop) + c->srv->cfg.linger_ms;
	/* Half-close, then read until the peer closes: closing with unread
	 * input would send a reset that can destroy the response in flight. */
	(void)shutdown(c->fd, SHUT_WR);
}

/* After reading or a handler's answer: flush, then decide what to wait for. */
static void conn_after_io(struct http_conn *c)
{
	struct http_server *s = c->srv;
	bool out_empty;

	if (!c->pending && !c->lingering)
		process_input(c);
	if (c->peer_eof && !c->pending && c->out.len - c->out_sent < HTTP_OUT_HIGH_WATER)
		c->close_after = true;	/* every complete request was answered */
	if (c->broken)
		return;		/* freed when the pending handler answers */
	if (c->pending) {
		if (c->out.len > 0 && conn_flush(c) == -1) {
			conn_close(c);
			return;
		}
		set_interest(c, c->out.len > 0 ? EPOLLOUT : 0);
		return;
	}
	if (conn_flush(c) == -1) {
		conn_free(c);
		return;
	}
	out_empty = c->out.len == 0;
	if (out_empty && c->close_after && !c->lingering)
		start_linger(c);
	if (c->lingering) {
		set_interest(c, EPOLLIN);
		return;
	}
	if (!out_empty) {
		set_interest(c, EPOLLOUT);
		return;
	}
	if (c->in_len == c->in_off && !c->have_head)
		c->deadline_ms = loop_now_ms(s->loop) + s->cfg.idle_timeout_ms;
	/* Pipelined requests left unread while the output was backed up. */
	if (c->in_len > c->in_off && c->head_scanned == 0 && !c->have_head) {
		process_input(c);
		if (c->pending || c->out.len > 0) {
			conn_after_io(c);
			return;
		}
	}
	set_interest(c, c->peer_eof ? 0 : EPOLLIN);
}

static void linger_read(struct http_conn *c)
{
	char sink[4096];

	for (int i = 0; i < 16; i++) {
		ssize_t n = read(c->fd, sink, sizeof(sink));

		if (n > 0)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_free(c);	/* EOF or error: done */
		return;
	}
}

/* Reads what is there. false when the connection was closed. */
static bool conn_read(struct http_conn *c)
{
	for (int i = 0; i < 4; i++) {
		ssize_t n;

		if (c->in_len == c->in_cap && !grow_input(c)) {
			/* Full: the head or body limits will answer on parse. */
			return true;
		}
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			if (c->in_len < c->in_cap)
				return true;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return true;
		/* EOF or error. A peer that half-closed after a complete request
		 * still gets its answer; anything else is over. */
		if (n == 0 && c->in_len > c->in_off) {
			c->peer_eof = true;
			return true;
		}
		conn_close(c);
		return false;
	}
	return true;
}

static void conn_event(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct http_conn *c = ctx;

	(void)l;
	(void)fd;
	if (c->lingering) {
		linger_read(c);
		return;
	}
	if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
		conn_close(c);
		return;
	}
	/* Never read while a handler holds req and body: they point into c->in. */
	if ((events & EPOLLIN) && !c->peer_eof && !c->pending) {
		if (!conn_read(c))
			return;
	}
	conn_after_io(c);
}

static int64_t resume_accept(struct loop *l, void *ctx);

static void pause_accept(struct http_server *s)
{
	for (size_t i = 0; i < s->nlisteners; i++) {
		if (s->listeners[i].active && !s->listeners[i].paused) {
			loop_del_fd(s->loop, s->listeners[i].fd);
			s->listeners[i].paused = true;
		}
	}
	if (s->resume_timer == 0)
		s->resume_timer = loop_add_timer(s->loop, HTTP_ACCEPT_PAUSE_MS, resume_accept, s);
}

static void accept_ready(struct loop *l, int fd, uint32_t events, void *ctx);

static int64_t resume_accept(struct loop *l, void *ctx)
{
	struct http_server *s = ctx;

	(void)l;
	s->resume_timer = 0;
	for (size_t i = 0; i < s->nlisteners; i++) {
		struct http_listener *li = &s->listeners[i];

		if (li->active && li->paused &&
		    loop_add_fd(s->loop, li->fd, EPOLLIN | EPOLLEXCLUSIVE, accept_ready, s, NULL) == 0)
			li->paused = false;
	}
	return LOOP_TIMER_STOP;
}

static struct http_listener *find_listener(struct http_server *s, int fd)
{
	for (size_t i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].fd == fd && s->listeners[i].active)
			return &s->listeners[i];
	return NULL;
}

static void accept_ready(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct http_server *s = ctx;
	struct http_listener *li = find_listener(s, fd);

	(void)events;
	if (li == NULL)
		return;
	for (int i = 0; i < HTTP_ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd == -1) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of fds is an event, not a spin: pause, retry soon. */
				if (loop_now_ms(l) - s->last_emfile_log_ms > 10000) {
					log_msg(LOG_WARN, "accept paused", "error=%s", strerror(errno));
					s->last_emfile_log_ms = loop_now_ms(l);
				}
				pause_accept(s);
			}
			return;	/* EAGAIN, or a connection that died in the backlog */
		}
		/* Descriptors are handed out lowest first: an fd this high means
		 * clients hold nearly all of them. Keep the rest for the process's
		 * own work (state files, /proc, providers), as httpd keeps a reserve. */
		if (cfd >= s->fd_ceiling) {
			if (loop_now_ms(l) - s->last_reserve_log_ms > 10000) {
				log_msg(LOG_WARN, "connection refused",
				    "reason=\"file descriptors reserved\" fd=%d ceiling=%d",
				    cfd, s->fd_ceiling);
				s->last_reserve_log_ms = loop_now_ms(l);
			}
			close(cfd);
			continue;
		}
		if (http_server_add_conn(s, cfd, li->tag, NULL) == -1)
			close(cfd);
	}
}

int http_server_add_conn(struct http_server *s, int fd, int tag, struct err *e)
{
	struct http_conn *c;

	if (tag < 0 || tag >= HTTP_SERVER_MAX_TAGS)
		return err_set(e, "tag %d out of range", tag);
	if (s->nconns >= s->cfg.max_conns)
		return err_set(e, "too many connections (%u)", s->cfg.max_conns);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return err_set(e, "out of memory");
	c->srv = s;
	c->fd = fd;
	c->tag = tag;
	c->interest = EPOLLIN;
	buf_init(&c->out, s->cfg.out_max_bytes);
	if (loop_add_fd(s->loop, fd, EPOLLIN, conn_event, c, e) == -1) {
		free(c);
		return -1;
	}
	c->deadline_ms = loop_now_ms(s->loop) + s->cfg.idle_timeout_ms;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	atomic_fetch_add(&s->open_by_tag[c->tag], 1);
	return 0;
}

/* Every HTTP_SWEEP_MS: the connections whose deadline passed. O(connections),
 * which suits the app and the API; the LB keeps its own timers. */
static int64_t sweep(struct loop *l, void *ctx)
{
	struct http_server *s = ctx;
	int64_t now = loop_now_ms(l);
	struct http_conn *c, *next;

	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (c->pending || c->deadline_ms == 0 || now < c->deadline_ms)
			continue;
		if (c->lingering || c->out.len > 0 || c->close_after) {
			conn_free(c);
		} else if (c->in_len > c->in_off || c->have_head) {
			reject(c, 408, "request not received in time");
		} else {
			conn_free(c);	/* idle keep-alive: close quietly */
		}
	}
	return HTTP_SWEEP_MS;
}

/* The lowest fd number that accept may not keep: RLIMIT_NOFILE less a
 * quarter of it, at least HTTP_FD_RESERVE_MIN and at most _MAX. */
static int fd_ceiling(void)
{
	struct rlimit rl;
	rlim_t reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > INT32_MAX)
		return INT32_MAX;
	reserve = rl.rlim_cur / 4;
	if (reserve < HTTP_FD_RESERVE_MIN)
		reserve = HTTP_FD_RESERVE_MIN;
	if (reserve > HTTP_FD_RESERVE_MAX)
		reserve = HTTP_FD_RESERVE_MAX;
	if (reserve >= rl.rlim_cur)
		return 0;
	return (int)(rl.rlim_cur - reserve);
}

struct http_server *http_server_new(struct loop *l, const struct http_server_cfg *cfg,
    struct err *e)
{
	struct http_server *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	s->loop = l;
	s->cfg = *cfg;
	s->fd_ceiling = fd_ceiling();
	s->last_emfile_log_ms = s->last_reserve_log_ms = INT64_MIN / 2;
	s->sweep_timer = loop_add_timer(l, HTTP_SWEEP_MS, sweep, s);
	if (s->sweep_timer == 0) {
		free(s);
		err_set(e, "out of memory");
		return NULL;
	}
	return s;
}

void http_server_free(struct http_server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL) {
		s->conns->pending = false;
		conn_free(s->conns);
	}
	for (size_t i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].active && !s->listeners[i].paused)
			loop_del_fd(s->loop, s->listeners[i].fd);
	loop_cancel_timer(s->loop, s->sweep_timer);
	if (s->resume_timer)
		loop_cancel_timer(s->loop, s->resume_timer);
	free(s);
}

int http_server_listen(struct http_server *s, int fd, int tag, struct err *e)
{
	if (s->nlisteners == HTTP_MAX_LISTENERS)
		return err_set(e, "too many listeners");
	if (tag < 0 || tag >= HTTP_SERVER_MAX_TAGS)
		return err_set(e, "listener tag %d out of range", tag);
	/* EPOLLEXCLUSIVE: one loop wakes per new connection, not all of them. */
	if (loop_add_fd(s->loop, fd, EPOLLIN | EPOLLEXCLUSIVE, accept_ready, s, e) == -1)
		return -1;
	s->listeners[s->nlisteners++] = (struct http_listener){ .fd = fd, .tag = tag,
	    .active = true };
	return 0;
}

void http_server_drain(struct http_server *s, int tag)
{
	struct http_conn *c, *next;

	if (tag < 0 || tag >= HTTP_SERVER_MAX_TAGS)
		return;
	s->draining_tag[tag] = true;
	for (size_t i = 0; i < s->nlisteners; i++) {
		struct http_listener *li = &s->listeners[i];

		if (li->tag != tag || !li->active)
			continue;
		if (!li->paused)
			loop_del_fd(s->loop, li->fd);
		li->active = false;
	}
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (c->tag != tag)
			continue;
		c->draining = true;
		if (c->pending || c->lingering || c->out.len != 0 ||
		    c->in_len != c->in_off || c->have_head)
			continue;
		/* A connection that has not sent its first request was just
		 * accepted: the request may still be in flight (or in the socket,
		 * unread), and closing would reset it. It gets the read timeout
		 * to send it, answered with "Connection: close". */
		if (c->nreq == 0) {
			c->deadline_ms = loop_now_ms(s->loop) + s->cfg.read_timeout_ms;
			continue;
		}
		conn_free(c);
	}
}

int http_server_open_conns(const struct http_server *s, int tag)
{
	if (tag < 0 || tag >= HTTP_SERVER_MAX_TAGS)
		return 0;
	return atomic_load(&s->open_by_tag[tag]);
}

int http_conn_tag(const struct http_conn *c)
{
	return c->tag;
}

struct loop *http_conn_loop(const struct http_conn *c)
{
	return c->srv->loop;
}
