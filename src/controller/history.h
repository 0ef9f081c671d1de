/* controller/history.h: the pool's recent course, one point per interval
 * (desired, ready, the first metric and the measured need), in a ring of
 * fixed size for GET /api/v1/history and the status page's chart. The ring
 * holds about an hour and never grows. Not here: what the points mean
 * (controller/controller.c records them), the page (controller/statuspage.c). */
#ifndef POOLSCALE_HISTORY_H
#define POOLSCALE_HISTORY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The most points a ring holds, whatever the interval. */
#define HISTORY_MAX_POINTS 3600

struct history_point {
	int64_t unix_ms;
	int desired;
	int ready;		/* members RUNNING */
	double metric;		/* the first metric's value (mean or total) in the last
				 * target decision; NaN: none */
	double need;		/* its measured need in instances; NaN: none */
};

struct history {
	struct history_point *v;
	size_t cap, n, next;	/* next: where the following point goes */
};

/* Points for an hour at one per interval_ms, within [2, HISTORY_MAX_POINTS]. */
size_t history_cap_for(int64_t interval_ms);
int history_init(struct history *h, size_t cap);
void history_fini(struct history *h);
/* Adds p, dropping the oldest point when the ring is full. */
void history_add(struct history *h, const struct history_point *p);
/* {"interval_s", "capacity", "points": [{"time", "desired", "ready",
 * "metric", "need"}, ...]} oldest first, only points after since_unix_ms;
 * the caller owns the reference. */
json_t *history_json(const struct history *h, int64_t since_unix_ms, int64_t interval_ms);

#endif
