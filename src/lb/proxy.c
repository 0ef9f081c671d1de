#include "lb/proxy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

#define LB_BUF (16 * 1024)
#define LB_MAX_TRIES 8
#define LB_SWEEP_MS 100
#define LB_SPARE 64		/* closed connections kept for the next accepts */

struct pconn;

/* Each socket is registered once, edge-triggered for both ways, and never
 * modified: what epoll said is kept here until a call says otherwise (a
 * short read or write, or EAGAIN). Level-triggered, a connection took four
 * epoll_ctl; now two (bench/lb_syscalls.sh). */
#define LB_EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

struct pside {
	struct pconn *pc;
	int fd;
	bool readable;			/* data came since a read found none */
	bool hup;			/* the peer's FIN (or a hangup) came */
	bool writable;			/* room came since a write found none */
};

struct buffer {
	size_t off, len;
	char data[LB_BUF];
};

struct pconn {
	struct lb_worker *w;
	struct pconn *prev, *next;
	struct lb_backend *be;
	struct lb_backend *tried[LB_MAX_TRIES];
	int ntried;
	struct pside c, b;
	bool connected;
	bool c_eof, b_eof;		/* the side sent FIN */
	bool c_shut, b_shut;		/* we sent FIN to the side */
	int64_t connect_deadline_ms;
	struct pconn *rnext;		/* on w->ready */
	bool queued;			/* on w->ready: its pump was cut short */
	/* Last: accept zeroes everything before them, not 32 KiB. */
	struct buffer c2b, b2c;
};

struct lb_worker {
	struct lb_proxy_cfg cfg;
	struct loop *loop;
	struct pconn *conns;
	/* Freed connections, reused: a 33 KiB malloc and free per connection
	 * made glibc give the memory back (madvise) every few dozen. */
	struct pconn *spare;
	int nspare;
	bool stopping;			/* the listener is gone; ends with the last conn */
	/* Connections whose pump used its rounds with bytes still to move:
	 * resumed after the events already waiting (edge-triggered, nothing
	 * would report them again). */
	struct pconn *ready;
};

static void side_event(struct loop *l, int fd, uint32_t events, void *ctx);

static void release_backend(struct pconn *pc)
{
	if (pc->be != NULL) {
		atomic_fetch_sub_explicit(&pc->be->active, 1, memory_order_relaxed);
		pc->be = NULL;
	}
}

static void close_fd(struct lb_worker *w, struct pside *s)
{
	if (s->fd < 0)
		return;
	loop_close_fd(w->loop, s->fd);	/* the lb never forks: no EPOLL_CTL_DEL */
	*s = (struct pside){ s->pc, -1, false, false, false };
}

/* failed: the connection ended with an error, not a clean close. */
static void pconn_close(struct pconn *pc, bool failed)
{
	struct lb_worker *w = pc->w;

	if (failed)
		atomic_fetch_add(&w->cfg.counters->failed, 1);
	if (pc->queued) {
		struct pconn **pp = &w->ready;

		while (*pp != pc)
			pp = &(*pp)->rnext;
		*pp = pc->rnext;
		pc->queued = false;
	}
	close_fd(w, &pc->c);
	close_fd(w, &pc->b);
	release_backend(pc);
	if (pc->prev)
		pc->prev->next = pc->next;
	else
		w->conns = pc->next;
	if (pc->next)
		pc->next->prev = pc->prev;
	atomic_fetch_sub(&w->cfg.counters->open, 1);
	if (w->nspare < LB_SPARE) {
		pc->next = w->spare;
		w->spare = pc;
		w->nspare++;
	} else {
		free(pc);
	}
}

/* Starts connecting to a backend not tried yet. false: none is left. */
static bool connect_next(struct pconn *pc, int64_t now_ms)
{
	struct lb_worker *w = pc->w;

	close_fd(w, &pc->b);
	release_backend(pc);
	while (pc->ntried < LB_MAX_TRIES) {
		struct lb_backend *be = lb_pool_pick(w->cfg.pool, pc->tried, pc->ntried);
		int fd;

		if (be == NULL)
			return false;
		pc->tried[pc->ntried++] = be;
		pc->be = be;
		fd = socket(be->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1)
			return false;
		if (connect(fd, (struct sockaddr *)&be->addr.ss, be->addr.len) == -1 &&
		    errno != EINPROGRESS) {
			close(fd);
			atomic_fetch_add(&be->connect_failures, 1);
			release_backend(pc);
			continue;
		}
		net_set_nodelay(fd);
		pc->b.fd = fd;
		if (loop_add_fd(w->loop, fd, LB_EVENTS, side_event, &pc->b, NULL) == -1) {
			close(fd);
			pc->b.fd = -1;
			release_backend(pc);
			return false;
		}
		pc->connected = false;
		pc->connect_deadline_ms = now_ms + w->cfg.connect_timeout_ms;
		return true;
	}
	return false;
}

/* Reads what fits from s into buf, if s has something: a read that would
 * only say EAGAIN is a wasted syscall on every request. -1 on error; 1
 * when bytes came (or to try again); sets *eof. */
static int fill(struct pside *s, struct buffer *buf, bool *eof)
{
	size_t room;
	ssize_t n;

	if (*eof || !(s->readable || s->hup) || buf->len == LB_BUF)
		return 0;
	if (buf->len == 0)
		buf->off = 0;
	if (buf->off + buf->len == LB_BUF) {
		memmove(buf->data, buf->data + buf->off, buf->len);
		buf->off = 0;
	}
	room = LB_BUF - buf->off - buf->len;
	n = read(s->fd, buf->data + buf->off + buf->len, room);
	if (n > 0) {
		buf->len += (size_t)n;
		/* Short: the socket is empty now; what comes is a new edge.
		 * After a FIN, the next read is the end of file. */
		if ((size_t)n < room)
			s->readable = false;
		return 1;
	}
	if (n == 0) {
		*eof = true;
		return 0;
	}
	if (errno == EAGAIN) {
		s->readable = s->hup = false;
		return 0;
	}
	return errno == EINTR ? 1 : -1;	/* 1: again (no edge would say so) */
}

/* Writes what it can of buf to s. -1 on error; 1 when bytes went (or to
 * try again). */
static int drain(struct pside *s, struct buffer *buf, atomic_uint_fast64_t *counter)
{
	ssize_t n;

	if (buf->len == 0 || !s->writable)
		return 0;
	n = send(s->fd, buf->data + buf->off, buf->len, MSG_NOSIGNAL);
	if (n > 0) {
		buf->off += (size_t)n;
		buf->len -= (size_t)n;
		if (buf->len > 0)
			s->writable = false;	/* short: its buffer is full */
		atomic_fetch_add_explicit(counter, (uint64_t)n, memory_order_relaxed);
		return 1;
	}
	if (n == -1 && errno == EAGAIN) {
		s->writable = false;
		return 0;
	}
	return n == -1 && errno == EINTR ? 1 : -1;
}

static void resume(struct loop *l, void *ctx);

/* Rounds of a pump (each up to a buffer each way) before the connection
 * lets the worker's other connections go first: a stream that never runs
 * dry held every other client of its worker (tens of ms a request). */
#define LB_PUMP_ROUNDS 8

/* Moves bytes both ways until neither can move (edge-triggered: nothing
 * is reported again) or its rounds are used, then passes FINs on.
 * Backpressure needs no call: a full buffer is simply not read into, and
 * its side stays marked readable until there is room. */
static void pump(struct pconn *pc)
{
	int r[4], rounds = 0;

	do {
		if (++rounds > LB_PUMP_ROUNDS) {
			if (!pc->queued) {
				/* One post resumes the whole list (else the sweep). */
				if (pc->w->ready == NULL)
					(void)loop_post(pc->w->loop, resume, pc->w);
				pc->queued = true;
				pc->rnext = pc->w->ready;
				pc->w->ready = pc;
			}
			return;
		}
		/* In this order (an initializer list's would be unspecified). */
		r[0] = fill(&pc->c, &pc->c2b, &pc->c_eof);
		r[1] = drain(&pc->b, &pc->c2b, &pc->be->bytes_in);
		r[2] = fill(&pc->b, &pc->b2c, &pc->b_eof);
		r[3] = drain(&pc->c, &pc->b2c, &pc->be->bytes_out);
		if (r[0] == -1 || r[1] == -1 || r[2] == -1 || r[3] == -1) {
			pconn_close(pc, true);
			return;
		}
	} while (r[0] | r[1] | r[2] | r[3]);
	/* Both ways finished: close both (close sends the FINs; shutting
	 * down each first would be two more syscalls for the same). One way
	 * finished: pass its FIN on and keep the other way open. */
	if (pc->c_eof && pc->c2b.len == 0 && pc->b_eof && pc->b2c.len == 0) {
		pconn_close(pc, false);
		return;
	}
	if (pc->c_eof && pc->c2b.len == 0 && !pc->b_shut) {
		shutdown(pc->b.fd, SHUT_WR);
		pc->b_shut = true;
	}
	if (pc->b_eof && pc->b2c.len == 0 && !pc->c_shut) {
		shutdown(pc->c.fd, SHUT_WR);
		pc->c_shut = true;
	}
}

/* Each pump below touches only its own connection, so the rest of the
 * list stays valid; one cut short again joins the new list. */
static void resume(struct loop *l, void *ctx)
{
	struct lb_worker *w = ctx;
	struct pconn *list = w->ready;

	(void)l;
	w->ready = NULL;
	for (struct pconn *pc = list; pc != NULL; pc = list) {
		list = pc->rnext;
		pc->queued = false;
		pump(pc);
	}
}

static void connect_failed(struct pconn *pc, int64_t now_ms)
{
	if (pc->be != NULL)
		atomic_fetch_add(&pc->be->connect_failures, 1);
	/* Nothing reached a backend yet: try the next one, unseen by the client. */
	if (!connect_next(pc, now_ms))
		pconn_close(pc, true);
}

static void side_event(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct pside *s = ctx;
	struct pconn *pc = s->pc;

	(void)fd;
	if (s == &pc->b && !pc->connected) {
		/* Writable without an error is a finished connect (no SO_ERROR
		 * read needed); a refused or reset one comes with EPOLLERR. */
		if (events & (EPOLLERR | EPOLLHUP)) {
			connect_failed(pc, loop_now_ms(l));
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		pc->connected = true;
		pc->connect_deadline_ms = 0;
	}
	/* A reset side: nothing more passes either way. */
	if (events & EPOLLERR) {
		pconn_close(pc, true);
		return;
	}
	s->readable |= (events & EPOLLIN) != 0;
	s->hup |= (events & (EPOLLRDHUP | EPOLLHUP)) != 0;
	s->writable |= (events & EPOLLOUT) != 0;
	if (!pc->connected) {
		/* Client bytes wait in c2b (to its size; the rest stays marked
		 * readable for later); a client that leaves is seen here. */
		if (fill(&pc->c, &pc->c2b, &pc->c_eof) == -1)
			pconn_close(pc, false);
		return;
	}
	pump(pc);
}

static int accept_batch(struct loop *l, int fd, void *ctx)
{
	struct lb_worker *w = ctx;
	struct lb_counters *k = w->cfg.counters;
	int i;

	for (i = 0; i < LB_ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct pconn *pc;

		if (cfd == -1) {
			if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO)
				continue;	/* that one went; the queue goes on */
			break;
		}
		if (atomic_load(&k->open) >= w->cfg.max_conns) {
			close(cfd);
			atomic_fetch_add(&k->refused, 1);
			continue;
		}
		if (w->spare != NULL) {
			pc = w->spare;
			w->spare = pc->next;
			w->nspare--;
		} else {
			pc = malloc(sizeof(*pc));
		}
		if (pc == NULL) {
			close(cfd);
			atomic_fetch_add(&k->refused, 1);
			continue;
		}
		memset(pc, 0, offsetof(struct pconn, c2b));
		pc->c2b.off = pc->c2b.len = pc->b2c.off = pc->b2c.len = 0;
		pc->w = w;
		pc->c = (struct pside){ pc, cfd, false, false, false };
		pc->b = (struct pside){ pc, -1, false, false, false };
		atomic_fetch_add(&k->open, 1);
		atomic_fetch_add(&k->accepted, 1);
		pc->next = w->conns;
		if (w->conns)
			w->conns->prev = pc;
		w->conns = pc;
		if (loop_add_fd(l, cfd, LB_EVENTS, side_event, &pc->c, NULL) == -1) {
			close(cfd);
			pc->c.fd = -1;
			pconn_close(pc, true);
			continue;
		}
		if (!connect_next(pc, loop_now_ms(l))) {
			/* No healthy backend: close at once and count it. */
			atomic_fetch_add(&k->refused, 1);
			pconn_close(pc, false);
		}
	}
	return i;
}

static void accept_ready(struct loop *l, int fd, uint32_t events, void *ctx)
{
	(void)events;
	accept_batch(l, fd, ctx);
}

void lb_stop_release(struct lb_stop *st, struct loop *l, int listen_fd,
    int (*accept)(struct loop *l, int fd, void *w), void *w)
{
	for (int taken = 0; taken < LB_BACKLOG && accept(l, listen_fd, w) == LB_ACCEPT_BATCH; )
		taken += LB_ACCEPT_BATCH;
	loop_del_fd(l, listen_fd);
	if (atomic_fetch_add(&st->released, 1) + 1 == st->workers)
		close(listen_fd);
}

static void begin_stop(struct loop *l, void *ctx)
{
	struct lb_worker *w = ctx;

	if (w->stopping)
		return;
	w->stopping = true;
	lb_stop_release(w->cfg.stop, l, w->cfg.listen_fd, accept_batch, w);
	if (w->conns == NULL)
		loop_stop(l);
}

void lb_worker_stop(struct lb_worker *w)
{
	(void)loop_post(w->loop, begin_stop, w);	/* else the next sweep */
}

/* Connect timeouts, drains past their deadline, and the stop. */
static int64_t sweep(struct loop *l, void *ctx)
{
	struct lb_worker *w = ctx;
	int64_t now = loop_now_ms(l);
	struct pconn *pc, *next;

	if (!w->stopping && atomic_load(&w->cfg.stop->requested))
		begin_stop(l, w);
	if (w->ready != NULL)
		resume(l, w);		/* its post failed (out of memory) */
	for (pc = w->conns; pc != NULL; pc = next) {
		next = pc->next;
		if (!pc->connected && pc->connect_deadline_ms && now >= pc->connect_deadline_ms) {
			connect_failed(pc, now);
			continue;
		}
		if (pc->connected && pc->be != NULL) {
			int64_t since = atomic_load_explicit(&pc->be->ineligible_ms,
			    memory_order_relaxed);

			if (since != 0 && now - since >= w->cfg.drain_timeout_ms)
				pconn_close(pc, false);	/* drained as long as allowed */
		}
	}
	if (w->stopping && w->conns == NULL)
		loop_stop(l);
	return LB_SWEEP_MS;
}

struct lb_worker *lb_worker_new(const struct lb_proxy_cfg *cfg, struct err *e)
{
	struct lb_worker *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	w->cfg = *cfg;
	w->loop = loop_new(e);
	if (w->loop == NULL ||
	    loop_add_fd(w->loop, cfg->listen_fd, EPOLLIN | EPOLLEXCLUSIVE, accept_ready, w, e) == -1 ||
	    loop_add_timer(w->loop, LB_SWEEP_MS, sweep, w) == 0) {
		lb_worker_free(w);
		return NULL;
	}
	return w;
}

void *lb_worker_run(void *p)
{
	struct lb_worker *w = p;
	struct err e;

	if (loop_run(w->loop, &e) == -1)
		log_msg(LOG_ERROR, "worker loop failed", "error=%s", e.msg);
	return NULL;
}

struct loop *lb_worker_loop(struct lb_worker *w)
{
	return w->loop;
}

void lb_worker_free(struct lb_worker *w)
{
	if (w == NULL)
		return;
	while (w->conns != NULL)
		pconn_close(w->conns, false);
	while (w->spare != NULL) {
		struct pconn *pc = w->spare;

		w->spare = pc->next;
		free(pc);
	}
	if (w->loop && !w->stopping)
		loop_del_fd(w->loop, w->cfg.listen_fd);
	loop_free(w->loop);
	free(w);
}
