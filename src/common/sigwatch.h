/* common/sigwatch.h: how the long-running commands (controller, lb) take
 * signals: blocked in every thread and read from a signalfd on the main
 * event loop. SIGTERM and SIGINT stop the loop (or call the caller's hook);
 * SIGHUP is logged and ignored (restart to reload). Not here: what
 * stopping means (the caller's code after loop_run(), or its hook). */
#ifndef POOLSCALE_SIGWATCH_H
#define POOLSCALE_SIGWATCH_H

#include "common/err.h"
#include "common/loop.h"

/* Call before creating threads (they inherit the blocked mask). stopping is
 * the log message when a stop signal comes, and must outlive the loop.
 * Returns the signalfd (give it to sigwatch_stop()), or -1. */
int sigwatch_start(struct loop *l, const char *stopping, struct err *e);

/* For a stop that takes a while with the loop still running: each SIGTERM
 * or SIGINT calls on_stop(ctx, n), n = 1 for the first, 2 for the next...;
 * the hook stops the loop when it is done. The caller owns h (it must
 * outlive the loop) and sets on_stop, ctx and stopping (the log message). */
struct sigwatch_hook {
	void (*on_stop)(void *ctx, int n);
	void *ctx;
	const char *stopping;
	int n;
};
int sigwatch_start_hook(struct loop *l, struct sigwatch_hook *h, struct err *e);
void sigwatch_stop(struct loop *l, int fd);

#endif
