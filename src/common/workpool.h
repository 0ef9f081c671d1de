/* common/workpool.h: a fixed set of worker threads for work that must not
 * run on an event loop (CPU burns now, blocking calls later). A job runs
 * fn(arg) on a worker, then done(loop, arg) on the loop that submitted it.
 * Not here: what the work is, or who frees arg (the submitter's done does). */
#ifndef POOLSCALE_WORKPOOL_H
#define POOLSCALE_WORKPOOL_H

#include <stddef.h>

#include "common/err.h"
#include "common/loop.h"

struct workpool;

typedef void (*workpool_fn)(void *arg);

struct workpool *workpool_new(unsigned nthreads, size_t max_queued, struct err *e);
/* Thread-safe. 0, or -1 when max_queued jobs already wait (the caller
 * answers "overloaded"). */
int workpool_submit(struct workpool *w, workpool_fn fn, struct loop *l,
    loop_post_fn done, void *arg);
/* Thread-safe: jobs waiting plus running. */
size_t workpool_busy(struct workpool *w);
/* Joins the workers after the jobs already queued have run. */
void workpool_free(struct workpool *w);

#endif
