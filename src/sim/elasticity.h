/* sim/elasticity.h: scores a supply curve (instances a policy provided)
 * against a demand curve (instances needed) with the SPEC Research Group's
 * elasticity metrics, as ../shared/reference/elasticity-metrics.md defines
 * them: provisioning accuracy θU/θO, wrong-provisioning timeshare τU/τO,
 * instability υ, jitter, and their aggregates (elastic speedup ε4/ε5 against
 * a baseline, deviation σ). Pure. Not here: how demand and supply are made
 * (the simulator), SLO violations (from the latency model). */
#ifndef POOLSCALE_ELASTICITY_H
#define POOLSCALE_ELASTICITY_H

#include <stddef.h>

struct elasticity {
	double theta_u, theta_o;	/* %, missing / superfluous relative to demand */
	double tau_u, tau_o;		/* %, share of time under / over */
	double upsilon;			/* %, share of steps moving unlike demand */
	double jitter_per_s;		/* (supply changes - demand changes) / duration */
	double supply_s;		/* instance-seconds supplied (accounted) */
	double demand_s;		/* instance-seconds demanded */
	unsigned adaptations, ups, downs;	/* supply changes, by direction */
};

/* d and s hold n samples dt_s apart; every d[i] must be > 0. 0, or -1
 * when n is 0, dt_s is not positive or some d[i] is not. */
int elasticity_score(const double *d, const double *s, size_t n, double dt_s,
    struct elasticity *out);

/* Metrics at or below this floor (in %) count as it in the ratios below,
 * so a perfect 0 cannot make a ratio infinite (the papers do not say). */
#define ELASTICITY_FLOOR 0.01

/* Elastic speedup of cand over base: the geometric mean of base/cand over
 * θU, θO, τU, τO (ε4) and also υ (ε5). Above 1: cand is more elastic. */
double elasticity_speedup4(const struct elasticity *base, const struct elasticity *cand);
double elasticity_speedup5(const struct elasticity *base, const struct elasticity *cand);
/* Distance to an ideal scaler: sqrt(θU² + θO² + τU² + τO² + υ²). */
double elasticity_deviation(const struct elasticity *m);

#endif
