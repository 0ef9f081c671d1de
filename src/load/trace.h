/* load/trace.h: reads a load trace in the format of ../shared/traces/:
 * a `t_seconds,requests` header, then one row per fixed step, t from 0 up
 * by that step with no gaps, `requests` the count that arrived in
 * [t, t + step). Strict: anything else is "FILE:LINE: message".
 * Not here: what the counts become (load/rate.h, the simulator). */
#ifndef POOLSCALE_TRACE_H
#define POOLSCALE_TRACE_H

#include <stddef.h>

#include "common/err.h"

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
