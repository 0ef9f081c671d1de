/* common/tz.h: UTC offsets of IANA time zones ("Europe/Zurich"), read from
 * the system's tz database (TZif files, RFC 8536; the Debian package tzdata)
 * by this module itself rather than through localtime_r and a TZ variable:
 * setting TZ is process-wide and races with threads that read the
 * environment (libcurl, fork/exec in the provider's thread). Loading does
 * the I/O, once, at start; tz_db_offset_s is then pure arithmetic on the
 * loaded table (transitions, then the file's POSIX TZ rule for later years)
 * and is a sched_offset_fn (policy/schedule.h).
 * Not here: cron and windows (common/cron.h, policy/schedule.h). */
#ifndef POOLSCALE_TZ_H
#define POOLSCALE_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define TZ_NAME_MAX 64
#define TZ_DB_MAX 16
#define TZ_FILE_MAX_BYTES (256 * 1024)	/* the largest zone file is ~4 KB */

/* A POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"): offsets east of UTC. */
struct tz_rule {
	int32_t std_off, dst_off;
	bool has_dst;
	/* Each change: kind 'J' (1..365, no Feb 29), 'D' (0..365) or 'M'
	 * (month, week 1..5 with 5 the last, weekday); at secs local time. */
	struct tz_change {
		char kind;
		int mon, week, day;
		int32_t secs;
	} start, end;
};

struct tz_zone {
	char name[TZ_NAME_MAX];
	size_t n;		/* transitions */
	int64_t *at;		/* unix s, ascending */
	int32_t *off;		/* offset from at[i] on */
	int32_t first_off;	/* before at[0] */
	bool has_rule;		/* after at[n-1] the rule decides */
	struct tz_rule rule;
};

struct tz_db {
	struct tz_zone z[TZ_DB_MAX];
	size_t n;
};

/* 0 when name is "UTC" (or "") or a TZif file in the tz database (TZDIR,
 * else /usr/share/zoneinfo), else -1 with e set. glibc would fall back to
 * UTC for an unknown name without a word: this says so. */
int tz_check(const char *name, struct err *e);
/* Loads zone name into db (a no-op when there, or for UTC). 0, or -1 with e. */
int tz_db_add(struct tz_db *db, const char *name, struct err *e);
void tz_db_fini(struct tz_db *db);
/* Seconds east of UTC in zone at unix_s; ctx is a struct tz_db holding the
 * zone (else UTC, 0). Pure. */
long tz_db_offset_s(void *ctx, const char *zone, int64_t unix_s);

/* The parts, for tests. Parses a TZif image / a POSIX TZ rule. */
int tz_zone_parse(const unsigned char *p, size_t len, struct tz_zone *z, struct err *e);
int tz_rule_parse(const char *s, struct tz_rule *r, struct err *e);
long tz_zone_offset_s(const struct tz_zone *z, int64_t unix_s);
void tz_zone_fini(struct tz_zone *z);

#endif
