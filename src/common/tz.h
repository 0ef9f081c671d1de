/* common/tz.h: UTC offsets of IANA time zones ("Europe/Zurich"), from the
 * system's tz database through the C library (localtime_r under a TZ this
 * module sets). Not thread-safe: TZ is process state, so call it from one
 * thread (the controller's loop, the simulator); nothing else in poolscale
 * reads local time. Not here: cron and windows (common/cron.h,
 * policy/schedule.h), which get offsets through tz_offset_s. */
#ifndef POOLSCALE_TZ_H
#define POOLSCALE_TZ_H

#include <stdint.h>

#include "common/err.h"

#define TZ_NAME_MAX 64

/* 0 when name is "UTC" or a zone file in the tz database (TZDIR, else
 * /usr/share/zoneinfo), else -1 with e set. glibc falls back to UTC for an
 * unknown zone without a word: this is the check that it does not. */
int tz_check(const char *name, struct err *e);
/* The offset east of UTC, in seconds, of zone at unix_s (a sched_offset_fn:
 * ctx is unused). "" and "UTC" are 0 without touching TZ. */
long tz_offset_s(void *ctx, const char *zone, int64_t unix_s);
/* Puts TZ back as the process had it, so children started later (the
 * local provider's instances) inherit the environment unchanged. */
void tz_reset(void);

#endif
