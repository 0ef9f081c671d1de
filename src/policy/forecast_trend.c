/* The forecaster's trend part: the two half-window fits, the load's own
 * swings, and the trend's record of its forecasts. See policy/forecast.h. */
#include "policy/forecast.h"
#include "policy/forecast_parts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const struct forecast_point *forecast_nth_newest(const struct forecast_state *st, size_t i)
{
	return &st->recent[(st->head + FORECAST_RECENT - 1 - i) % FORECAST_RECENT];
}

/* Least squares over the live points with t in (from, to], times in s
 * relative to `to`. */
void forecast_fit(const struct forecast_state *st, int64_t from, int64_t to,
    struct forecast_half *h)
{
	double sum_t = 0, sum_v = 0, sxx = 0, sxy = 0, sse = 0;
	size_t lo = 0, hi;

	memset(h, 0, sizeof(*h));
	while (lo < st->n && forecast_nth_newest(st, lo)->t_ms > to)
		lo++;
	for (hi = lo; hi < st->n && forecast_nth_newest(st, hi)->t_ms > from; hi++) {
		sum_t += (double)(forecast_nth_newest(st, hi)->t_ms - to) / 1000.0;
		sum_v += forecast_nth_newest(st, hi)->value;
	}
	h->n = (int)(hi - lo);
	if (h->n == 0)
		return;
	h->tmean = sum_t / h->n;
	h->vmean = sum_v / h->n;
	if (h->n < 3)
		return;
	for (size_t i = lo; i < hi; i++) {
		double x = (double)(forecast_nth_newest(st, i)->t_ms - to) / 1000.0 - h->tmean;

		sxx += x * x;
		sxy += x * (forecast_nth_newest(st, i)->value - h->vmean);
	}
	if (sxx <= 0)
		return;
	h->slope = sxy / sxx;
	for (size_t i = lo; i < hi; i++) {
		double x = (double)(forecast_nth_newest(st, i)->t_ms - to) / 1000.0 - h->tmean;
		double r = forecast_nth_newest(st, i)->value - h->vmean - h->slope * x;

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
	while (*j < st->n && forecast_nth_newest(st, *j)->t_ms > t)
		(*j)++;
	return *j < st->n ? forecast_nth_newest(st, *j)->value : NAN;
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
double forecast_swing(const struct forecast_state *st, int64_t now_ms, int64_t lag,
    int64_t baseline)
{
	static const double MAD_TO_SD = 1.4826;
	double d[FORECAST_RECENT];
	size_t n = 0, j1 = 0, j2 = 0;

	for (size_t i = 0; i < st->n; i++) {
		const struct forecast_point *p = forecast_nth_newest(st, i);
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
int64_t forecast_half_window(const struct forecast_cfg *cfg, const struct forecast_state *st)
{
	int64_t w = cfg->horizon_ms, gap;
	size_t k = st->n < 9 ? st->n : 9;

	if (k >= 2) {
		gap = (forecast_nth_newest(st, 0)->t_ms - forecast_nth_newest(st, k - 1)->t_ms) /
		    (int64_t)(k - 1);
		if (gap * FORECAST_MIN_HALF > w)
			w = gap * FORECAST_MIN_HALF;
	}
	return w;
}

/* Scores the trend's forecasts whose horizon has come. */
void forecast_score_trials(const struct forecast_cfg *cfg, struct forecast_state *st,
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
void forecast_add_trial(struct forecast_state *st, int64_t t_ms, double base, double pred)
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
bool forecast_trend_trusted(const struct forecast_state *st)
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

