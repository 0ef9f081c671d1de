/* Scheduled windows; see schedule.h. */
#include "policy/schedule.h"

#include <string.h>

#define MINUTE_S 60
#define DST_JUMP_MAX_S (3 * 3600)	/* cron(8): smaller changes are DST, larger ones corrections */

static long off(const struct sched_clock *k, const char *zone, int64_t t)
{
	return k->offset(k->ctx, zone, t);
}

/* Whether c starts at UTC minute m (local offset offm there). */
static bool starts_at(const struct cron *c, const char *zone, const struct sched_clock *k,
    int64_t m, long offm)
{
	struct cron_tm tm;
	long prev, back;

	cron_tm_of(m + offm, &tm);
	if (!cron_is_fixed_time(c))
		return cron_match(c, &tm);
	if (cron_match(c, &tm)) {
		/* A local time shown a second time (the clock went back less
		 * than 3 h ago): it started the first time. */
		back = off(k, zone, m - DST_JUMP_MAX_S) - offm;
		if (back > 0 && back < DST_JUMP_MAX_S &&
		    m - back + off(k, zone, m - back) == m + offm)
			return false;
		return true;
	}
	/* The clock jumped forward into m: the starts it skipped happen now. */
	prev = off(k, zone, m - MINUTE_S);
	if (offm > prev && offm - prev < DST_JUMP_MAX_S)
		for (int64_t l = m + prev; l < m + offm; l += MINUTE_S) {
			cron_tm_of(l, &tm);
			if (cron_match(c, &tm))
				return true;
		}
	return false;
}

int64_t sched_latest_start(const struct cron *c, const char *zone,
    const struct sched_clock *k, int64_t lo_s, int64_t hi_s)
{
	int64_t m = hi_s - (hi_s % MINUTE_S + MINUTE_S) % MINUTE_S;

	while (m > lo_s) {
		long offm = off(k, zone, m);
		struct cron_tm tm;

		cron_tm_of(m + offm, &tm);
		if (!cron_match_hour(c, &tm)) {
			/* The rest of this local hour cannot start c, unless the
			 * offset changes inside it (a skipped start made up). */
			int64_t to = m - (int64_t)(tm.min + 1) * MINUTE_S;

			if (to < m - MINUTE_S && off(k, zone, to) == offm) {
				m = to;
				continue;
			}
		}
		if (starts_at(c, zone, k, m, offm))
			return m;
		m -= MINUTE_S;
	}
	return SCHED_NONE;
}

static int64_t floor_minute(int64_t t)
{
	return t - (t % MINUTE_S + MINUTE_S) % MINUTE_S;
}

bool sched_entry_active(const struct sched_entry *e, struct sched_memo *memo, int64_t unix_s,
    const struct sched_clock *clk, int64_t *since_s)
{
	struct sched_memo local = { 0 };
	struct sched_memo *mm = memo ? memo : &local;
	int64_t mt = floor_minute(unix_s), look, lo, s;
	bool open;

	look = e->has_end ? SCHED_LOOKBACK_S : e->duration_s;
	if (!mm->valid || mt < mm->scanned_s || mt - mm->scanned_s >= look) {
		lo = mt - look;
		mm->last_start_s = mm->last_end_s = SCHED_NONE;
	} else {
		lo = mm->scanned_s;
	}
	if (mt > lo) {
		s = sched_latest_start(&e->start, e->zone, clk, lo, mt);
		if (s != SCHED_NONE)
			mm->last_start_s = s;
		if (e->has_end) {
			s = sched_latest_start(&e->end, e->zone, clk, lo, mt);
			if (s != SCHED_NONE)
				mm->last_end_s = s;
		}
	}
	mm->scanned_s = mt;
	mm->valid = true;
	s = mm->last_start_s;
	if (s == SCHED_NONE)
		open = false;
	else if (e->has_end)	/* an end in the same minute as a start closes it */
		open = mt - s < SCHED_LOOKBACK_S &&
		    (mm->last_end_s == SCHED_NONE || mm->last_end_s < s);
	else
		open = unix_s < s + e->duration_s;
	if (open && since_s)
		*since_s = s;
	return open;
}

void sched_bounds(const struct sched_entry *v, size_t n, struct sched_state *st,
    int64_t unix_s, const struct sched_clock *clk, int cfg_min, int cfg_max,
    struct sched_bounds *out)
{
	int lo = -1, hi = -1;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n && i < SCHED_MAX; i++) {
		int64_t since = 0;

		if (!sched_entry_active(&v[i], st ? &st->memo[i] : NULL, unix_s, clk, &since))
			continue;
		out->active |= 1u << i;
		out->since_s[i] = since;
		if (v[i].min >= 0 && v[i].min > lo)
			lo = v[i].min;
		if (v[i].max >= 0 && v[i].max > hi)
			hi = v[i].max;
	}
	out->min = lo >= 0 ? lo : cfg_min;
	out->max = hi >= 0 ? hi : cfg_max;
	if (out->min > out->max)
		out->max = out->min;
}
