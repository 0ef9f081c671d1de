/* Cron expressions: parsing and matching; see cron.h. */
#include "common/cron.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CRON_TEXT_MAX 256

struct field {
	const char *name;
	int lo, hi;
	const char *const *names;	/* names[i] is value lo + i; NULL: none */
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL,
};
static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL,
};

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day of week", 0, 7, day_names },	/* 7: Sunday, as in crontab(5) */
};

/* A number or a name at *p; advances *p. */
static int value(const struct field *f, const char **p, int *out, struct err *e)
{
	const char *s = *p;

	if (*s >= '0' && *s <= '9') {
		long v = 0;

		while (*s >= '0' && *s <= '9' && v < 1000)
			v = v * 10 + (*s++ - '0');
		if (v < f->lo || v > f->hi)
			return err_set(e, "%s: %.*s is outside %d-%d", f->name, (int)(s - *p), *p,
			    f->lo, f->hi);
		*out = (int)v;
		*p = s;
		return 0;
	}
	if (f->names != NULL)
		for (int i = 0; f->names[i] != NULL; i++)
			if (strncasecmp(s, f->names[i], 3) == 0 &&
			    !((s[3] >= 'a' && s[3] <= 'z') || (s[3] >= 'A' && s[3] <= 'Z'))) {
				*out = f->lo + i;
				*p = s + 3;
				return 0;
			}
	return err_set(e, "%s: \"%.12s\" is not a number%s", f->name, s,
	    f->names ? " or a name" : "");
}

/* One comma-separated part: *, N, N-M, each with an optional /STEP. */
static int part(const struct field *f, const char *s, uint64_t *bits, struct err *e)
{
	const char *p = s;
	int lo = f->lo, hi = f->hi, step = 1;

	if (*p == '*') {
		p++;
	} else {
		if (value(f, &p, &lo, e) == -1)
			return -1;
		hi = lo;
		if (*p == '-') {
			p++;
			if (value(f, &p, &hi, e) == -1)
				return -1;
			if (hi < lo)
				return err_set(e, "%s: range %s runs backwards", f->name, s);
		} else if (*p == '/') {
			hi = f->hi;	/* N/STEP: from N to the end, as cronie reads it */
		}
	}
	if (*p == '/') {
		long v = 0;

		p++;
		if (!(*p >= '0' && *p <= '9'))
			return err_set(e, "%s: \"%s\" needs a step after /", f->name, s);
		while (*p >= '0' && *p <= '9' && v < 1000)
			v = v * 10 + (*p++ - '0');
		if (v < 1 || v > f->hi - f->lo + 1)
			return err_set(e, "%s: step %ld is outside 1-%d", f->name, v,
			    f->hi - f->lo + 1);
		step = (int)v;
	}
	if (*p != '\0')
		return err_set(e, "%s: \"%s\" is not *, N, N-M or one of them /STEP", f->name, s);
	for (int v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
}

static int parse_field(const struct field *f, char *text, uint64_t *bits, struct err *e)
{
	char *save = NULL, *tok;

	*bits = 0;
	if (text[0] == ',' || text[strlen(text) - 1] == ',' || strstr(text, ",,"))
		return err_set(e, "%s: \"%s\" has an empty list item", f->name, text);
	for (tok = strtok_r(text, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (part(f, tok, bits, e) == -1)
			return -1;
	return 0;
}

static const struct {
	const char *macro, *expr;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

int cron_parse(const char *text, struct cron *out, struct err *e)
{
	char buf[CRON_TEXT_MAX], *f[6], *save = NULL;
	uint64_t bits[5];
	int n = 0;

	memset(out, 0, sizeof(*out));
	while (*text == ' ' || *text == '\t')
		text++;
	if (*text == '@') {
		for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
			if (strcasecmp(text, macros[i].macro) == 0)
				return cron_parse(macros[i].expr, out, e);
		return err_set(e, "\"%.32s\" is not @hourly, @daily, @weekly, @monthly or "
		    "@yearly", text);
	}
	if (strlen(text) >= sizeof(buf))
		return err_set(e, "longer than %d characters", CRON_TEXT_MAX - 1);
	memcpy(buf, text, strlen(text) + 1);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 5)
			return err_set(e, "more than 5 fields (minute hour day-of-month month "
			    "day-of-week); seconds and years are not supported");
		f[n++] = t;
	}
	if (n != 5)
		return err_set(e, "%d field%s, expected 5 (minute hour day-of-month month "
		    "day-of-week)", n, n == 1 ? "" : "s");
	out->min_star = f[0][0] == '*';
	out->hour_star = f[1][0] == '*';
	out->dom_star = f[2][0] == '*';
	out->dow_star = f[4][0] == '*';
	for (int i = 0; i < 5; i++)
		if (parse_field(&fields[i], f[i], &bits[i], e) == -1)
			return -1;
	out->minute = bits[0];
	out->hour = (uint32_t)bits[1];
	out->dom = (uint32_t)bits[2];
	out->month = (uint16_t)bits[3];
	out->dow = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f);	/* 7 is Sunday */
	return 0;
}

static bool day_matches(const struct cron *c, const struct cron_tm *tm)
{
	bool dom = c->dom >> tm->mday & 1, dow = c->dow >> tm->wday & 1;

	if (c->dom_star || c->dow_star)
		return dom && dow;	/* a '*' field matches every day anyway */
	return dom || dow;
}

bool cron_match_hour(const struct cron *c, const struct cron_tm *tm)
{
	return (c->month >> tm->mon & 1) && (c->hour >> tm->hour & 1) && day_matches(c, tm);
}

bool cron_match(const struct cron *c, const struct cron_tm *tm)
{
	return (c->minute >> tm->min & 1) && cron_match_hour(c, tm);
}

bool cron_is_fixed_time(const struct cron *c)
{
	return !c->min_star && !c->hour_star;
}

/* Howard Hinnant's civil_from_days: days since 1970-01-01 to y-m-d. */
static void civil(int64_t z, int *y, int *m, int *d)
{
	int64_t era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

void cron_tm_of(int64_t local_s, struct cron_tm *out)
{
	int64_t days = local_s >= 0 ? local_s / 86400 : -((-local_s + 86399) / 86400);
	int64_t sec = local_s - days * 86400;

	civil(days, &out->year, &out->mon, &out->mday);
	out->hour = (int)(sec / 3600);
	out->min = (int)(sec % 3600 / 60);
	out->wday = (int)((days % 7 + 11) % 7);	/* 1970-01-01 was a Thursday (4) */
}
