/* lb/proxy.h: one worker of the balancer (TCP mode): an event loop that
 * accepts from the shared listener and relays bytes between each client and
 * the backend picked for it, edge-triggered, with backpressure (a full
 * buffer stops reading the other side), half-close, a connect timeout,
 * retry on the next backend when connecting failed (nothing was sent yet,
 * so the client never knows), and draining: a connection to a backend that
 * left the set or went down may go on for drain_timeout, then it is closed.
 * Also what both modes share: the counters, the configs, and the stop on
 * SIGTERM (struct lb_stop, lb_stop_release). Not here: which backends exist
 * (lb/pool.h), the HTTP mode's worker (lb/hproxy.h), when the stop gives up
 * (lb/main.c). */
#ifndef POOLSCALE_LB_PROXY_H
#define POOLSCALE_LB_PROXY_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/loop.h"
#include "lb/pool.h"

struct lb_counters {
	atomic_uint_fast64_t accepted;	/* connections taken */
	atomic_uint_fast64_t refused;	/* closed at once: no healthy backend or max-conns */
	atomic_uint_fast64_t failed;	/* closed with an error after a backend was chosen */
	atomic_int open;		/* client connections open, all workers */
	/* HTTP mode: every request the listener answered or dropped, by the
	 * status the client got (0: none, the connection broke), requests in
	 * flight, and requests sent again after a backend failed. */
	struct lb_req_stats req;
	atomic_int in_flight;
	atomic_int held;		/* waiting for a healthy backend (--hold-when-empty) */
	atomic_uint_fast64_t held_total;
};

/* The stop on SIGTERM: the main thread sets requested; each worker then
 * accepts what the listener queued, lets go of it (the last of the workers
 * closes it, so new clients are refused, not queued), and ends its loop
 * when nothing is open. TCP mode lets its connections run until a side
 * closes them; HTTP mode closes idle keep-alive and answers what is in
 * flight with Connection: close when its head is still to be written. */
struct lb_stop {
	atomic_bool requested;
	atomic_int released;
	int workers;			/* set before the workers start */
};

/* Connections a worker takes per wakeup of the listener, and the
 * listener's backlog. */
#define LB_ACCEPT_BATCH 32
#define LB_BACKLOG 4096

/* A worker's release of the listener (above). accept_batch accepts at most
 * LB_ACCEPT_BATCH and returns how many it took: it is called until the
 * queue is empty, since what stays queued is reset when the listener
 * closes, but for one backlog at most (a flood of new connections would
 * keep it accepting, serving nothing, and deaf to the drain timeout). */
void lb_stop_release(struct lb_stop *st, struct loop *l, int listen_fd,
    int (*accept_batch)(struct loop *l, int fd, void *w), void *w);

/* HTTP mode limits and timeouts. */
struct lb_http_cfg {
	size_t max_head_bytes;		/* request head: 431 (414 for the line) above */
	uint64_t max_body_bytes;	/* request body: 413 above; 0 no limit */
	int64_t request_timeout_ms;	/* a head must arrive within this: 408 */
	int64_t idle_timeout_ms;	/* client keep-alive between requests */
	int64_t client_timeout_ms;	/* client stalls sending a body or reading: close */
	int64_t server_timeout_ms;	/* backend silent that long: 504 */
	int64_t pool_idle_timeout_ms;	/* pooled backend connection unused: closed */
	/* Scale from zero: while no backend is healthy, hold up to hold_max
	 * requests for at most hold_ms (0: answer 503 at once). */
	int64_t hold_ms;
	int hold_max;
};

struct lb_proxy_cfg {
	struct lb_pool *pool;
	struct lb_counters *counters;
	int listen_fd;
	int max_conns;			/* all workers together */
	int64_t connect_timeout_ms;
	int64_t drain_timeout_ms;
	struct lb_http_cfg http;
	struct lb_stop *stop;
};

struct lb_worker;

struct lb_worker *lb_worker_new(const struct lb_proxy_cfg *cfg, struct err *e);
/* Runs the loop until loop_stop(lb_worker_loop(w)), or until nothing is
 * open after the stop. */
void *lb_worker_run(void *w);
/* Thread-safe: the worker starts its part of the stop now (cfg.stop's
 * requested is set first), not at its next sweep. */
void lb_worker_stop(struct lb_worker *w);
struct loop *lb_worker_loop(struct lb_worker *w);
/* Closes its connections and frees it; after the loop stopped. */
void lb_worker_free(struct lb_worker *w);

#endif
