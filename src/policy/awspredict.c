/* AWS predictive scaling with target tracking; see awspredict.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy/awspredict.h"

#define SLOTS (AWSP_HISTORY_H + 1)

static int64_t hour_of(int64_t t_ms)
{
	return t_ms >= 0 ? t_ms / AWSP_HOUR_MS : -((-t_ms + AWSP_HOUR_MS - 1) / AWSP_HOUR_MS);
}

static size_t slot_of(int64_t h)
{
	return (size_t)(((h % SLOTS) + SLOTS) % SLOTS);
}

void policy_awsp_init(struct awsp_state *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < SLOTS; i++)
		st->hour[i] = INT64_MIN;
	st->first_ms = -1;
	st->fc_from_h = -1;
	st->next_refresh_ms = INT64_MIN;
	for (size_t i = 0; i < AWSP_HORIZON_H; i++)
		st->fc[i] = NAN;
}

void policy_awsp_observe(struct awsp_state *st, double rate, int64_t span_ms, int64_t now_ms)
{
	int64_t h = hour_of(now_ms - 1);
	size_t i = slot_of(h);

	if (!(span_ms > 0) || !isfinite(rate))
		return;		/* a minute without the metric: nothing learned */
	if (st->first_ms == -1)
		st->first_ms = now_ms - span_ms;
	if (st->hour[i] != h) {
		st->hour[i] = h;
		st->sum[i] = 0;
		st->span_ms[i] = 0;
	}
	st->sum[i] += rate * (double)span_ms;
	st->span_ms[i] += (double)span_ms;
}

/* The mean load of complete hour h, NaN when not kept. */
static double hour_mean(const struct awsp_state *st, int64_t h)
{
	size_t i = slot_of(h);

	return st->hour[i] == h && st->span_ms[i] > 0 ? st->sum[i] / st->span_ms[i] : NAN;
}

/* From the history as it is at now: each of the next 48 hours, the mean of
 * the same hour of the day over the complete days kept (up to 14). */
static void refresh(struct awsp_state *st, int64_t now_ms)
{
	int64_t now_h = hour_of(now_ms);

	st->fc_from_h = now_h;
	for (int64_t k = 0; k < AWSP_HORIZON_H; k++) {
		int64_t h = now_h + k;
		double sum = 0;
		int n = 0;

		for (int64_t past = h - 24; past >= now_h - AWSP_HISTORY_H; past -= 24) {
			double v = past < now_h ? hour_mean(st, past) : NAN;

			if (!isnan(v)) {
				sum += v;
				n++;
			}
		}
		st->fc[k] = n > 0 ? sum / n : NAN;
	}
	st->next_refresh_ms = now_ms + AWSP_REFRESH_MS;
}

double policy_awsp_forecast(const struct awsp_state *st, int64_t t_ms)
{
	int64_t k = hour_of(t_ms) - st->fc_from_h;

	if (st->fc_from_h == -1 || k < 0 || k >= AWSP_HORIZON_H)
		return NAN;
	return st->fc[k];
}

int policy_awsp_capacity(const struct awsp_cfg *cfg, struct awsp_state *st, int min, int max,
    int64_t now_ms)
{
	double load, n;

	if (st->first_ms == -1 || now_ms - st->first_ms < AWSP_MIN_HISTORY_H * AWSP_HOUR_MS)
		return 0;	/* not a day of data yet: no forecast */
	if (now_ms >= st->next_refresh_ms)
		refresh(st, now_ms);
	load = policy_awsp_forecast(st, now_ms + cfg->buffer_ms);
	if (isnan(load) || !(cfg->per_instance > 0))
		return 0;
	n = ceil(load / cfg->per_instance - 1e-9);
	return n < min ? min : n > max ? max : (int)n;
}

void policy_awsp_decide(const struct awsp_cfg *cfg, struct awsp_state *st,
    const struct aws_cfg *aws, struct aws_state *as, const struct policy_obs *obs,
    int64_t now_ms, struct policy_decision *out)
{
	struct policy_obs o = *obs;
	int cap = policy_awsp_capacity(cfg, st, obs->min, obs->max, now_ms);
	char tt[sizeof(out->reason)];

	if (cap > o.min)
		o.min = cap;
	policy_aws_decide(aws, as, &o, now_ms, out);
	snprintf(tt, sizeof(tt), "%s", out->reason);
	if (cap > 0)
		snprintf(out->reason, sizeof(out->reason), "forecast %.4g -> min %d; %.140s",
		    policy_awsp_forecast(st, now_ms + cfg->buffer_ms), cap, tt);
	else
		snprintf(out->reason, sizeof(out->reason), "no forecast yet; %.160s", tt);
}
