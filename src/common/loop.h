/* common/loop.h: one event loop per thread, shaped like Redis `ae`:
 * level-triggered epoll with fd callbacks, timers in a min-heap that return
 * their next interval, and loop_post() for other threads to hand work in.
 * Everything but loop_post() and loop_stop() is called on the loop's own
 * thread. Not here: sockets and protocols (their modules own those). */
#ifndef POOLSCALE_LOOP_H
#define POOLSCALE_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

#include "common/err.h"

struct loop;

typedef void (*loop_fd_fn)(struct loop *l, int fd, uint32_t events, void *ctx);
/* Returns the delay to the next call in ms, or LOOP_TIMER_STOP. */
typedef int64_t (*loop_timer_fn)(struct loop *l, void *ctx);
typedef void (*loop_post_fn)(struct loop *l, void *ctx);

#define LOOP_TIMER_STOP (-1)

struct loop *loop_new(struct err *e);
/* Frees the loop; fds registered on it are not closed (their owners do). */
void loop_free(struct loop *l);

/* events: EPOLLIN, EPOLLOUT, ... (EPOLLEXCLUSIVE for listeners shared by
 * loops). One registration per fd. */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ctx,
    struct err *e);
int loop_mod_fd(struct loop *l, int fd, uint32_t events, struct err *e);
/* Forgets fd; events already fetched for it in this iteration are dropped. */
void loop_del_fd(struct loop *l, int fd);
/* Forgets fd and closes it, without the EPOLL_CTL_DEL: closing the last
 * descriptor of a socket takes it out of the epoll set by itself. Only
 * for descriptors no other process holds (a process that forks while fd
 * is open must use loop_del_fd and close). */
void loop_close_fd(struct loop *l, int fd);

/* Returns a timer id (> 0) or 0 when out of memory. */
uint64_t loop_add_timer(struct loop *l, int64_t after_ms, loop_timer_fn fn, void *ctx);
/* O(number of timers): loops here hold a handful, not one per connection. */
void loop_cancel_timer(struct loop *l, uint64_t id);

/* Thread-safe: fn(l, ctx) runs on the loop's thread at its next iteration.
 * 0, or -1 when out of memory. */
int loop_post(struct loop *l, loop_post_fn fn, void *ctx);
/* Runs every posted callback now, on the calling thread; for shutdown, after
 * the threads that post have been joined, so none is left unrun. */
void loop_flush_posts(struct loop *l);
/* Thread-safe: loop_run() returns after the current iteration. */
void loop_stop(struct loop *l);

/* Runs until loop_stop(). 0, or -1 when epoll itself fails. */
int loop_run(struct loop *l, struct err *e);
/* One iteration: waits for events at most max_wait_ms (-1: until one, or the
 * next timer), runs their callbacks and the timers due. For tests that must
 * interleave their own steps with the loop's. 0, or -1 when epoll fails. */
int loop_run_once(struct loop *l, int max_wait_ms, struct err *e);
/* CLOCK_MONOTONIC read once per iteration. */
int64_t loop_now_ms(const struct loop *l);

#endif
