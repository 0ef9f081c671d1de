/* policy/headroom.h: capacity for how fast the load has been rising. The
 * measured need (instances at the target) is sized up by the q-quantile of
 * its relative rise over one lead time (from a decision to a new instance
 * serving: boot plus the metric pipeline), learned from the need's own
 * recent history with exponential forgetting. In a calm period the factor
 * is 1 and the pool runs at its target; where the load has lately been
 * climbing 30% per lead time, new capacity is sized for 30% more, which is
 * what the load will be when that capacity serves. Nothing here is fitted
 * to a trace: the lead time comes from the config, the rise distribution
 * from the load itself. Pure: no clock, no I/O.
 * Not here: seasonality and trends (policy/forecast.h), how the factor is
 * applied (the caller; scale-out only). */
#ifndef POOLSCALE_POLICY_HEADROOM_H
#define POOLSCALE_POLICY_HEADROOM_H

#include <stddef.h>
#include <stdint.h>

#define HEADROOM_BINS 128	/* log-rise bins over [0, ln HEADROOM_MAX_FACTOR] */
#define HEADROOM_RING 512	/* past needs kept to find the one a lead time ago */
#define HEADROOM_MAX_FACTOR 8.0

struct headroom_cfg {
	int64_t lead_ms;	/* decision to serving: boot + pipeline */
	double quantile;	/* of the rises to cover, e.g. 0.9 */
	int64_t memory_ms;	/* time constant of the forgetting, e.g. 6 h */
};

struct headroom_point {
	int64_t at_ms;
	double need;
};

struct headroom_state {
	struct headroom_point ring[HEADROOM_RING];	/* oldest at head */
	size_t head, n;
	double w[HEADROOM_BINS];	/* decayed weight of rises per bin; bin 0: no rise */
	double wsum;
	int64_t last_ms;		/* of the last observation; -1: none */
	size_t nrises;			/* rises recorded, to know when to trust w */
};

void headroom_init(struct headroom_state *st);
/* One measured need (instances, >= 0; NaN is ignored) at now_ms, in
 * increasing time. */
void headroom_observe(const struct headroom_cfg *cfg, struct headroom_state *st,
    int64_t now_ms, double need);
/* The factor (1 .. HEADROOM_MAX_FACTOR) to size new capacity by; 1 until
 * the history holds enough rises to estimate the quantile. */
double headroom_factor(const struct headroom_cfg *cfg, const struct headroom_state *st);

#endif
