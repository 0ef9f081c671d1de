/* lb/metrics.h: the balancer's /metrics page: listener and per-backend
 * counters of both modes, the HTTP mode's request metrics (status classes,
 * duration histograms, in flight, retries, held), and the process's own.
 * Not here: serving it (lb/main.c), counting (lb/pool.h, lb/proxy.h). */
#ifndef POOLSCALE_LB_METRICS_H
#define POOLSCALE_LB_METRICS_H

#include <stdbool.h>

#include "common/buf.h"
#include "lb/proxy.h"

struct lb_metrics_src {
	struct lb_pool *pool;
	struct lb_counters *counters;
	bool http;			/* --mode http: add the request metrics */
	double start_unix_s;
};

/* Appends the page; takes the pool's mutex while it reads the backends. */
void lb_metrics_render(const struct lb_metrics_src *m, struct buf *b);

#endif
