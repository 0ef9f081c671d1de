#include "policy/target.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void policy_target_init(struct target_state *st)
{
	st->nrecs = 0;
	st->nchanges = 0;
	st->nloads = 0;
}

static void push(struct target_point *v, size_t *n, int64_t at, int value)
{
	if (*n == TARGET_HISTORY) {
		memmove(v, v + 1, (TARGET_HISTORY - 1) * sizeof(*v));
		(*n)--;
	}
	v[(*n)++] = (struct target_point){ at, value };
}

/* Drops points older than window; a window of 0 keeps nothing. */
static void prune(struct target_point *v, size_t *n, int64_t now, int64_t window)
{
	size_t i = 0;

	while (i < *n && v[i].at_ms <= now - window)
		i++;
	memmove(v, v + i, (*n - i) * sizeof(*v));
	*n -= i;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* The ratio of load to target over the members that count, with HPA's
 * fill-in for members without a sample. false when no sample is usable. */
static bool load_ratio(const struct target_cfg *cfg, const struct policy_obs *obs,
    double *ratio, double *mean, int *ready, int *missing, int *warming)
{
	double sum = 0;
	int with = 0;

	*ready = *missing = *warming = 0;
	for (size_t i = 0; i < obs->nsamples; i++) {
		const struct policy_sample *s = &obs->samples[i];

		if (s->warming) {
			(*warming)++;
			continue;
		}
		(*ready)++;
		if (s->has_value && isfinite(s->value)) {
			sum += s->value;
			with++;
		} else {
			(*missing)++;
		}
	}
	if (with == 0)
		return false;
	*mean = sum / with;
	*ratio = *mean / cfg->target;
	if (*missing > 0) {
		/* Scaling out, a silent member may be idle (0); scaling in, it may
		 * be busy (at target): the assumption that moves the pool less. */
		sum += *ratio > 1 ? 0 : cfg->target * *missing;
		*mean = sum / *ready;
		*ratio = *mean / cfg->target;
	}
	return true;
}

void policy_target_decide(const struct target_cfg *cfg, struct target_state *st,
    const struct policy_obs *obs, int64_t now_ms, struct policy_decision *out)
{
	int cur = obs->current, rec, want, ready, missing, warming;
	double ratio = 0, mean = NAN, need;
	bool within;
	char why[96] = "";

	out->held = false;
	out->metric = NAN;
	prune(st->recs, &st->nrecs, now_ms, cfg->stabilization_ms);
	prune(st->changes, &st->nchanges, now_ms, max64(cfg->up_period_ms, cfg->down_period_ms));
	if (!obs->metrics_ok || !load_ratio(cfg, obs, &ratio, &mean, &ready, &missing, &warming)) {
		/* Fail-safe: empty is never zero. Only the bounds may move us. */
		bool all_warming = obs->metrics_ok && ready == 0 && warming > 0;

		want = cur < obs->min ? obs->min : cur > obs->max ? obs->max : cur;
		out->desired = out->recommendation = want;
		out->dir = want > cur ? POLICY_UP : want < cur ? POLICY_DOWN : POLICY_HOLD;
		out->held = !all_warming;
		snprintf(out->reason, sizeof(out->reason), "hold at %d: %s", want,
		    !obs->metrics_ok ? (obs->metrics_error ? obs->metrics_error : "no metrics") :
		    all_warming ? "every member is warming up" : "no member reported a value");
		return;
	}
	out->metric = mean;
	/* The load in instances at the target, against the whole pool:
	 * warming members are capacity already on its way, so a load
	 * that the pool will carry within the tolerance changes nothing. */
	need = (double)ready * ratio;
	within = fabs(1 - ratio) <= cfg->tolerance ||
	    (cur > 0 && fabs(1 - need / cur) <= cfg->tolerance);
	if (within)
		rec = cur;
	else
		rec = (int)ceil(need - 1e-9);
	if (cfg->predict_ms > 0) {
		double load = need, ahead;

		prune(st->loads, &st->nloads, now_ms, cfg->trend_ms);
		ahead = load;
		if (st->nloads > 0 && now_ms > st->loads[0].at_ms) {
			double slope = (load - st->loads[0].value / 1000.0) /
			    (double)(now_ms - st->loads[0].at_ms);

			if (slope > 0)
				ahead = load + slope * (double)cfg->predict_ms;
		}
		/* milli-instances; clamped so a huge load cannot overflow */
		push(st->loads, &st->nloads, now_ms, load < 2e6 ? (int)(load * 1000) : 2000000000);
		if (ahead > load && ahead > (double)cur * (1 + cfg->tolerance)) {
			int pred = (int)ceil(ahead - 1e-9);

			if (pred > rec) {
				rec = pred;
				snprintf(why, sizeof(why), ", %.2f instances predicted", ahead);
			}
		}
	}
	if (rec < 0)
		rec = 0;
	out->recommendation = rec;
	push(st->recs, &st->nrecs, now_ms, rec);
	want = rec;
	if (want < cur) {
		/* Scale in only as far as the highest recommendation in the window,
		 * and not while members warm up (their load is not seen yet). */
		for (size_t i = 0; i < st->nrecs; i++)
			if (st->recs[i].value > want)
				want = st->recs[i].value;
		if (want > cur)
			want = cur;
		if (warming > 0 && want < cur) {
			want = cur;
			snprintf(why, sizeof(why), ", scale-in waits for %d warming", warming);
		} else if (want > rec) {
			snprintf(why, sizeof(why), ", stabilized at %d", want);
		}
	}
	if (want > cur && cfg->up_limit > 0) {
		int added = 0;

		for (size_t i = 0; i < st->nchanges; i++)
			if (st->changes[i].value > 0 && st->changes[i].at_ms > now_ms - cfg->up_period_ms)
				added += st->changes[i].value;
		if (want > cur + cfg->up_limit - added) {
			want = cur + cfg->up_limit - added;
			if (want < cur)
				want = cur;
			snprintf(why, sizeof(why), ", limited to +%d per %llds", cfg->up_limit,
			    (long long)(cfg->up_period_ms / 1000));
		}
	}
	if (want < cur && cfg->down_limit > 0) {
		int removed = 0;

		for (size_t i = 0; i < st->nchanges; i++)
			if (st->changes[i].value < 0 &&
			    st->changes[i].at_ms > now_ms - cfg->down_period_ms)
				removed -= st->changes[i].value;
		if (want < cur - (cfg->down_limit - removed)) {
			want = cur - (cfg->down_limit - removed);
			if (want > cur)
				want = cur;
			snprintf(why, sizeof(why), ", limited to -%d per %llds", cfg->down_limit,
			    (long long)(cfg->down_period_ms / 1000));
		}
	}
	if (want > obs->max)
		want = obs->max;
	if (want < obs->min)
		want = obs->min;
	if (want != cur)
		push(st->changes, &st->nchanges, now_ms, want - cur);
	out->desired = want;
	out->dir = want > cur ? POLICY_UP : want < cur ? POLICY_DOWN : POLICY_HOLD;
	snprintf(out->reason, sizeof(out->reason),
	    "mean %.3f vs target %.3f over %d ready (%d missing, %d warming): %d -> %d%s",
	    mean, cfg->target, ready, missing, warming, cur, want,
	    within && rec == cur ? " (within tolerance)" : why);
}
