/* load/rate.h: the offered load as a function of time, in requests per
 * second: constant (--rate), piecewise-linear (--profile "T:R,T:R,..."), or
 * piecewise-constant from a trace (--trace, scaled in time and rate); and
 * the inverse of its integral, which gives the n-th request's send time.
 * Pure: no clock, no I/O. Not here: sending (load/engine.h). */
#ifndef POOLSCALE_RATE_H
#define POOLSCALE_RATE_H

#include <stddef.h>

#include "common/err.h"
#include "load/trace.h"

#define RATE_MAX_RPS 10000000.0

/* Rate goes linearly from r0 at t0 to r1 at t1 (seconds from the start);
 * n0 requests are due before t0. */
struct rate_seg {
	double t0, t1, r0, r1, n0;
};

struct load_rate {
	struct rate_seg *segs;
	size_t nsegs;
	double end_s;		/* the schedule's span */
	double total;		/* requests due over it */
};

/* duration_s > 0 in each. */
int load_rate_constant(struct load_rate *r, double rps, double duration_s, struct err *e);
/* "T:R,T:R,...", T in seconds (non-decreasing; an equal T makes a step), R
 * in req/s; linear between points, R of the first point before it. The span
 * is duration_s, or the last T when duration_s is 0 (after the last point its
 * R holds). */
int load_rate_profile(struct load_rate *r, const char *spec, double duration_s,
    struct err *e);
/* Trace row i lasts step/time_scale seconds at requests/step * rate_scale
 * req/s. The span is duration_s, or the whole trace when 0 (nothing is due
 * after its end). */
int load_rate_trace(struct load_rate *r, const struct trace *t, double time_scale,
    double rate_scale, double duration_s, struct err *e);
void load_rate_fini(struct load_rate *r);

/* The rate at t (0 outside [0, end_s)). */
double load_rate_at(const struct load_rate *r, double t);
/* Requests due in [0, t). */
double load_rate_count(const struct load_rate *r, double t);
/* The time at which the count due reaches n, or -1 when n >= total.
 * *seg is a cursor (start at 0): calls with growing n cost O(1) amortised. */
double load_rate_time_of(const struct load_rate *r, double n, size_t *seg);

#endif
