/* The forecaster's seasonal part: profiles from the buckets, and their
 * out-of-sample test. See policy/forecast.h. */
#include "policy/forecast.h"
#include "policy/forecast_parts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sort_small(double *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* The profile at one bucket, before smoothing: weekly, the mean of the same
 * bucket in past weeks (few values, each already a typical day of its
 * kind); daily, their median over past days, so one odd day (an outage,
 * a holiday) does not move it. Only buckets older than key are read. */
static double profile_compute(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t key, bool weekly)
{
	int64_t per = (weekly ? FORECAST_WEEK_MS : FORECAST_DAY_MS) / cfg->step_ms;
	int periods = weekly ? cfg->history_days / 7 : cfg->history_days, n = 0;
	double v[FORECAST_MAX_DAYS], sum = 0;

	for (int d = 1; d <= periods; d++) {
		double x = forecast_bucket(cfg, st, key - d * per);

		if (!isnan(x)) {
			v[n++] = x;
			sum += x;
		}
	}
	if (n == 0)
		return NAN;
	if (weekly)
		return sum / n;
	sort_small(v, n);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The same, cached: only buckets older than a day are read, and keys are
 * asked for at most a day past the newest point, so an entry stays true
 * until a history load changes the past. */
double forecast_profile_raw(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t key, bool weekly)
{
	int64_t n = forecast_nslots(cfg), i = key % n;
	struct forecast_prof *p = &st->prof[i < 0 ? i + n : i];
	uint8_t bit = weekly ? 2 : 1;

	if (p->key != key || p->gen != st->prof_gen)
		*p = (struct forecast_prof){ .key = key, .gen = st->prof_gen };
	if (!(p->done & bit)) {
		p->v[weekly] = profile_compute(cfg, st, key, weekly);
		p->done |= bit;
	}
	return p->v[weekly];
}

/* Smoothed over the bucket and its neighbours (1, 2, 1): a bucket's mean
 * over days still carries noise, and the forecast reads differences. */
static double profile_at(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t key, bool weekly)
{
	static const double w[3] = { 1, 2, 1 };
	double sum = 0, ws = 0;

	for (int i = -1; i <= 1; i++) {
		double x = forecast_profile_raw(cfg, st, key + i, weekly);

		if (!isnan(x)) {
			sum += w[i + 1] * x;
			ws += w[i + 1];
		}
	}
	return ws > 0 ? sum / ws : NAN;
}

/* The profile at a time, interpolated between bucket centres. */
double forecast_profile_time(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t t_ms, bool weekly)
{
	int64_t k0 = forecast_floor_div(t_ms - cfg->step_ms / 2, cfg->step_ms);
	double f = (double)(t_ms - (k0 * cfg->step_ms + cfg->step_ms / 2)) / (double)cfg->step_ms;
	double p0 = profile_at(cfg, st, k0, weekly), p1 = profile_at(cfg, st, k0 + 1, weekly);

	if (isnan(p0))
		return p1;
	if (isnan(p1))
		return p0;
	return p0 + f * (p1 - p0);
}

double forecast_level_scale(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t now_ms, bool weekly)
{
	int64_t cur = forecast_floor_div(now_ms, cfg->step_ms);
	double sb = 0, sp = 0;

	for (int64_t k = cur - FORECAST_SCALE_BUCKETS; k < cur; k++) {
		double b = forecast_bucket(cfg, st, k), p = forecast_profile_raw(cfg, st, k, weekly);

		if (!isnan(b) && !isnan(p)) {
			sb += b;
			sp += p;
		}
	}
	return sp > 0 ? sb / sp : NAN;
}

/* Out of sample over the last day of complete buckets: how much better the
 * profile's change over the horizon (scaled to the bucket's level)
 * predicts the load's change than "no change" does. 1 is perfect, 0 no
 * better, negative worse. NaN with too few pairs. */
static double skill(const struct forecast_cfg *cfg, struct forecast_state *st, int64_t cur,
    bool weekly, int *pairs)
{
	int64_t lag = (cfg->horizon_ms + cfg->step_ms - 1) / cfg->step_ms;
	int64_t per_day = FORECAST_DAY_MS / cfg->step_ms, from = cur - per_day;
	double sse = 0, sse0 = 0, prof[FORECAST_DAY_MS / FORECAST_MIN_STEP_MS];

	*pairs = 0;
	if (lag < 1)
		lag = 1;
	for (int64_t j = from; j < cur; j++)
		prof[j - from] = profile_at(cfg, st, j, weekly);
	for (int64_t j = from; j + lag < cur; j++) {
		double b0 = forecast_bucket(cfg, st, j), b1 = forecast_bucket(cfg, st, j + lag);
		double p0 = prof[j - from], p1 = prof[j + lag - from], d, dp;

		if (isnan(b0) || isnan(b1) || isnan(p0) || isnan(p1) || p0 <= 0)
			continue;
		d = b1 - b0;
		dp = (p1 - p0) * b0 / p0;
		sse += (d - dp) * (d - dp);
		sse0 += d * d;
		(*pairs)++;
	}
	if (*pairs < FORECAST_MIN_PAIRS)
		return NAN;
	return sse0 > 0 ? 1 - sse / sse0 : sse > 0 ? -1 : 0;
}

enum forecast_season forecast_season_test(const struct forecast_cfg *cfg,
    struct forecast_state *st, int64_t now_ms)
{
	int64_t cur = forecast_floor_div(now_ms, cfg->step_ms);
	int64_t held = st->last_ms >= st->first_ms ? now_ms - st->first_ms : 0;

	if (!cfg->seasonality)
		return FORECAST_SEASON_OFF;
	if (held < FORECAST_DAY_MS + cfg->horizon_ms)
		return FORECAST_SEASON_SHORT;
	if (cur == st->tested_key)
		return st->tested;
	st->tested_key = cur;
	st->skill[0] = skill(cfg, st, cur, false, &st->pairs[0]);
	st->skill[1] = NAN;
	st->pairs[1] = 0;
	if (cfg->history_days >= 7 && held >= FORECAST_WEEK_MS + cfg->horizon_ms)
		st->skill[1] = skill(cfg, st, cur, true, &st->pairs[1]);
	if (isnan(st->skill[0]) && isnan(st->skill[1]))
		st->tested = FORECAST_SEASON_UNTESTED;
	else if (!isnan(st->skill[1]) && st->skill[1] > 0 &&
	    (isnan(st->skill[0]) || st->skill[1] > st->skill[0]))
		st->tested = FORECAST_SEASON_WEEKLY;
	else if (!isnan(st->skill[0]) && st->skill[0] > 0)
		st->tested = FORECAST_SEASON_DAILY;
	else
		st->tested = FORECAST_SEASON_WEAK;
	return st->tested;
}

/* The rise from profile value `from` to `to`, scaled to the level now
 * (the profile says how the load moves; today's level says from where);
 * 0 when either is missing or the profile falls. */
double forecast_season_rise(double from, double to, double level)
{
	if (isnan(from) || isnan(to) || to <= from)
		return 0;
	return (to - from) * (from > 0 ? level / from : 1);
}

