/* common/sigwatch.h: how the long-running commands (controller, lb) take
 * signals: blocked in every thread and read from a signalfd on the main
 * event loop. SIGTERM and SIGINT stop the loop; SIGHUP is logged and
 * ignored (restart to reload). Not here: what stopping means (the caller's
 * code after loop_run()). */
#ifndef POOLSCALE_SIGWATCH_H
#define POOLSCALE_SIGWATCH_H

#include "common/err.h"
#include "common/loop.h"

/* Call before creating threads (they inherit the blocked mask). stopping is
 * the log message when a stop signal comes, and must outlive the loop.
 * Returns the signalfd (give it to sigwatch_stop()), or -1. */
int sigwatch_start(struct loop *l, const char *stopping, struct err *e);
void sigwatch_stop(struct loop *l, int fd);

#endif
