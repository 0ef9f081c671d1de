/* policy/hpa.h: the Kubernetes Horizontal Pod Autoscaler with one resource
 * metric (CPU utilisation) and the default spec.behavior, as a peer for
 * `poolscale simulate`. Owns the HPA's recent recommendations and scale
 * events. Not here: which pods the HPA would ignore (the caller applies the
 * Pending / readiness / CPU-initialisation rules and marks them), the clock,
 * several metrics, the legacy path without spec.behavior. Faithful to
 * ../shared/reference/policies.md (c) and to kubernetes/kubernetes
 * pkg/controller/podautoscaler (current upstream):
 *  - GetResourceReplicas: utilisation of the ready pods in whole percent,
 *    no change within the tolerance, else ceil(ratio × ready); with missing
 *    pods (100 % of request, or the target if higher, scaling down; 0 %
 *    scaling up) or, scaling up, ignored pods (0 %), the ratio is
 *    recomputed over them too, and a result that flips direction or lands
 *    inside the tolerance gives no change;
 *  - reconcileAutoscaler: the first sync records the current size as a
 *    recommendation; current > max -> max and current < min -> min before
 *    any metric; no usable metric -> no scaling (held);
 *  - stabilizeRecommendationWithBehaviors: the current size clamped between
 *    the lowest recommendation of the scale-up window and the highest of the
 *    scale-down window (300 s);
 *  - convertDesiredReplicasWithBehaviorRate: scale-up limit max(+up_pods,
 *    +up_percent %) per up_period_ms, scale-down limit down_percent % per
 *    down_period_ms, both from the size at the start of the period (events
 *    of both directions in it), then [min, max];
 *  - every rescale is recorded as a scale event. */
#ifndef POOLSCALE_POLICY_HPA_H
#define POOLSCALE_POLICY_HPA_H

#include "policy/policy.h"

struct hpa_cfg {
	double target;			/* target utilisation of the request, 0.5 */
	double tolerance;		/* 0.1 */
	int64_t up_stabilization_ms;	/* 0 */
	int64_t down_stabilization_ms;	/* 300 s */
	/* Scaling policies, selectPolicy Max; a value of 0 drops that policy,
	 * and a direction with none left is Disabled. */
	int up_pods;			/* 4 */
	int up_percent;			/* 100 */
	int64_t up_period_ms;		/* 15 s, both scale-up policies */
	int down_percent;		/* 100 */
	int64_t down_period_ms;		/* 15 s */
};

/* Fills cfg with the controller's and autoscaling/v2's defaults. */
void policy_hpa_defaults(struct hpa_cfg *cfg, double target);

/* Entries kept per list. The HPA keeps one recommendation per sync within
 * the longer stabilization window and one scale event per rescale within
 * the longest policy period; at a 15 s sync that is about 21 and 2. Beyond
 * this the oldest entry is overwritten. */
#define HPA_HISTORY 1024

struct hpa_state {
	/* Each list pairs a time with a replica count; entries are reused once
	 * out of every window, never removed (empty = never decided). */
	int64_t rec_at_ms[HPA_HISTORY];
	int rec[HPA_HISTORY];		/* unstabilized recommendations */
	size_t nrecs;
	int64_t event_at_ms[HPA_HISTORY];
	int event[HPA_HISTORY];		/* rescales: + added, - removed */
	size_t nevents;
};

void policy_hpa_init(struct hpa_state *st);

/* Call every sync period (15 s). obs->current = spec.replicas;
 * obs->metrics[0].samples: one per pod, value = CPU usage as a fraction of the pod's request (all pods
 * request the same); sample.warming = the HPA would ignore it (Pending,
 * unready, or still initialising per its CPU-initialisation rules; the caller
 * decides that), whether or not it has a value; has_value=false = missing.
 * Records the decision in st as applied. out->held: no usable metric. */
void policy_hpa_decide(const struct hpa_cfg *cfg, struct hpa_state *st,
    const struct policy_obs *obs, int64_t now_ms, struct policy_decision *out);

#endif
