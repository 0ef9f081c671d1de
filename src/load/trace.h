/* load/trace.h: reads a load trace in the format of ../shared/traces/:
 * a `t_seconds,requests` header, then one row per fixed step, t from 0 up
 * by that step with no gaps, `requests` the count that arrived in
 * [t, t + step). Strict: numbers are plain decimals (no exponent, hex or
 * sign but '-'), and anything else, or a limit below passed, is
 * "FILE:LINE: message" ("FILE: message" for the whole file).
 * Not here: what the counts become (load/rate.h, the simulator). */
#ifndef POOLSCALE_TRACE_H
#define POOLSCALE_TRACE_H

#include <stddef.h>

#include "common/err.h"

/* Limits, so that a mistaken file fails at once instead of running for
 * minutes: the shared traces span up to 31 days in up to 40,000 rows. */
#define TRACE_MAX_BYTES (64u << 20)
#define TRACE_ROWS_MAX 1000000
#define TRACE_SPAN_MAX_S (366 * 86400)		/* the last row's end */
#define TRACE_STEP_MIN_S 0.001			/* the simulator's clock ticks in ms */

struct trace {
	double step_s;		/* the fixed step; 1 for a one-row trace */
	size_t n;
	double *requests;	/* n counts, row i covers [i*step, (i+1)*step) */
};

/* 0, or -1 with "PATH:LINE: message" (or "PATH: message") in e. */
int trace_read(const char *path, struct trace *t, struct err *e);
/* Same, from text in memory; name stands for the path in messages. */
int trace_parse(const char *text, size_t len, const char *name, struct trace *t,
    struct err *e);
void trace_fini(struct trace *t);

#endif
