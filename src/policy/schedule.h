/* policy/schedule.h: scheduled scaling, as AWS scheduled actions and KEDA's
 * cron scaler do it: windows that open at each match of a cron expression in
 * a time zone and last a duration (or until an end expression matches);
 * while open they replace the config's min and/or max. Pure: the zone's UTC
 * offset comes from the caller (struct sched_clock; common/tz.h has the
 * real one), so tests can fake a zone and nothing here reads the clock.
 * Daylight saving follows cronie's cron(8): a fixed-time start (neither the
 * minute nor the hour field starts with '*') that falls in a skipped hour
 * happens right after the jump, and one in a repeated hour happens once, the
 * first time; wildcard starts follow the clock as it reads.
 * Not here: parsing cron text (common/cron.h), config keys (controller/
 * config_schedule.c), logging transitions (the callers). */
#ifndef POOLSCALE_POLICY_SCHEDULE_H
#define POOLSCALE_POLICY_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cron.h"

#define SCHED_MAX 16
#define SCHED_NAME_MAX 48
#define SCHED_ZONE_MAX 64
/* How far back a start is looked for: the longest window. */
#define SCHED_LOOKBACK_S (31 * 86400LL)
#define SCHED_NONE INT64_MIN

struct sched_entry {
	char name[SCHED_NAME_MAX];
	struct cron start;
	bool has_end;
	struct cron end;		/* has_end: the window closes at its next match */
	int64_t duration_s;		/* else: it lasts this long from each start */
	int min, max;			/* -1: not set, the config's stays */
	char zone[SCHED_ZONE_MAX];	/* IANA name; "" is UTC */
};

/* Seconds east of UTC in zone at unix_s. */
typedef long (*sched_offset_fn)(void *ctx, const char *zone, int64_t unix_s);

struct sched_clock {
	sched_offset_fn offset;
	void *ctx;
};

/* What one entry has seen, so each call scans only the minutes since the
 * last (a wall clock that goes back starts over). Zeroed: nothing seen. */
struct sched_memo {
	bool valid;
	int64_t scanned_s;		/* minutes up to here are scanned */
	int64_t last_start_s, last_end_s;	/* SCHED_NONE: none in the lookback */
};

struct sched_state {
	struct sched_memo memo[SCHED_MAX];
};

struct sched_bounds {
	int min, max;			/* in force at the time asked */
	uint32_t active;		/* bit i: entry i's window is open */
	int64_t since_s[SCHED_MAX];	/* an open window's latest start */
};

/* The latest start of c in zone within (lo_s, hi_s] (hi_s on a minute),
 * or SCHED_NONE. */
int64_t sched_latest_start(const struct cron *c, const char *zone,
    const struct sched_clock *clk, int64_t lo_s, int64_t hi_s);
/* Whether entry e's window is open at unix_s; memo may be NULL (no memory).
 * *since_s (may be NULL) gets the start of the open window. */
bool sched_entry_active(const struct sched_entry *e, struct sched_memo *memo, int64_t unix_s,
    const struct sched_clock *clk, int64_t *since_s);
/* The bounds at unix_s: for each of min and max, the largest among the
 * open windows that set it, else the config's; when that leaves min above
 * max (one window raises the floor, another lowers the ceiling) max is
 * raised to min, so no window's floor is broken. */
void sched_bounds(const struct sched_entry *v, size_t n, struct sched_state *st,
    int64_t unix_s, const struct sched_clock *clk, int cfg_min, int cfg_max,
    struct sched_bounds *out);

#endif
