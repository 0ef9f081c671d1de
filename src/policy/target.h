/* policy/target.h: target tracking, with the semantics of AWS target
 * tracking and the Kubernetes HPA and every knob exposed:
 *  - the mean of the members' samples, leaving out warming members (they
 *    count as capacity, not load), against a target value;
 *  - desired = ceil(ready × mean / target), no change inside the tolerance
 *    band; members without a sample count as 0 when scaling out and as the
 *    target when scaling in (HPA's conservative rule);
 *  - scale out at once; scale in only to the highest recommendation of the
 *    stabilization window, never while a member warms up (AWS), never
 *    without metrics (fail-safe: hold);
 *  - optional limits on instances added or removed per period;
 *  - clamped to [min, max]. */
#ifndef POOLSCALE_POLICY_TARGET_H
#define POOLSCALE_POLICY_TARGET_H

#include "policy/policy.h"

#define TARGET_HISTORY 4096

struct target_cfg {
	double target;			/* e.g. 0.5 of the vCPU allotment */
	double tolerance;		/* relative band: 0.1 = ±10% (HPA) */
	int64_t stabilization_ms;	/* scale-in window (300 s) */
	int up_limit;			/* instances added per up_period_ms; 0: none */
	int64_t up_period_ms;
	int down_limit;			/* instances removed per down_period_ms; 0: none */
	int64_t down_period_ms;
	int64_t predict_ms;		/* scale out for the load this far ahead; 0: off */
	int64_t trend_ms;		/* ... from the trend over this window */
};

struct target_point {
	int64_t at_ms;
	int value;
};

struct target_state {
	/* recent recommendations (stabilization) and applied changes (limits),
	 * oldest first; the oldest are dropped beyond TARGET_HISTORY */
	struct target_point recs[TARGET_HISTORY];
	size_t nrecs;
	struct target_point changes[TARGET_HISTORY];
	size_t nchanges;
	/* recent load estimates (mean × ready, in milli-instances), for the trend */
	struct target_point loads[TARGET_HISTORY];
	size_t nloads;
};

void policy_target_init(struct target_state *st);
/* Decides and records the decision in st as applied. */
void policy_target_decide(const struct target_cfg *cfg, struct target_state *st,
    const struct policy_obs *obs, int64_t now_ms, struct policy_decision *out);

#endif
