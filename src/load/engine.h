/* load/engine.h: the open-loop HTTP/1.1 client. Requests leave at the times
 * the schedule (load/rate.h) gives, whatever the server does; latency counts
 * from that scheduled time, so a stalled server shows as latency instead of
 * as fewer requests (no coordinated omission). One thread, one epoll set,
 * nanosecond waits (epoll_pwait2), or a busy poll just before each send
 * when asked (a sleeping thread wakes ~50 us late). A request waits for a connection only
 * when --conns are all busy; that wait counts as latency too.
 * Not here: flags and printing (load/cmd.c), the histogram (load/hist.h). */
#ifndef POOLSCALE_ENGINE_H
#define POOLSCALE_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "load/hist.h"
#include "load/rate.h"
#include "load/url.h"

enum load_err {
	LOAD_ERR_CONNECT = 0,	/* connect failed */
	LOAD_ERR_TIMEOUT,	/* no whole response within the timeout */
	LOAD_ERR_IO,		/* reset, closed early, or a malformed response */
	LOAD_ERR_STATUS,	/* a response other than 2xx or 3xx */
	LOAD_ERR_UNSENT,	/* still waiting for a connection when the run ended */
	LOAD_ERR_N,
};

const char *load_err_name(enum load_err k);

struct load_cfg {
	struct load_url url;
	const struct load_rate *rate;	/* borrowed for the run */
	bool poisson;		/* exponential gaps instead of even ones */
	uint64_t seed;		/* for poisson */
	int64_t timeout_ms;	/* per request, from the moment it is due */
	unsigned max_conns;
	unsigned keepalive;	/* requests per connection; 0 no cap, 1 a new one each */
	int64_t spin_ns;	/* busy-poll this long before each send (0: sleep) */
};

/* One second of the run (the last one may be shorter). */
struct load_tick {
	double t_s;		/* end of the interval, from the start */
	double span_s;		/* its length */
	double due;		/* requests the schedule put in it */
	bool last;		/* the partial interval after the last whole second */
	uint64_t sent, ok, retried;
	uint64_t err[LOAD_ERR_N];
	struct hist lat;	/* latency of the ok responses completed in it */
};

struct load_result {
	double span_s;		/* from the start to the last send, at least the schedule's */
	uint64_t due, sent, ok, retried;
	uint64_t err[LOAD_ERR_N];
	uint64_t failed;	/* sum of err[] */
	struct hist lat;	/* ok responses, from the scheduled time */
	struct hist lag;	/* from the scheduled time to the request's write */
};

/* Called on the engine's thread at the end of every second. */
typedef void (*load_tick_fn)(const struct load_tick *t, void *ctx);

/* Runs the schedule to its end, then waits up to the timeout for answers.
 * stop (may be NULL) ends the schedule early, the same way: nothing more is
 * due, and what is out still has its timeout to answer. 0, or -1 when the engine itself cannot
 * run (epoll, memory), with e set; failed requests are results, not errors. */
int load_run(const struct load_cfg *cfg, load_tick_fn tick, void *ctx,
    const atomic_bool *stop, struct load_result *res, struct err *e);

#endif
