/* common/logonce.h: a failure that repeats (a full disk, a lost peer) is
 * logged once per cause, and once more when it stops, so a loop retrying
 * every 250 ms does not fill the log. Not here: counting the failures (the
 * caller's metrics). */
#ifndef POOLSCALE_LOGONCE_H
#define POOLSCALE_LOGONCE_H

#include <stdbool.h>

#include "common/log.h"

struct log_once {
	char cause[192];	/* the last cause logged; empty: working */
};

/* Logs `msg error=cause` at lvl unless cause is the one last logged;
 * returns whether it logged. */
bool log_once_fail(struct log_once *o, enum log_level lvl, const char *msg, const char *cause);
/* Logs `msg after=cause` (info) when a failure was logged, and forgets it. */
void log_once_ok(struct log_once *o, const char *msg);

#endif
