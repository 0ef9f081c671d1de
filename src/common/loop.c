#include "common/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/clock.h"

#define LOOP_MAX_EVENTS 128

struct loop_fd {
	loop_fd_fn fn;
	void *ctx;
};

struct loop_timer {
	int64_t when_ms;
	uint64_t id;
	loop_timer_fn fn;
	void *ctx;
};

struct loop_post_item {
	loop_post_fn fn;
	void *ctx;
	struct loop_post_item *next;
};

struct loop {
	int epfd;
	int wakefd;			/* eventfd: loop_post() and loop_stop() */
	int64_t now_ms;
	atomic_bool stop;

	struct loop_fd *fds;		/* indexed by fd, like ae's events[] */
	int nfds;
	/* The batch being dispatched: loop_del_fd() voids events still in it
	 * for that fd, so a number reused within the batch (closed, then
	 * returned by accept or socket) never gets its old owner's events. */
	struct epoll_event *batch;
	int nbatch;

	struct loop_timer *timers;	/* binary min-heap on when_ms */
	size_t ntimers, cap_timers;
	uint64_t next_timer_id;

	pthread_mutex_t post_mu;
	struct loop_post_item *post_head, *post_tail;
};

static void wake_read(struct loop *l, int fd, uint32_t events, void *ctx);

struct loop *loop_new(struct err *e)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->epfd == -1 || l->wakefd == -1) {
		err_set(e, "epoll/eventfd: %s", strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&l->post_mu, NULL);
	l->now_ms = clock_mono_ms();
	if (loop_add_fd(l, l->wakefd, EPOLLIN, wake_read, NULL, e) == -1) {
		pthread_mutex_destroy(&l->post_mu);
		goto fail;
	}
	return l;
fail:
	if (l->epfd != -1)
		close(l->epfd);
	if (l->wakefd != -1)
		close(l->wakefd);
	free(l);
	return NULL;
}

void loop_free(struct loop *l)
{
	struct loop_post_item *it, *next;

	if (l == NULL)
		return;
	for (it = l->post_head; it != NULL; it = next) {
		next = it->next;
		free(it);
	}
	pthread_mutex_destroy(&l->post_mu);
	close(l->epfd);
	close(l->wakefd);
	free(l->fds);
	free(l->timers);
	free(l);
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ctx,
    struct err *e)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (fd >= l->nfds) {
		int n = l->nfds ? l->nfds : 64;
		struct loop_fd *p;

		while (n <= fd)
			n *= 2;
		p = realloc(l->fds, (size_t)n * sizeof(*p));
		if (p == NULL)
			return err_set(e, "out of memory");
		memset(p + l->nfds, 0, (size_t)(n - l->nfds) * sizeof(*p));
		l->fds = p;
		l->nfds = n;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return err_set(e, "epoll_ctl add fd %d: %s", fd, strerror(errno));
	l->fds[fd].fn = fn;
	l->fds[fd].ctx = ctx;
	return 0;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events, struct err *e)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == -1)
		return err_set(e, "epoll_ctl mod fd %d: %s", fd, strerror(errno));
	return 0;
}

static void forget_fd(struct loop *l, int fd)
{
	l->fds[fd].fn = NULL;
	l->fds[fd].ctx = NULL;
	for (int i = 0; i < l->nbatch; i++)
		if (l->batch[i].data.fd == fd)
			l->batch[i].data.fd = -1;
}

void loop_del_fd(struct loop *l, int fd)
{
	if (fd < 0 || fd >= l->nfds || l->fds[fd].fn == NULL)
		return;
	/* Fails only if fd is already closed, which removed it anyway. */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	forget_fd(l, fd);
}

void loop_close_fd(struct loop *l, int fd)
{
	if (fd < 0)
		return;
	if (fd < l->nfds && l->fds[fd].fn != NULL)
		forget_fd(l, fd);
	close(fd);
}

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_timer t = l->timers[a];

	l->timers[a] = l->timers[b];
	l->timers[b] = t;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (l->timers[parent].when_ms <= l->timers[i].when_ms)
			break;
		heap_swap(l, parent, i);
		i = parent;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t left = 2 * i + 1, right = left + 1, min = i;

		if (left < l->ntimers && l->timers[left].when_ms < l->timers[min].when_ms)
			min = left;
		if (right < l->ntimers && l->timers[right].when_ms < l->timers[min].when_ms)
			min = right;
		if (min == i)
			return;
		heap_swap(l, min, i);
		i = min;
	}
}

static void heap_remove(struct loop *l, size_t i)
{
	l->ntimers--;
	if (i == l->ntimers)
		return;
	l->timers[i] = l->timers[l->ntimers];
	heap_down(l, i);
	heap_up(l, i);
}

uint64_t loop_add_timer(struct loop *l, int64_t after_ms, loop_timer_fn fn, void *ctx)
{
	if (l->ntimers == l->cap_timers) {
		size_t n = l->cap_timers ? 2 * l->cap_timers : 8;
		struct loop_timer *p = realloc(l->timers, n * sizeof(*p));

		if (p == NULL)
			return 0;
		l->timers = p;
		l->cap_timers = n;
	}
	l->timers[l->ntimers] = (struct loop_timer){
		.when_ms = l->now_ms + (after_ms > 0 ? after_ms : 0),
		.id = ++l->next_timer_id,
		.fn = fn,
		.ctx = ctx,
	};
	heap_up(l, l->ntimers++);
	return l->next_timer_id;
}

void loop_cancel_timer(struct loop *l, uint64_t id)
{
	for (size_t i = 0; i < l->ntimers; i++) {
		if (l->timers[i].id == id) {
			heap_remove(l, i);
			return;
		}
	}
}

int loop_post(struct loop *l, loop_post_fn fn, void *ctx)
{
	struct loop_post_item *it = malloc(sizeof(*it));
	uint64_t one = 1;

	if (it == NULL)
		return -1;
	it->fn = fn;
	it->ctx = ctx;
	it->next = NULL;
	pthread_mutex_lock(&l->post_mu);
	if (l->post_tail)
		l->post_tail->next = it;
	else
		l->post_head = it;
	l->post_tail = it;
	pthread_mutex_unlock(&l->post_mu);
	/* The counter saturates only after 2^64-2 unread wakes: ignore. */
	(void)!write(l->wakefd, &one, sizeof(one));
	return 0;
}

void loop_stop(struct loop *l)
{
	uint64_t one = 1;

	atomic_store(&l->stop, true);
	(void)!write(l->wakefd, &one, sizeof(one));
}

static void wake_read(struct loop *l, int fd, uint32_t events, void *ctx)
{
	uint64_t n;

	(void)events;
	(void)ctx;
	(void)!read(fd, &n, sizeof(n));
	loop_flush_posts(l);
}

void loop_flush_posts(struct loop *l)
{
	struct loop_post_item *it;

	pthread_mutex_lock(&l->post_mu);
	it = l->post_head;
	l->post_head = l->post_tail = NULL;
	pthread_mutex_unlock(&l->post_mu);
	while (it != NULL) {
		struct loop_post_item *next = it->next;

		it->fn(l, it->ctx);
		free(it);
		it = next;
	}
}

static void run_timers(struct loop *l)
{
	while (l->ntimers > 0 && l->timers[0].when_ms <= l->now_ms) {
		struct loop_timer t = l->timers[0];
		int64_t next;

		next = t.fn(l, t.ctx);
		/* The callback may have added or cancelled timers: find t again. */
		for (size_t i = 0; i < l->ntimers; i++) {
			if (l->timers[i].id != t.id)
				continue;
			if (next == LOOP_TIMER_STOP) {
				heap_remove(l, i);
			} else {
				/* At least 1 ms, so a timer returning 0 cannot spin this loop. */
				l->timers[i].when_ms = l->now_ms + (next > 0 ? next : 1);
				heap_down(l, i);
				heap_up(l, i);
			}
			break;
		}
	}
}

int loop_run_once(struct loop *l, int max_wait_ms, struct err *e)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int timeout = max_wait_ms, n;

	if (l->ntimers > 0) {
		int64_t d = l->timers[0].when_ms - clock_mono_ms();
		int until_timer = d <= 0 ? 0 : (d > 60000 ? 60000 : (int)d);

		if (timeout < 0 || until_timer < timeout)
			timeout = until_timer;
	}
	n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, timeout);
	if (n == -1) {
		if (errno == EINTR)
			return 0;
		return err_set(e, "epoll_wait: %s", strerror(errno));
	}
	l->now_ms = clock_mono_ms();
	l->batch = evs;
	l->nbatch = n;
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;

		if (fd >= 0 && fd < l->nfds && l->fds[fd].fn != NULL)
			l->fds[fd].fn(l, fd, evs[i].events, l->fds[fd].ctx);
	}
	l->batch = NULL;
	l->nbatch = 0;
	run_timers(l);
	return 0;
}

int loop_run(struct loop *l, struct err *e)
{
	while (!atomic_load(&l->stop))
		if (loop_run_once(l, -1, e) == -1)
			return -1;
	return 0;
}

int64_t loop_now_ms(const struct loop *l)
{
	return l->now_ms;
}
