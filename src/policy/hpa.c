#include "policy/hpa.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void policy_hpa_defaults(struct hpa_cfg *cfg, double target)
{
	*cfg = (struct hpa_cfg){
		.target = target,
		.tolerance = 0.1,
		.up_stabilization_ms = 0,
		.down_stabilization_ms = 300000,
		.up_pods = 4,
		.up_percent = 100,
		.up_period_ms = 15000,
		.down_percent = 100,
		.down_period_ms = 15000,
	};
}

void policy_hpa_init(struct hpa_state *st)
{
	st->nrecs = 0;
	st->nevents = 0;
}

/* Stores (now, value) over an entry from before cutoff_ms, as the HPA reuses
 * an outdated slot, else appends; when full, over the oldest entry. */
static void store(int64_t *at, int *val, size_t *n, int64_t cutoff_ms, int64_t now_ms,
    int value)
{
	size_t slot = *n, oldest = 0;

	for (size_t i = 0; i < *n; i++) {
		if (at[i] < cutoff_ms)
			slot = i;
		if (at[i] < at[oldest])
			oldest = i;
	}
	if (slot == *n) {
		if (*n == HPA_HISTORY)
			slot = oldest;
		else
			(*n)++;
	}
	at[slot] = now_ms;
	val[slot] = value;
}

/* What GetResourceReplicas saw, for the reason. */
struct calc {
	int ready, missing, ignored;
	int util_pct, target_pct;	/* of the ready pods' requests */
	double ratio;
	bool filled;			/* the conservative fill-in ran */
	int pods;			/* pods in the final calculation */
	int new_util_pct;
};

/* Whole percent, as GetResourceUtilizationRatio: the sum of usage over the
 * sum of requests in milli-units, truncated; each pod requests 1000m. */
static int util_pct(int64_t usage_milli, int pods)
{
	return (int)(usage_milli * 100 / ((int64_t)pods * 1000));
}

/* Tolerances.isWithin: both edges inside, so 55 % against 50 % holds. */
static bool within_tolerance(const struct hpa_cfg *cfg, double ratio)
{
	return 1.0 - cfg->tolerance <= ratio && ratio <= 1.0 + cfg->tolerance;
}

/* GetResourceReplicas for CPU utilisation. false: no usable metric, the
 * HPA's "did not receive metrics for any ready pods" (or no pods). */
static bool resource_replicas(const struct hpa_cfg *cfg, const struct policy_obs *obs,
    struct calc *c, int *proposal)
{
	int cur = obs->current, n;
	int64_t usage = 0;
	double new_ratio;
	bool up_with_ignored;

	*c = (struct calc){ .target_pct = (int)lround(cfg->target * 100) };
	if (c->target_pct < 1)
		c->target_pct = 1;
	for (size_t i = 0; i < obs->metrics[0].nsamples; i++) {
		const struct policy_sample *s = &obs->metrics[0].samples[i];

		if (s->warming) {
			c->ignored++;
		} else if (!s->has_value || !isfinite(s->value)) {
			c->missing++;
		} else {
			c->ready++;
			usage += llround(fmax(s->value, 0) * 1000);
		}
	}
	if (!obs->metrics[0].ok || c->ready == 0)
		return false;
	c->util_pct = util_pct(usage, c->ready);
	c->ratio = (double)c->util_pct / c->target_pct;
	c->pods = c->ready;
	up_with_ignored = c->ignored > 0 && c->ratio > 1.0;
	if (!up_with_ignored && c->missing == 0) {
		*proposal = within_tolerance(cfg, c->ratio) ? cur : (int)ceil(c->ratio * c->ready);
		return true;
	}
	/* Assume what moves the pool least: a missing pod is busy (100 % of its
	 * request, or the target when that is higher) when scaling down and idle
	 * when scaling up; an ignored pod is idle when scaling up. At a ratio of
	 * exactly 1 missing pods stay out. */
	if (c->missing > 0 && c->ratio < 1.0) {
		int64_t fallback_pct = c->target_pct > 100 ? c->target_pct : 100;

		usage += (int64_t)c->missing * 1000 * fallback_pct / 100;
		c->pods += c->missing;
	} else if (c->missing > 0 && c->ratio > 1.0) {
		c->pods += c->missing;
	}
	if (up_with_ignored)
		c->pods += c->ignored;
	c->filled = true;
	c->new_util_pct = util_pct(usage, c->pods);
	new_ratio = (double)c->new_util_pct / c->target_pct;
	if (within_tolerance(cfg, new_ratio) || (c->ratio < 1.0 && new_ratio > 1.0) ||
	    (c->ratio > 1.0 && new_ratio < 1.0)) {
		*proposal = cur;
		return true;
	}
	n = (int)ceil(new_ratio * c->pods);
	/* More pods than replicas (or fewer) can still turn the direction. */
	if ((new_ratio < 1.0 && n > cur) || (new_ratio > 1.0 && n < cur))
		n = cur;
	*proposal = n;
	return true;
}

/* stabilizeRecommendationWithBehaviors: the current size, raised to the
 * lowest recommendation of the scale-up window and lowered to the highest of
 * the scale-down window (each including this one), so a proposal below the
 * current size can never scale up (kubernetes/kubernetes#96671). Records the
 * proposal. */
static int stabilize(const struct hpa_cfg *cfg, struct hpa_state *st, int cur, int proposal,
    int64_t now_ms)
{
	int64_t up_cut = now_ms - cfg->up_stabilization_ms;
	int64_t down_cut = now_ms - cfg->down_stabilization_ms;
	int up = proposal, down = proposal, r = cur;

	for (size_t i = 0; i < st->nrecs; i++) {
		if (st->rec_at_ms[i] > up_cut && st->rec[i] < up)
			up = st->rec[i];
		if (st->rec_at_ms[i] > down_cut && st->rec[i] > down)
			down = st->rec[i];
	}
	if (r < up)
		r = up;
	if (r > down)
		r = down;
	store(st->rec_at_ms, st->rec, &st->nrecs, up_cut < down_cut ? up_cut : down_cut, now_ms,
	    proposal);
	return r;
}

/* The size at the start of the period after cutoff_ms: the current one
 * less what was added and plus what was removed in it (scale events of both
 * directions, as getReplicasChangePerPeriod counts them: an event exactly
 * one period old no longer counts). */
static int period_start(const struct hpa_state *st, int cur, int64_t cutoff_ms)
{
	for (size_t i = 0; i < st->nevents; i++)
		if (st->event_at_ms[i] > cutoff_ms)
			cur -= st->event[i];
	return cur;
}

/* calculateScaleUpLimitWithScalingRules with selectPolicy Max. */
static int up_limit(const struct hpa_cfg *cfg, const struct hpa_state *st, int cur, int64_t now_ms)
{
	int start = period_start(st, cur, now_ms - cfg->up_period_ms), limit = INT_MIN, p;

	if (cfg->up_pods <= 0 && cfg->up_percent <= 0)
		return cur;	/* Disabled */
	if (cfg->up_pods > 0 && start + cfg->up_pods > limit)
		limit = start + cfg->up_pods;
	if (cfg->up_percent > 0) {
		/* Rounded up, or a small pool could never grow. */
		p = (int)ceil((double)start * (1 + (double)cfg->up_percent / 100));
		if (p > limit)
			limit = p;
	}
	return limit;
}

/* calculateScaleDownLimitWithBehaviors with selectPolicy Max (the lowest
 * size wins); the percent is truncated, as the int32 conversion does. */
static int down_limit(const struct hpa_cfg *cfg, const struct hpa_state *st, int cur,
    int64_t now_ms)
{
	int start = period_start(st, cur, now_ms - cfg->down_period_ms);

	if (cfg->down_percent <= 0)
		return cur;	/* Disabled */
	return (int)((double)start * (1 - (double)cfg->down_percent / 100));
}

/* Sets the output and records a rescale as storeScaleEvent does, over an
 * event older than every policy period. */
static void apply(const struct hpa_cfg *cfg, struct hpa_state *st, int cur, int want,
    int64_t now_ms, struct policy_decision *out)
{
	int64_t longest = cfg->up_period_ms > cfg->down_period_ms ? cfg->up_period_ms :
	    cfg->down_period_ms;

	if (want != cur)
		store(st->event_at_ms, st->event, &st->nevents, now_ms - longest, now_ms,
		    want - cur);
	out->desired = want;
	out->dir = want > cur ? POLICY_UP : want < cur ? POLICY_DOWN : POLICY_HOLD;
}

void policy_hpa_decide(const struct hpa_cfg *cfg, struct hpa_state *st,
    const struct policy_obs *obs, int64_t now_ms, struct policy_decision *out)
{
	int cur = obs->current, proposal, stab, want, limit;
	struct calc c;
	char why[64] = "";

	out->held = false;
	out->metric = NAN;
	/* recordInitialRecommendation: a new HPA does not scale down for the
	 * first stabilization window. */
	if (st->nrecs == 0)
		store(st->rec_at_ms, st->rec, &st->nrecs, INT64_MIN, now_ms, cur);
	/* reconcileAutoscaler fixes the bounds before looking at any metric. */
	if (cur > obs->max || cur < obs->min) {
		want = cur > obs->max ? obs->max : obs->min;
		out->recommendation = want;
		apply(cfg, st, cur, want, now_ms, out);
		snprintf(out->reason, sizeof(out->reason), "current %d %s %d: %d -> %d", cur,
		    cur > obs->max ? "above max" : "below min", want, cur, want);
		return;
	}
	if (!resource_replicas(cfg, obs, &c, &proposal)) {
		/* No scaling, no recommendation recorded: the sync fails. */
		out->held = true;
		out->recommendation = cur;
		apply(cfg, st, cur, cur, now_ms, out);
		snprintf(out->reason, sizeof(out->reason),
		    "hold at %d: %s (%d missing, %d ignored)", cur,
		    !obs->metrics[0].ok ? (obs->metrics[0].error ? obs->metrics[0].error : "no metrics") :
		    obs->metrics[0].nsamples == 0 ? "no pods" : "no metrics for any ready pod",
		    c.missing, c.ignored);
		return;
	}
	out->metric = c.util_pct / 100.0;
	out->recommendation = proposal;
	stab = want = stabilize(cfg, st, cur, proposal, now_ms);
	if (stab != proposal)
		snprintf(why, sizeof(why), ", stabilized at %d", stab);
	if (stab > cur) {
		limit = up_limit(cfg, st, cur, now_ms);
		if (limit < cur)
			limit = cur;
		if (limit > obs->max)
			limit = obs->max;
		if (stab > limit) {
			want = limit;
			snprintf(why + strlen(why), sizeof(why) - strlen(why), ", %s %d",
			    limit == obs->max ? "max" : "scale-up limit", limit);
		}
	} else if (stab < cur) {
		limit = down_limit(cfg, st, cur, now_ms);
		if (limit > cur)
			limit = cur;
		if (limit < obs->min)
			limit = obs->min;
		if (stab < limit) {
			want = limit;
			snprintf(why + strlen(why), sizeof(why) - strlen(why), ", %s %d",
			    limit == obs->min ? "min" : "scale-down limit", limit);
		}
	}
	apply(cfg, st, cur, want, now_ms, out);
	if (c.filled)
		snprintf(out->reason, sizeof(out->reason),
		    "cpu %d%% vs %d%% over %d ready (%d missing, %d ignored; %d%% over %d with "
		    "fill-in): proposal %d%s: %d -> %d",
		    c.util_pct, c.target_pct, c.ready, c.missing, c.ignored, c.new_util_pct, c.pods,
		    proposal, why, cur, want);
	else
		snprintf(out->reason, sizeof(out->reason),
		    "cpu %d%% vs %d%% over %d ready (%d ignored): proposal %d%s%s: %d -> %d",
		    c.util_pct, c.target_pct, c.ready, c.ignored, proposal,
		    within_tolerance(cfg, c.ratio) ? " (within tolerance)" : "", why, cur, want);
}
