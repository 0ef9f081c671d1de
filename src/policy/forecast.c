#include "policy/forecast.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fewest past (bucket, bucket + horizon) pairs a profile is tested on
 * before it may be used: an hour at the default step, so one odd bucket
 * cannot decide. */
#define FORECAST_MIN_PAIRS 12
/* The fewest live points in each half of the trend window. */
#define FORECAST_MIN_HALF 4
/* The fewest scored trend forecasts before its record may bench it. */
#define FORECAST_MIN_TRIALS 8
/* The baseline the load's swings are measured over, in trend windows. */
#define FORECAST_SWING_SPANS 16

void forecast_cfg_default(struct forecast_cfg *cfg)
{
	*cfg = (struct forecast_cfg){
		.enabled = false, .horizon_ms = 0, .step_ms = FORECAST_MIN_STEP_MS,
		.history_days = FORECAST_MAX_DAYS, .seasonality = true, .trend = true,
	};
}

const char *forecast_basis_name(enum forecast_basis b)
{
	static const char *const names[] = { "none", "level", "trend", "daily", "weekly" };

	return (unsigned)b < sizeof(names) / sizeof(names[0]) ? names[b] : "unknown";
}

const char *forecast_season_name(enum forecast_season s)
{
	static const char *const names[] = { "off", "short_history", "untested", "weak",
		"daily", "weekly" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

void forecast_init(struct forecast_state *st)
{
	memset(st, 0, sizeof(*st));
	st->first_ms = INT64_MAX;
	st->last_ms = INT64_MIN;
	st->tested_key = INT64_MIN;
	st->skill[0] = st->skill[1] = NAN;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t nslots(const struct forecast_cfg *cfg)
{
	int64_t n = cfg->history_days * FORECAST_DAY_MS / cfg->step_ms;

	return n > FORECAST_BUCKETS ? FORECAST_BUCKETS : n < 1 ? 1 : n;
}

static struct forecast_bucket *slot(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t key)
{
	int64_t n = nslots(cfg), i = key % n;

	return &st->b[i < 0 ? i + n : i];
}

/* A bucket's mean, or NaN when the ring does not hold it. */
static double bucket(const struct forecast_cfg *cfg, struct forecast_state *st, int64_t key)
{
	const struct forecast_bucket *b = slot(cfg, st, key);

	return b->key == key && b->n > 0 ? b->sum / b->n : NAN;
}

/* A new step forgets the buckets (their keys mean other times). */
static void check_step(const struct forecast_cfg *cfg, struct forecast_state *st)
{
	if (st->step_ms == cfg->step_ms)
		return;
	memset(st->b, 0, sizeof(st->b));
	st->prof_gen++;
	st->step_ms = cfg->step_ms;
	st->tested_key = INT64_MIN;
}

static void span(struct forecast_state *st, int64_t t_ms)
{
	if (t_ms < st->first_ms)
		st->first_ms = t_ms;
	if (t_ms > st->last_ms)
		st->last_ms = t_ms;
}

/* Scores the trend's forecasts whose horizon has come. */
static void score_trials(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t t_ms, double value)
{
	while (st->ntrials > 0) {
		size_t i = (st->trial_head + FORECAST_TRIALS - st->ntrials) % FORECAST_TRIALS;
		const struct forecast_trial *tr = &st->trials[i];

		if (t_ms < tr->t_ms + cfg->horizon_ms)
			break;
		st->trial_err[st->err_head][0] = (value - tr->pred) * (value - tr->pred);
		st->trial_err[st->err_head][1] = (value - tr->base) * (value - tr->base);
		st->err_head = (st->err_head + 1) % FORECAST_TRIALS;
		if (st->nerr < FORECAST_TRIALS)
			st->nerr++;
		st->ntrials--;
	}
}

/* Files a trend forecast for scoring; one per instant. */
static void add_trial(struct forecast_state *st, int64_t t_ms, double base, double pred)
{
	if (st->ntrials > 0 &&
	    st->trials[(st->trial_head + FORECAST_TRIALS - 1) % FORECAST_TRIALS].t_ms >= t_ms)
		return;
	st->trials[st->trial_head] = (struct forecast_trial){ t_ms, base, pred };
	st->trial_head = (st->trial_head + 1) % FORECAST_TRIALS;
	if (st->ntrials < FORECAST_TRIALS)
		st->ntrials++;
}

/* Whether the trend's record lets it in: too few scored forecasts yet (no
 * evidence against it), or they beat "no change". */
static bool trend_trusted(const struct forecast_state *st)
{
	double e[2] = { 0, 0 };

	if (st->nerr < FORECAST_MIN_TRIALS)
		return true;
	for (size_t i = 0; i < st->nerr; i++) {
		e[0] += st->trial_err[i][0];
		e[1] += st->trial_err[i][1];
	}
	return e[0] < e[1];
}

void forecast_observe(const struct forecast_cfg *cfg, struct forecast_state *st, int64_t t_ms,
    double value)
{
	int64_t key;
	struct forecast_bucket *b;

	if (!isfinite(value) || cfg->step_ms <= 0)
		return;
	check_step(cfg, st);
	key = floor_div(t_ms, cfg->step_ms);
	b = slot(cfg, st, key);
	if (b->key != key || b->gen != 0)
		*b = (struct forecast_bucket){ .key = key };	/* live beats history */
	b->sum += value;
	b->n++;
	span(st, t_ms);
	score_trials(cfg, st, t_ms, value);
	st->recent[st->head] = (struct forecast_point){ t_ms, value };
	st->head = (st->head + 1) % FORECAST_RECENT;
	if (st->n < FORECAST_RECENT)
		st->n++;
}

void forecast_seed(const struct forecast_cfg *cfg, struct forecast_state *st,
    const struct forecast_point *p, size_t n)
{
	if (cfg->step_ms <= 0)
		return;
	check_step(cfg, st);
	if (++st->gen == 0)
		st->gen = 1;
	for (size_t i = 0; i < n; i++) {
		int64_t key;
		struct forecast_bucket *b;

		if (!isfinite(p[i].value))
			continue;
		key = floor_div(p[i].t_ms, cfg->step_ms);
		b = slot(cfg, st, key);
		if (b->key == key && b->gen == 0 && b->n > 0)
			continue;	/* measured here: keep it */
		if (b->key != key || b->gen != st->gen)
			*b = (struct forecast_bucket){ .key = key, .gen = st->gen };
		b->sum += p[i].value;
		b->n++;
		span(st, p[i].t_ms);
	}
	st->tested_key = INT64_MIN;	/* test the profiles again */
	st->prof_gen++;
}

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
		double x = bucket(cfg, st, key - d * per);

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
static double profile_raw(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t key, bool weekly)
{
	int64_t n = nslots(cfg), i = key % n;
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
		double x = profile_raw(cfg, st, key + i, weekly);

		if (!isnan(x)) {
			sum += w[i + 1] * x;
			ws += w[i + 1];
		}
	}
	return ws > 0 ? sum / ws : NAN;
}

/* The profile at a time, interpolated between bucket centres. */
static double profile_time(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t t_ms, bool weekly)
{
	int64_t k0 = floor_div(t_ms - cfg->step_ms / 2, cfg->step_ms);
	double f = (double)(t_ms - (k0 * cfg->step_ms + cfg->step_ms / 2)) / (double)cfg->step_ms;
	double p0 = profile_at(cfg, st, k0, weekly), p1 = profile_at(cfg, st, k0 + 1, weekly);

	if (isnan(p0))
		return p1;
	if (isnan(p1))
		return p0;
	return p0 + f * (p1 - p0);
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
		double b0 = bucket(cfg, st, j), b1 = bucket(cfg, st, j + lag);
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

/* Whether a profile may be used now; tested once per bucket. */
static enum forecast_season season(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t now_ms)
{
	int64_t cur = floor_div(now_ms, cfg->step_ms);
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

/* The critical t value, one-sided 2.5% (two-sided 95%), by degrees of
 * freedom: few points need a steep slope to count. */
static double t_crit(int df)
{
	static const double t[] = { 0, 12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26,
		2.23, 2.20, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.10, 2.09, 2.09 };

	if (df < 1)
		return INFINITY;
	return df < (int)(sizeof(t) / sizeof(t[0])) ? t[df] : df < 30 ? 2.06 : df < 60 ? 2.02 : 1.96;
}

struct half {
	int n;
	double tmean, vmean, slope;
	bool rising;	/* slope > 0, significant against the residuals */
};

/* The i-th newest live point. */
static const struct forecast_point *nth_newest(const struct forecast_state *st, size_t i)
{
	return &st->recent[(st->head + FORECAST_RECENT - 1 - i) % FORECAST_RECENT];
}

/* Least squares over the live points with t in (from, to], times in s
 * relative to `to`. */
static void fit(const struct forecast_state *st, int64_t from, int64_t to, struct half *h)
{
	double sum_t = 0, sum_v = 0, sxx = 0, sxy = 0, sse = 0;
	size_t lo = 0, hi;

	memset(h, 0, sizeof(*h));
	while (lo < st->n && nth_newest(st, lo)->t_ms > to)
		lo++;
	for (hi = lo; hi < st->n && nth_newest(st, hi)->t_ms > from; hi++) {
		sum_t += (double)(nth_newest(st, hi)->t_ms - to) / 1000.0;
		sum_v += nth_newest(st, hi)->value;
	}
	h->n = (int)(hi - lo);
	if (h->n == 0)
		return;
	h->tmean = sum_t / h->n;
	h->vmean = sum_v / h->n;
	if (h->n < 3)
		return;
	for (size_t i = lo; i < hi; i++) {
		double x = (double)(nth_newest(st, i)->t_ms - to) / 1000.0 - h->tmean;

		sxx += x * x;
		sxy += x * (nth_newest(st, i)->value - h->vmean);
	}
	if (sxx <= 0)
		return;
	h->slope = sxy / sxx;
	for (size_t i = lo; i < hi; i++) {
		double x = (double)(nth_newest(st, i)->t_ms - to) / 1000.0 - h->tmean;
		double r = nth_newest(st, i)->value - h->vmean - h->slope * x;

		sse += r * r;
	}
	h->rising = h->slope > 0 &&
	    h->slope > t_crit(h->n - 2) * sqrt(sse / (h->n - 2) / sxx);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The value of the newest live point at or before t, or NaN; *j is a
 * cursor (newest first) that only moves back. */
static double value_at(const struct forecast_state *st, int64_t t, size_t *j)
{
	while (*j < st->n && nth_newest(st, *j)->t_ms > t)
		(*j)++;
	return *j < st->n ? nth_newest(st, *j)->value : NAN;
}

/* How far the load wanders over `lag` without meaning anything: the sd of
 * one point's deviation from a straight line, from the second differences
 * v(t) - 2 v(t - lag) + v(t - 2 lag) over the last `baseline` (a line
 * gives 0, so a steady trend is not counted as noise; their robust sd,
 * 1.4826 × the median of their sizes, so the kink where a ramp starts is
 * not either; an independent deviation of sd s gives them sd √6 s). The
 * points' own residuals cannot say it: a metric behind a rate() window is
 * smooth from one point to the next, so a random swing looks like a clean
 * line. NaN with too few points. */
static double swing(const struct forecast_state *st, int64_t now_ms, int64_t lag,
    int64_t baseline)
{
	static const double MAD_TO_SD = 1.4826;
	double d[FORECAST_RECENT];
	size_t n = 0, j1 = 0, j2 = 0;

	for (size_t i = 0; i < st->n; i++) {
		const struct forecast_point *p = nth_newest(st, i);
		double v1, v2;

		if (p->t_ms > now_ms)
			continue;
		if (p->t_ms <= now_ms - baseline)
			break;
		v1 = value_at(st, p->t_ms - lag, &j1);
		v2 = value_at(st, p->t_ms - 2 * lag, &j2);
		if (isnan(v2))
			break;
		d[n++] = fabs(p->value - 2 * v1 + v2);
	}
	if (n < 2 * FORECAST_MIN_HALF)
		return NAN;
	qsort(d, n, sizeof(d[0]), cmp_double);
	return MAD_TO_SD * (n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2) / sqrt(6);
}

/* The half window: the horizon, widened until each half holds
 * FORECAST_MIN_HALF of the live points at their usual spacing. */
static int64_t half_window(const struct forecast_cfg *cfg, const struct forecast_state *st)
{
	int64_t w = cfg->horizon_ms, gap;
	size_t k = st->n < 9 ? st->n : 9;

	if (k >= 2) {
		gap = (nth_newest(st, 0)->t_ms - nth_newest(st, k - 1)->t_ms) / (int64_t)(k - 1);
		if (gap * FORECAST_MIN_HALF > w)
			w = gap * FORECAST_MIN_HALF;
	}
	return w;
}

/* The rise from profile value `from` to `to`, scaled to the level now
 * (the profile says how the load moves; today's level says from where);
 * 0 when either is missing or the profile falls. */
static double season_rise(double from, double to, double level)
{
	if (isnan(from) || isnan(to) || to <= from)
		return 0;
	return (to - from) * (from > 0 ? level / from : 1);
}

void forecast_predict(const struct forecast_cfg *cfg, struct forecast_state *st, int64_t now_ms,
    struct forecast_out *out)
{
	struct half old, new;
	int64_t half = half_window(cfg, st);
	double slope = 0, add;
	char why[80];

	memset(out, 0, sizeof(*out));
	out->need = out->level = NAN;
	out->history_s = st->last_ms >= st->first_ms ? (double)(now_ms - st->first_ms) / 1000 : 0;
	out->season = season(cfg, st, now_ms);
	switch (out->season) {
	case FORECAST_SEASON_SHORT:
		snprintf(why, sizeof(why), "; no season: %.1fh history < 1d + horizon",
		    out->history_s / 3600);
		break;
	case FORECAST_SEASON_UNTESTED:
		snprintf(why, sizeof(why), "; no season: untested");
		break;
	case FORECAST_SEASON_WEAK:
		snprintf(why, sizeof(why), "; no season: weak (skill %.2f)",
		    isnan(st->skill[1]) || st->skill[0] >= st->skill[1] ? st->skill[0] : st->skill[1]);
		break;
	default:
		why[0] = '\0';
		break;
	}
	fit(st, now_ms - half, now_ms, &new);
	if (new.n == 0) {
		out->basis = FORECAST_NONE;
		snprintf(out->note, sizeof(out->note),
		    "nothing measured in %llds: the measured load decides%s",
		    (long long)(half / 1000), why);
		return;
	}
	fit(st, now_ms - 2 * half, now_ms - half, &old);
	/* A trend is a rise on both sides (a step is flat on one of them),
	 * each significant against its residuals, and the whole rise beyond
	 * what the load's own swings reach: 2 sd of the change between two
	 * points (√2 × one point's sd), swings measured over the last
	 * FORECAST_SWING_SPANS windows. The smaller slope, carried on. */
	if (cfg->trend && old.n >= FORECAST_MIN_HALF && new.n >= FORECAST_MIN_HALF &&
	    old.rising && new.rising) {
		double sd = swing(st, now_ms, half, FORECAST_SWING_SPANS * 2 * half);

		slope = fmin(old.slope, new.slope);
		if (isnan(sd) || slope * 2 * (double)half / 1000.0 <= 2 * sqrt(2) * sd)
			slope = 0;
	}
	if (slope > 0) {
		double pred = new.vmean + slope * ((double)cfg->horizon_ms / 1000.0 - new.tmean);

		add_trial(st, now_ms, nth_newest(st, 0)->value, pred);
		if (!trend_trusted(st)) {
			slope = 0;
			out->trend_benched = true;
		}
	}
	/* The level is the recent mean, which stands for the load at its
	 * centre, tmean s ago (a smoothed value lags by half its window): both
	 * parts carry it from there to the horizon. */
	out->level = new.vmean;
	out->trend_add = slope * ((double)cfg->horizon_ms / 1000.0 - new.tmean);
	if (out->season == FORECAST_SEASON_DAILY || out->season == FORECAST_SEASON_WEEKLY) {
		bool weekly = out->season == FORECAST_SEASON_WEEKLY;
		int64_t t_level = now_ms + (int64_t)(new.tmean * 1000);
		int64_t t_ahead = now_ms + cfg->horizon_ms;

		/* The profile's change from the level's time to the horizon, at
		 * today's level: on the smoothed, interpolated profile (a smooth
		 * daily swing), and on the raw buckets the two times fall in (a
		 * jump that recurs at a bucket's start, cron or the hour, is then
		 * there in full, where smoothing and interpolation would show a
		 * part of it); the larger. */
		out->season_add = fmax(
		    season_rise(profile_time(cfg, st, t_level, weekly),
			profile_time(cfg, st, t_ahead, weekly), out->level),
		    season_rise(profile_raw(cfg, st, floor_div(t_level, cfg->step_ms), weekly),
			profile_raw(cfg, st, floor_div(t_ahead, cfg->step_ms), weekly), out->level));
	}
	add = fmax(out->trend_add, out->season_add);
	out->need = fmax(0, out->level + add);
	out->basis = add <= 0 ? FORECAST_LEVEL : out->season_add > out->trend_add ?
	    (out->season == FORECAST_SEASON_WEEKLY ? FORECAST_WEEKLY : FORECAST_DAILY) :
	    FORECAST_TREND;
	/* A long note is cut: it is for people, and the numbers come first. */
	if (snprintf(out->note, sizeof(out->note), "%.2f at +%llds: level %.2f%s%s%s",
	    out->need, (long long)(cfg->horizon_ms / 1000), out->level,
	    out->basis == FORECAST_TREND ? " + trend" : out->basis == FORECAST_DAILY ? " + daily" :
	    out->basis == FORECAST_WEEKLY ? " + weekly" : "",
	    out->trend_benched ? "; trend benched: its last forecasts did no better than none" : "",
	    why) >= (int)sizeof(out->note))
		return;
}
