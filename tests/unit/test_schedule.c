/* Cron parsing, window membership in real time zones across both daylight
 * saving changes (Europe/Zurich, America/New_York), overlapping windows,
 * and the memo giving the same answers as a fresh scan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cron.h"
#include "common/tz.h"
#include "policy/schedule.h"

static struct tz_db db;
static const struct sched_clock real = { tz_db_offset_s, &db };

static int load_zones(void **state)
{
	struct err e;

	(void)state;
	if (tz_db_add(&db, "Europe/Zurich", &e) == -1 ||
	    tz_db_add(&db, "America/New_York", &e) == -1) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	return 0;
}

static int free_zones(void **state)
{
	(void)state;
	tz_db_fini(&db);
	return 0;
}

/* 2026-01-05T00:00:00Z, a Monday. */
#define MON_2026_01_05 1767571200LL
#define H 3600LL
#define D 86400LL

static struct cron parse_ok(const char *s)
{
	struct cron c;
	struct err e = { "" };

	if (cron_parse(s, &c, &e) != 0)
		fail_msg("cron_parse(\"%s\"): %s", s, e.msg);
	return c;
}

static void parse_bad(const char *s, const char *want)
{
	struct cron c;
	struct err e = { "" };

	assert_int_equal(cron_parse(s, &c, &e), -1);
	if (strstr(e.msg, want) == NULL)
		fail_msg("cron_parse(\"%s\"): \"%s\" lacks \"%s\"", s, e.msg, want);
}

static void test_cron_fields(void **state)
{
	struct cron c;

	(void)state;
	c = parse_ok("*/15 9-17 * * *");
	assert_true(c.minute == (1ULL << 0 | 1ULL << 15 | 1ULL << 30 | 1ULL << 45));
	assert_int_equal(c.hour, 0x3fe00);	/* 9..17 */
	assert_true(c.min_star && !c.hour_star && c.dom_star && c.dow_star);
	c = parse_ok("0,30 8,12-14/2 1,15 jan-mar,Dec mon-fri");
	assert_true(c.minute == (1ULL | 1ULL << 30));
	assert_int_equal(c.hour, 1 << 8 | 1 << 12 | 1 << 14);
	assert_int_equal(c.dom, 1 << 1 | 1 << 15);
	assert_int_equal(c.month, 1 << 1 | 1 << 2 | 1 << 3 | 1 << 12);
	assert_int_equal(c.dow, 0x3e);
	assert_true(cron_is_fixed_time(&c));
	c = parse_ok("5/20 * * * 7");		/* N/STEP runs to the end; 7 is Sunday */
	assert_true(c.minute == (1ULL << 5 | 1ULL << 25 | 1ULL << 45));
	assert_int_equal(c.dow, 1);
	c = parse_ok("0 0 * * sun,SAT");
	assert_int_equal(c.dow, 1 | 1 << 6);
	c = parse_ok("  @daily");
	assert_true(c.minute == 1 && c.hour == 1 && cron_is_fixed_time(&c));
	c = parse_ok("@hourly");
	assert_false(cron_is_fixed_time(&c));
	c = parse_ok("0 12 * * 1-5/2");
	assert_int_equal(c.dow, 1 << 1 | 1 << 3 | 1 << 5);
}

static void test_cron_errors(void **state)
{
	(void)state;
	parse_bad("0 9 * *", "4 fields, expected 5");
	parse_bad("0 0 9 * * *", "more than 5 fields");
	parse_bad("60 * * * *", "minute: 60 is outside 0-59");
	parse_bad("0 24 * * *", "hour: 24 is outside 0-23");
	parse_bad("0 0 0 * *", "day of month: 0 is outside 1-31");
	parse_bad("0 0 * 13 *", "month: 13 is outside 1-12");
	parse_bad("0 0 * * 8", "day of week: 8 is outside 0-7");
	parse_bad("0 17-9 * * *", "range 17-9 runs backwards");
	parse_bad("*/0 * * * *", "step 0 is outside 1-60");
	parse_bad("*/ * * * *", "needs a step");
	parse_bad("0 0 * foo *", "month: \"foo\" is not a number or a name");
	parse_bad("0 0 * * monday", "day of week: \"monday\"");
	parse_bad("x 0 * * *", "minute: \"x\" is not a number");
	parse_bad("1,,2 0 * * *", "empty list item");
	parse_bad("1- 0 * * *", "minute");
	parse_bad("@sometimes", "is not @hourly");
	parse_bad("", "0 fields");
}

static void test_cron_match_days(void **state)
{
	struct cron_tm tm;
	struct cron c;

	(void)state;
	cron_tm_of(1774746000, &tm);	/* 2026-03-29T01:00:00Z, a Sunday */
	assert_int_equal(tm.year, 2026);
	assert_int_equal(tm.mon, 3);
	assert_int_equal(tm.mday, 29);
	assert_int_equal(tm.hour, 1);
	assert_int_equal(tm.wday, 0);
	cron_tm_of(-1, &tm);		/* 1969-12-31T23:59, a Wednesday */
	assert_int_equal(tm.year, 1969);
	assert_int_equal(tm.min, 59);
	assert_int_equal(tm.wday, 3);
	/* Both day fields restricted: either matches (crontab(5)). */
	c = parse_ok("0 0 1 * mon");
	cron_tm_of(MON_2026_01_05, &tm);	/* Monday the 5th */
	assert_true(cron_match(&c, &tm));
	cron_tm_of(MON_2026_01_05 - 4 * D, &tm);	/* Thursday the 1st */
	assert_true(cron_match(&c, &tm));
	cron_tm_of(MON_2026_01_05 + D, &tm);	/* Tuesday the 6th */
	assert_false(cron_match(&c, &tm));
	/* One of them '*': the other alone decides. */
	c = parse_ok("0 0 */1 * mon");
	cron_tm_of(MON_2026_01_05 - 4 * D, &tm);
	assert_false(cron_match(&c, &tm));
}

static struct sched_entry entry(const char *name, const char *start, int64_t dur_s,
    const char *zone, int min, int max)
{
	struct sched_entry e = { .duration_s = dur_s, .min = min, .max = max };

	snprintf(e.name, sizeof(e.name), "%s", name);
	snprintf(e.zone, sizeof(e.zone), "%s", zone);
	e.start = parse_ok(start);
	return e;
}

static bool active(const struct sched_entry *e, int64_t t)
{
	return sched_entry_active(e, NULL, t, &real, NULL);
}

static void test_window_weekdays_zurich(void **state)
{
	/* 09:00-17:00 Zurich time (UTC+1 in January) on weekdays. */
	struct sched_entry e = entry("office", "0 9 * * mon-fri", 8 * H, "Europe/Zurich", 4, -1);
	int64_t since = 0;

	(void)state;
	assert_false(active(&e, MON_2026_01_05 + 8 * H - 1));
	assert_true(sched_entry_active(&e, NULL, MON_2026_01_05 + 8 * H, &real, &since));
	assert_int_equal(since, MON_2026_01_05 + 8 * H);
	assert_true(active(&e, MON_2026_01_05 + 16 * H - 1));
	assert_false(active(&e, MON_2026_01_05 + 16 * H));
	assert_true(active(&e, MON_2026_01_05 + 4 * D + 12 * H));	/* Friday */
	assert_false(active(&e, MON_2026_01_05 + 5 * D + 12 * H));	/* Saturday */
	/* UTC, the default zone: an hour later in UTC terms. */
	e.zone[0] = '\0';
	assert_false(active(&e, MON_2026_01_05 + 8 * H + 30 * 60));
	assert_true(active(&e, MON_2026_01_05 + 9 * H));
}

/* 2026-03-29: Zurich goes from 02:00 CET to 03:00 CEST at 01:00Z;
 * 2026-10-25: from 03:00 CEST back to 02:00 CET at 01:00Z, so 02:00-02:59
 * happens at 00:xxZ and again at 01:xxZ. */
#define ZRH_SPRING 1774746000LL		/* 2026-03-29T01:00:00Z */
#define ZRH_FALL 1792890000LL		/* 2026-10-25T01:00:00Z */

static void test_dst_zurich(void **state)
{
	struct sched_entry fixed = entry("f", "30 2 * * *", 20 * 60, "Europe/Zurich", 3, -1);
	struct sched_entry wild = entry("w", "30 * * * *", 20 * 60, "Europe/Zurich", 3, -1);
	struct sched_entry three = entry("t", "30 3 * * *", 20 * 60, "Europe/Zurich", 3, -1);
	int64_t since = 0;

	(void)state;
	/* Spring: 02:30 never shows. The fixed-time start happens right
	 * after the jump, at 03:00 CEST (01:00Z); the wildcard one does not. */
	assert_int_equal(sched_latest_start(&fixed.start, fixed.zone, &real, ZRH_SPRING - D,
	    ZRH_SPRING + 10 * 60), ZRH_SPRING);
	assert_false(active(&fixed, ZRH_SPRING - 1));
	assert_true(active(&fixed, ZRH_SPRING));
	assert_true(active(&fixed, ZRH_SPRING + 19 * 60));
	assert_false(active(&fixed, ZRH_SPRING + 20 * 60));
	assert_false(active(&wild, ZRH_SPRING + 5 * 60));
	assert_true(sched_entry_active(&wild, NULL, ZRH_SPRING + 35 * 60, &real, &since));
	assert_int_equal(since, ZRH_SPRING + 30 * 60);	/* 03:30 CEST */
	/* 03:30 is not doubled by the made-up 02:30. */
	assert_true(active(&three, ZRH_SPRING + 35 * 60));
	assert_false(active(&three, ZRH_SPRING + 5 * 60));
	/* The day before and after: 02:30 local as usual (CET, CEST). */
	assert_true(active(&fixed, ZRH_SPRING - D + 30 * 60 + 60));
	assert_true(active(&fixed, ZRH_SPRING + D - H + 30 * 60 + 60));

	/* Fall: 02:30 shows twice. The fixed-time start happens once, the
	 * first time (00:30Z); the wildcard one both times. */
	assert_true(active(&fixed, ZRH_FALL - 30 * 60 + 60));
	assert_false(active(&fixed, ZRH_FALL + 30 * 60 + 60));
	assert_true(active(&wild, ZRH_FALL - 30 * 60 + 60));
	assert_true(active(&wild, ZRH_FALL + 30 * 60 + 60));
	/* 03:30 (CET only) once, at 02:30Z. */
	assert_false(active(&three, ZRH_FALL - 30 * 60 + 60));
	assert_true(active(&three, ZRH_FALL + 90 * 60 + 60));
}

/* New York 2026: 02:00 EST -> 03:00 EDT on 03-08 at 07:00Z; 02:00 EDT ->
 * 01:00 EST on 11-01 at 06:00Z (01:xx twice: 05:xxZ and 06:xxZ). */
#define NY_SPRING 1772953200LL		/* 2026-03-08T07:00:00Z */
#define NY_FALL 1793512800LL		/* 2026-11-01T06:00:00Z */

static void test_dst_new_york(void **state)
{
	struct sched_entry spring = entry("s", "15 2 8 3 *", 10 * 60, "America/New_York", 2, -1);
	struct sched_entry fall = entry("f", "30 1 * * sun", 20 * 60, "America/New_York", 2, -1);
	struct sched_entry end = entry("e", "0 1 * * *", 0, "America/New_York", 2, -1);

	(void)state;
	assert_false(active(&spring, NY_SPRING - 1));
	assert_true(active(&spring, NY_SPRING));		/* 03:00 EDT: made up */
	assert_false(active(&spring, NY_SPRING + 10 * 60));
	assert_true(active(&fall, NY_FALL - 30 * 60 + 60));	/* 01:30 EDT */
	assert_false(active(&fall, NY_FALL + 30 * 60 + 60));	/* 01:30 EST again */
	/* With an end: 01:00 to 04:00 local, the 01:00 start the first time. */
	end.has_end = true;
	end.end = parse_ok("0 4 * * *");
	assert_false(active(&end, NY_FALL - H - 60));		/* 00:59 EDT */
	assert_true(active(&end, NY_FALL - H));			/* 01:00 EDT */
	assert_true(active(&end, NY_FALL + 30 * 60));		/* 01:30 EST */
	assert_true(active(&end, NY_FALL + 3 * H - 60));		/* 03:59 EST */
	assert_false(active(&end, NY_FALL + 3 * H));		/* 04:00 EST */
}

static void test_end_cron_weekend(void **state)
{
	struct sched_entry e = entry("weekend", "0 18 * * fri", 0, "Europe/Zurich", -1, 2);

	(void)state;
	e.has_end = true;
	e.end = parse_ok("0 6 * * mon");
	assert_false(active(&e, MON_2026_01_05 + 4 * D + 16 * H));	/* Fri 17:00 */
	assert_true(active(&e, MON_2026_01_05 + 4 * D + 17 * H));	/* Fri 18:00 */
	assert_true(active(&e, MON_2026_01_05 + 6 * D + 12 * H));	/* Sunday */
	assert_true(active(&e, MON_2026_01_05 + 7 * D + 5 * H - 60));	/* Mon 05:59 */
	assert_false(active(&e, MON_2026_01_05 + 7 * D + 5 * H));	/* Mon 06:00 */
	assert_false(active(&e, MON_2026_01_05 + 2 * D));		/* Wednesday */
}

static void test_overlap_bounds(void **state)
{
	struct sched_entry v[3] = {
		entry("a", "0 8 * * *", 10 * H, "", 4, 8),
		entry("b", "0 12 * * *", 2 * H, "", 6, -1),
		entry("c", "0 13 * * *", 2 * H, "", -1, 3),
	};
	struct sched_bounds b;

	(void)state;
	sched_bounds(v, 3, NULL, MON_2026_01_05 + 7 * H, &real, 1, 5, &b);
	assert_int_equal(b.active, 0);
	assert_int_equal(b.min, 1);
	assert_int_equal(b.max, 5);
	sched_bounds(v, 3, NULL, MON_2026_01_05 + 9 * H, &real, 1, 5, &b);
	assert_int_equal(b.active, 1);
	assert_int_equal(b.min, 4);
	assert_int_equal(b.max, 8);
	assert_int_equal(b.since_s[0], MON_2026_01_05 + 8 * H);
	sched_bounds(v, 3, NULL, MON_2026_01_05 + 12 * H, &real, 1, 5, &b);
	assert_int_equal(b.active, 3);
	assert_int_equal(b.min, 6);		/* the largest min */
	assert_int_equal(b.max, 8);		/* the largest max */
	sched_bounds(v, 3, NULL, MON_2026_01_05 + 13 * H + 30 * 60, &real, 1, 5, &b);
	assert_int_equal(b.active, 7);
	assert_int_equal(b.max, 8);
	sched_bounds(v, 3, NULL, MON_2026_01_05 + 14 * H + 30 * 60, &real, 1, 5, &b);
	assert_int_equal(b.active, 5);		/* a and c */
	assert_int_equal(b.min, 4);
	assert_int_equal(b.max, 8);
	/* Only c's max 3 under b's min 6: the floor wins, max is raised. */
	v[0].max = -1;
	v[0].min = -1;
	sched_bounds(v, 3, NULL, MON_2026_01_05 + 13 * H + 30 * 60, &real, 1, 5, &b);
	assert_int_equal(b.min, 6);
	assert_int_equal(b.max, 6);
}

/* The memo answers as a fresh scan does, through a week with a DST change,
 * for steps shorter and longer than the windows. */
static void test_memo_agrees(void **state)
{
	struct sched_entry v[3] = {
		entry("a", "*/7 9-11 * * *", 5 * 60, "Europe/Zurich", 2, -1),
		entry("b", "30 2 * * *", 45 * 60, "Europe/Zurich", 2, -1),
		entry("c", "0 22 * * sat", 0, "America/New_York", 2, -1),
	};
	int64_t steps[] = { 13, 60, 601, 7 * 3600 + 7 };

	(void)state;
	v[2].has_end = true;
	v[2].end = parse_ok("0 3 * * sun");
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct sched_memo memo[3] = { { 0 } };
		int opened = 0;

		for (int64_t t = ZRH_FALL - 3 * D; t < ZRH_FALL + 4 * D; t += steps[k])
			for (int i = 0; i < 3; i++) {
				bool a = sched_entry_active(&v[i], &memo[i], t, &real, NULL);

				if (a != active(&v[i], t))
					fail_msg("entry %d at %lld, step %lld: memo says %d", i,
					    (long long)t, (long long)steps[k], a);
				opened += a;
			}
		if (steps[k] < 3600)
			assert_true(opened > 0);
	}
}

static void test_tz_check(void **state)
{
	struct err e = { "" };

	(void)state;
	assert_int_equal(tz_check("Europe/Zurich", &e), 0);
	assert_int_equal(tz_check("UTC", &e), 0);
	assert_int_equal(tz_check("", &e), 0);
	assert_int_equal(tz_check("Europe/Zurch", &e), -1);
	assert_non_null(strstr(e.msg, "unknown time zone \"Europe/Zurch\""));
	assert_int_equal(tz_check("../../etc/passwd", &e), -1);
	assert_non_null(strstr(e.msg, "not an IANA time zone name"));
	assert_int_equal(tz_check("Europe/", &e), -1);
	assert_int_equal(tz_db_offset_s(&db, "Europe/Zurich", MON_2026_01_05), 3600);
	assert_int_equal(tz_db_offset_s(&db, "America/New_York", NY_SPRING), -4 * 3600);
	assert_int_equal(tz_db_offset_s(&db, "America/New_York", NY_SPRING - 1), -5 * 3600);
	assert_int_equal(tz_db_offset_s(&db, "UTC", NY_SPRING), 0);
}

/* Our reading of the TZif files agrees with the C library's every 3 days
 * and an hour from 1900 to 2100 (past the files' last transition, where
 * the footer's rule decides); the DST tests above pin the exact seconds. */
static void test_tz_matches_libc(void **state)
{
	static const char *const zones[] = {
		"Europe/Zurich", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
		"Asia/Kathmandu", "America/Sao_Paulo", "Pacific/Apia", "Africa/Casablanca",
		"America/St_Johns", "Europe/Dublin",
	};
	struct tz_db d = { .n = 0 };
	struct err e;
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	long checked = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		char tz[80];

		if (tz_db_add(&d, zones[i], &e) == -1)
			fail_msg("%s", e.msg);
		snprintf(tz, sizeof(tz), ":%s", zones[i]);
		setenv("TZ", tz, 1);
		tzset();
		for (int64_t t = -2208988800LL; t < 4102444800LL; t += 86400 * 3 + 3607) {
			time_t tt = (time_t)t;
			struct tm tm;

			localtime_r(&tt, &tm);
			if (tm.tm_gmtoff != tz_db_offset_s(&d, zones[i], t))
				fail_msg("%s at %lld: libc %ld, ours %ld", zones[i], (long long)t,
				    tm.tm_gmtoff, tz_db_offset_s(&d, zones[i], t));
			checked++;
		}
	}
	assert_true(checked > 100000);
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
	tz_db_fini(&d);
}

static void test_tz_rules(void **state)
{
	struct tz_rule r;
	struct tz_zone z = { .has_rule = true };
	struct err e;

	(void)state;
	/* Southern hemisphere: daylight time across the new year. */
	assert_int_equal(tz_rule_parse("AEST-10AEDT,M10.1.0,M4.1.0/3", &z.rule, &e), 0);
	assert_int_equal(tz_zone_offset_s(&z, 1767571200), 11 * 3600);	/* January */
	assert_int_equal(tz_zone_offset_s(&z, 1782864000), 10 * 3600);	/* July */
	/* A change in February: the year of a January or February date. */
	assert_int_equal(tz_rule_parse("XST-1XDT,M2.1.0,M11.1.0", &z.rule, &e), 0);
	assert_int_equal(tz_zone_offset_s(&z, 1895097600), 3600);	/* 2030-01-20 */
	assert_int_equal(tz_zone_offset_s(&z, 1896912000), 7200);	/* 2030-02-10 */
	assert_int_equal(tz_rule_parse("<+0545>-5:45", &r, &e), 0);
	assert_false(r.has_dst);
	assert_int_equal(r.std_off, 5 * 3600 + 45 * 60);
	assert_int_equal(tz_rule_parse("EST5EDT,M3.2.0,M11.1.0", &r, &e), 0);
	assert_int_equal(r.std_off, -5 * 3600);
	assert_int_equal(r.dst_off, -4 * 3600);
	assert_int_equal(tz_rule_parse("EST5EDT,M3.2.0", &r, &e), -1);
	assert_false(r.has_dst);	/* nothing half-parsed is left behind */
	assert_int_equal(r.std_off, 0);
	assert_int_equal(tz_rule_parse("E5", &r, &e), -1);
	assert_int_equal(tz_rule_parse("EST5EDT,M13.2.0,M11.1.0", &r, &e), -1);
	{
		static const unsigned char junk[60] = "TZif2";
		struct tz_zone bad;

		assert_int_equal(tz_zone_parse(junk, 10, &bad, &e), -1);
		assert_int_equal(tz_zone_parse(junk, sizeof(junk), &bad, &e), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cron_fields),
		cmocka_unit_test(test_cron_errors),
		cmocka_unit_test(test_cron_match_days),
		cmocka_unit_test(test_window_weekdays_zurich),
		cmocka_unit_test(test_dst_zurich),
		cmocka_unit_test(test_dst_new_york),
		cmocka_unit_test(test_end_cron_weekend),
		cmocka_unit_test(test_overlap_bounds),
		cmocka_unit_test(test_memo_agrees),
		cmocka_unit_test(test_tz_check),
		cmocka_unit_test(test_tz_matches_libc),
		cmocka_unit_test(test_tz_rules),
	};

	return cmocka_run_group_tests(tests, load_zones, free_zones);
}
