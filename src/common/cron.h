/* common/cron.h: five-field cron expressions ("M H DoM Mon DoW") as cronie
 * and Vixie cron read them: *, lists, ranges, steps, month and weekday names
 * (jan..dec, sun..sat; 7 is Sunday too) and the @hourly..@yearly macros.
 * When both day fields are restricted (neither starts with '*'), a day
 * matches if either does (crontab(5)). Pure: parsing and matching of local
 * clock fields; what time it is where, and windows, are policy/schedule.h. */
#ifndef POOLSCALE_CRON_H
#define POOLSCALE_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct cron {
	uint64_t minute;	/* bit m: minute m (0..59) */
	uint32_t hour;		/* bit h: 0..23 */
	uint32_t dom;		/* bit d: 1..31 */
	uint16_t month;		/* bit m: 1..12 */
	uint8_t dow;		/* bit d: 0..6, Sunday 0 */
	bool dom_star, dow_star;	/* the field starts with '*' */
	bool min_star, hour_star;	/* ... ; either: a "wildcard" job (DST, schedule.h) */
};

/* A local wall-clock minute, broken down. */
struct cron_tm {
	int year, mon, mday;	/* mon 1..12 */
	int hour, min;
	int wday;		/* 0..6, Sunday 0 */
};

/* 0, or -1 with e naming the field and the cause ("hour: 25 is outside
 * 0-23"). */
int cron_parse(const char *text, struct cron *out, struct err *e);
/* Whether the minute tm matches; cron_match_hour ignores the minute field. */
bool cron_match(const struct cron *c, const struct cron_tm *tm);
bool cron_match_hour(const struct cron *c, const struct cron_tm *tm);
/* Fixed-time jobs (neither minute nor hour starts with '*') get cron's DST
 * care: a start skipped by a jump forward happens right after it, a local
 * time that repeats starts once (cronie's cron(8)). */
bool cron_is_fixed_time(const struct cron *c);
/* The fields of "local seconds": unix_s + the zone's UTC offset. */
void cron_tm_of(int64_t local_s, struct cron_tm *out);

#endif
