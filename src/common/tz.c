/* Time-zone offsets from TZif files; see tz.h. */
#include "common/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fileio.h"

#define TZ_TRANSITIONS_MAX 4096

static bool is_utc(const char *zone)
{
	return zone[0] == '\0' || strcmp(zone, "UTC") == 0 || strcmp(zone, "Etc/UTC") == 0;
}

static int64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	if (n == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

/* ---- POSIX TZ rules (the TZif footer) ---- */

static const char *rule_name(const char *s)
{
	if (*s == '<') {
		const char *e = strchr(s, '>');

		return e && e - s >= 4 ? e + 1 : NULL;
	}
	const char *p = s;

	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] into *secs; NULL on a malformed one. */
static const char *rule_time(const char *s, int32_t *secs, int max_h)
{
	int sign = 1, part[3] = { 0, 0, 0 };

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		if (!(*s >= '0' && *s <= '9'))
			return NULL;
		while (*s >= '0' && *s <= '9' && part[i] < 1000)
			part[i] = part[i] * 10 + (*s++ - '0');
		if (*s != ':' || i == 2)
			break;
		s++;
	}
	if (part[0] > max_h || part[1] > 59 || part[2] > 59)
		return NULL;
	*secs = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return s;
}

static const char *rule_num(const char *s, int *v)
{
	if (!(*s >= '0' && *s <= '9'))
		return NULL;
	*v = 0;
	while (*s >= '0' && *s <= '9' && *v < 1000)
		*v = *v * 10 + (*s++ - '0');
	return s;
}

static const char *rule_change(const char *s, struct tz_change *c)
{
	c->secs = 7200;		/* 02:00 unless given */
	if (*s == 'M') {
		c->kind = 'M';
		if (!(s = rule_num(s + 1, &c->mon)) || *s++ != '.' || !(s = rule_num(s, &c->week)) ||
		    *s++ != '.' || !(s = rule_num(s, &c->day)))
			return NULL;
		if (c->mon < 1 || c->mon > 12 || c->week < 1 || c->week > 5 || c->day > 6)
			return NULL;
	} else {
		c->kind = *s == 'J' ? 'J' : 'D';
		if (*s == 'J')
			s++;
		if (!(s = rule_num(s, &c->day)) || c->day > 365 || (c->kind == 'J' && c->day < 1))
			return NULL;
	}
	if (*s == '/')
		s = rule_time(s + 1, &c->secs, 167);	/* RFC 8536 allows -167..167 h */
	return s;
}

static int rule_parse(const char *s, struct tz_rule *r, struct err *e)
{
	const char *p = rule_name(s);
	int32_t v;

	memset(r, 0, sizeof(*r));
	if (p == NULL || !(p = rule_time(p, &v, 24)))
		return err_set(e, "TZ rule \"%.40s\": no standard time name and offset", s);
	r->std_off = -v;		/* POSIX counts west as positive */
	if (*p == '\0')
		return 0;
	if (!(p = rule_name(p)))
		return err_set(e, "TZ rule \"%.40s\": bad daylight time name", s);
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if (!(p = rule_time(p, &v, 24)))
			return err_set(e, "TZ rule \"%.40s\": bad daylight offset", s);
		r->dst_off = -v;
	}
	if (*p != ',' || !(p = rule_change(p + 1, &r->start)) || *p != ',' ||
	    !(p = rule_change(p + 1, &r->end)) || *p != '\0')
		return err_set(e, "TZ rule \"%.40s\": bad or missing change dates", s);
	return 0;
}

int tz_rule_parse(const char *s, struct tz_rule *r, struct err *e)
{
	if (rule_parse(s, r, e) == -1) {
		memset(r, 0, sizeof(*r));	/* nothing half-parsed: UTC */
		return -1;
	}
	return 0;
}

/* Howard Hinnant's days_from_civil. */
static int64_t days_of(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local seconds (since 1970 on the local calendar) of change c in year y. */
static int64_t change_local_s(const struct tz_change *c, int64_t y)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t day;

	if (c->kind == 'J') {
		day = days_of(y, 1, 1) + c->day - 1 + (leap(y) && c->day >= 60);
	} else if (c->kind == 'D') {
		day = days_of(y, 1, 1) + c->day;
	} else {
		int64_t first = days_of(y, c->mon, 1);
		int wd1 = (int)(((first % 7) + 11) % 7);	/* 1970-01-01: Thursday */
		int dim = mdays[c->mon - 1] + (c->mon == 2 && leap(y));
		int d = 1 + (c->day - wd1 + 7) % 7 + (c->week - 1) * 7;

		while (d > dim)
			d -= 7;
		day = first + d - 1;
	}
	return day * 86400 + c->secs;
}

static long rule_offset(const struct tz_rule *r, int64_t t)
{
	int64_t local = t + r->std_off, days, y, start, end;

	if (!r->has_dst)
		return r->std_off;
	/* The year on the standard-time calendar. */
	days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	{
		int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
		int64_t doe = z - era * 146097;
		int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

		y = yoe + era * 400 + (mp >= 10);	/* Jan, Feb: the next civil year */
	}
	start = change_local_s(&r->start, y) - r->std_off;	/* given in standard time */
	end = change_local_s(&r->end, y) - r->dst_off;		/* given in daylight time */
	if (start < end)
		return t >= start && t < end ? r->dst_off : r->std_off;
	return t >= end && t < start ? r->std_off : r->dst_off;	/* southern hemisphere */
}

/* ---- TZif ---- */

int tz_zone_parse(const unsigned char *p, size_t len, struct tz_zone *z, struct err *e)
{
	const unsigned char *h = p, *d;
	int64_t cnt[6];
	int tsize = 4;
	size_t need, block;

	memset(z, 0, sizeof(*z));
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return err_set(e, "not a TZif file");
	for (;;) {
		for (int i = 0; i < 6; i++)
			cnt[i] = be(h + 20 + 4 * i, 4);
		for (int i = 0; i < 6; i++)
			if (cnt[i] < 0 || cnt[i] > TZ_TRANSITIONS_MAX)
				return err_set(e, "TZif counts out of range");
		if (cnt[4] < 1)
			return err_set(e, "TZif file without a local time type");
		block = (size_t)(cnt[3] * tsize + cnt[3] + cnt[4] * 6 + cnt[5] +
		    cnt[2] * (tsize + 4) + cnt[1] + cnt[0]);
		need = (size_t)(h - p) + 44 + block;
		if (need > len)
			return err_set(e, "TZif file cut short");
		if (tsize == 8 || p[4] < '2')
			break;
		h = p + need;		/* version 2+: the 64-bit block follows */
		tsize = 8;
		if ((size_t)(h - p) + 44 > len || memcmp(h, "TZif", 4) != 0)
			return err_set(e, "TZif version 2 header missing");
	}
	d = h + 44;
	z->n = (size_t)cnt[3];
	z->at = calloc(z->n ? z->n : 1, sizeof(*z->at));
	z->off = calloc(z->n ? z->n : 1, sizeof(*z->off));
	if (z->at == NULL || z->off == NULL) {
		tz_zone_fini(z);
		return err_set(e, "out of memory");
	}
	{
		const unsigned char *idx = d + z->n * (size_t)tsize, *types = idx + z->n;

		for (size_t i = 0; i < z->n; i++) {
			if (idx[i] >= cnt[4]) {
				tz_zone_fini(z);
				return err_set(e, "TZif transition with an unknown type");
			}
			z->at[i] = be(d + i * (size_t)tsize, tsize);
			z->off[i] = (int32_t)be(types + idx[i] * 6, 4);
			if (i > 0 && z->at[i] <= z->at[i - 1]) {
				tz_zone_fini(z);
				return err_set(e, "TZif transitions out of order");
			}
		}
		z->first_off = (int32_t)be(types, 4);	/* type 0: before the first */
	}
	if (tsize == 8) {
		/* The footer: "\nRULE\n"; empty means none. */
		const unsigned char *f = h + 44 + block, *nl;
		char rule[128];

		if (f < p + len && *f == '\n' && (nl = memchr(f + 1, '\n', len - (size_t)(f + 1 - p))) &&
		    nl > f + 1 && (size_t)(nl - f - 1) < sizeof(rule)) {
			memcpy(rule, f + 1, (size_t)(nl - f - 1));
			rule[nl - f - 1] = '\0';
			if (tz_rule_parse(rule, &z->rule, e) == -1) {
				tz_zone_fini(z);
				return -1;
			}
			z->has_rule = true;
		}
	}
	return 0;
}

long tz_zone_offset_s(const struct tz_zone *z, int64_t t)
{
	size_t lo = 0, hi = z->n;

	if (z->n == 0)
		return z->has_rule ? rule_offset(&z->rule, t) : z->first_off;
	if (t < z->at[0])
		return z->first_off;
	if (t >= z->at[z->n - 1] && z->has_rule)
		return rule_offset(&z->rule, t);
	while (hi - lo > 1) {		/* the last transition at or before t */
		size_t mid = (lo + hi) / 2;

		if (z->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->off[lo];
}

void tz_zone_fini(struct tz_zone *z)
{
	free(z->at);
	free(z->off);
	z->at = NULL;
	z->off = NULL;
	z->n = 0;
}

/* ---- the database ---- */

static int check_name(const char *name, struct err *e)
{
	if (strlen(name) >= TZ_NAME_MAX)
		return err_set(e, "\"%.32s...\" is longer than %d characters", name,
		    TZ_NAME_MAX - 1);
	/* A relative path of name characters: nothing outside the database. */
	if (name[0] == '/' || name[0] == '.' || strstr(name, "..") != NULL ||
	    name[strlen(name) - 1] == '/')
		goto bad;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' || *p == '-' || *p == '+'))
			goto bad;
	return 0;
bad:
	return err_set(e, "\"%s\" is not an IANA time zone name (like Europe/Zurich)", name);
}

static int load(const char *name, struct tz_zone *z, struct err *e)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	struct buf b;
	struct err fe;
	int missing = 0, rc;

	if (check_name(name, e) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	buf_init(&b, TZ_FILE_MAX_BYTES);
	if (file_read_all(path, &b, &missing, &fe) == -1) {
		buf_fini(&b);
		return err_set(e, "unknown time zone \"%s\" (%s; is tzdata installed?)", name,
		    missing ? "not in the tz database" : fe.msg);
	}
	rc = tz_zone_parse((const unsigned char *)(b.p ? b.p : ""), b.len, z, &fe);
	buf_fini(&b);
	if (rc == -1)
		return err_set(e, "time zone \"%s\": %s: %s", name, path, fe.msg);
	snprintf(z->name, sizeof(z->name), "%s", name);
	return 0;
}

int tz_check(const char *name, struct err *e)
{
	struct tz_zone z;

	if (is_utc(name))
		return 0;
	if (load(name, &z, e) == -1)
		return -1;
	tz_zone_fini(&z);
	return 0;
}

int tz_db_add(struct tz_db *db, const char *name, struct err *e)
{
	if (is_utc(name))
		return 0;
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(db->z[i].name, name) == 0)
			return 0;
	if (db->n == TZ_DB_MAX)
		return err_set(e, "more than %d time zones", TZ_DB_MAX);
	if (load(name, &db->z[db->n], e) == -1)
		return -1;
	db->n++;
	return 0;
}

void tz_db_fini(struct tz_db *db)
{
	for (size_t i = 0; i < db->n; i++)
		tz_zone_fini(&db->z[i]);
	db->n = 0;
}

long tz_db_offset_s(void *ctx, const char *zone, int64_t unix_s)
{
	const struct tz_db *db = ctx;

	for (size_t i = 0; db != NULL && i < db->n; i++)
		if (strcmp(db->z[i].name, zone) == 0)
			return tz_zone_offset_s(&db->z[i], unix_s);
	return 0;
}
