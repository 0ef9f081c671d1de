/* policy/target.h: target tracking, with the semantics of AWS target
 * tracking and the Kubernetes HPA and every knob exposed. Up to
 * POLICY_MAX_METRICS metrics, each of one of two kinds:
 *  - average: the mean of the members' samples, leaving out warming
 *    members (they count as capacity, not load), against a per-member
 *    value: need = ready × mean / value (HPA's Resource/Pods metrics, AWS's
 *    CPU target); members without a sample count as 0 when scaling out and
 *    as the value when scaling in (HPA's conservative rule);
 *  - total: the sum of the samples over every member that counts, warming
 *    ones included (what reaches a warming member is demand too), against
 *    what one instance should carry: need = sum / value (HPA's External
 *    metric with AverageValue, AWS's ALBRequestCountPerTarget). A metric
 *    that does not saturate (requests received) asks for 5× the pool when
 *    5× its capacity arrives, in one decision. A member without a sample
 *    counts as 0 scaling out and as the value scaling in.
 *  - backlog: requests queued in the pool add backlog / (value × drain) to
 *    the first total metric's need, so the queue drains within `drain`.
 *    A pool at 0 with no member has a known total of 0: a backlog (the
 *    requests `poolscale lb --hold-when-empty` holds) starts it (min 0).
 * Per metric: no change inside the tolerance band, else ceil(need). The
 * recommendation is the largest over the metrics whose query worked (HPA);
 * when one failed, no scale-in; when all failed, hold (fail-safe).
 * Then: scale out at once; scale in only to the highest recommendation of
 * the stabilization window, never while a member warms up (AWS); optional
 * limits on instances added or removed per period; clamped to [min, max].
 * A forecast (obs->forecast_need, from policy/forecast.h) only adds: it
 * raises the size when it asks for more than the pool has, and a scale-in
 * stops at its level; the window keeps the measured recommendations only,
 * so a forecast that has passed never holds a scale-in back. */
#ifndef POOLSCALE_POLICY_TARGET_H
#define POOLSCALE_POLICY_TARGET_H

#include "policy/policy.h"

#define TARGET_HISTORY 4096

struct target_metric {
	enum policy_metric_kind kind;
	double value;			/* per member (average) or per instance (total) */
};

struct target_cfg {
	/* The metrics, in the order of obs->metrics. nmetrics 0: one average
	 * metric of value `target` (the one-metric shorthand). */
	struct target_metric metrics[POLICY_MAX_METRICS];
	size_t nmetrics;
	double target;			/* metrics[0].value: the aws/hpa peers read it */
	int64_t backlog_drain_ms;	/* drain a backlog within this; 0: backlog ignored */
	double tolerance;		/* relative band: 0.1 = ±10% (HPA) */
	int64_t stabilization_ms;	/* scale-in window (300 s) */
	int up_limit;			/* instances added per up_period_ms; 0: none */
	int64_t up_period_ms;
	int down_limit;			/* instances removed per down_period_ms; 0: none */
	int64_t down_period_ms;
};

struct target_point {
	int64_t at_ms;
	int value;
};

struct target_state {
	/* recent measured recommendations (stabilization) and applied changes
	 * (limits), oldest first; the oldest are dropped beyond TARGET_HISTORY */
	struct target_point recs[TARGET_HISTORY];
	size_t nrecs;
	struct target_point changes[TARGET_HISTORY];
	size_t nchanges;
};

void policy_target_init(struct target_state *st);
/* Decides and records the decision in st as applied. */
void policy_target_decide(const struct target_cfg *cfg, struct target_state *st,
    const struct policy_obs *obs, int64_t now_ms, struct policy_decision *out);

#endif
