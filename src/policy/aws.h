/* policy/aws.h: AWS EC2 Auto Scaling target tracking (one policy) as a peer
 * for `poolscale simulate`. Owns the policy's one-minute datapoint history
 * and its scale-in cooldown. Not here: which members are warming up (the
 * caller marks them), the clock, several policies on one group, step and
 * simple scaling. Faithful to the "Decision function" of
 * ../shared/reference/policies.md (b):
 *  - one datapoint a minute: the mean of the members that are past their
 *    warm-up and reported, or NO DATA when none did;
 *  - AlarmHigh: the last high_points datapoints all present and > target;
 *    AlarmLow: the last low_points all present and < low_ratio × target;
 *    a NO DATA datapoint in an alarm's window leaves it INSUFFICIENT_DATA,
 *    and it does nothing (never scale without metrics);
 *  - scale out at once (no cooldown): ceil(counted × last / target) plus the
 *    members that did not count (warming: capacity, not metric), never below
 *    the current size;
 *  - scale in with floor(counted × last / target), never while a member has
 *    not counted (warm-up blocks scale-in), nor inside the scale-in cooldown,
 *    nor with disable_scale_in; a scale-out ends the cooldown (Application
 *    Auto Scaling guide, policies.md (b) point 6);
 *  - the result within [min, max]. */
#ifndef POOLSCALE_POLICY_AWS_H
#define POOLSCALE_POLICY_AWS_H

#include "policy/policy.h"

struct aws_cfg {
	double target;			/* e.g. 0.5: mean CPU utilisation fraction */
	double low_ratio;		/* AlarmLow threshold = low_ratio * target (0.9) */
	int high_points;		/* AlarmHigh: this many datapoints all > target (3) */
	int low_points;			/* AlarmLow: this many datapoints all < low (15) */
	int64_t scale_in_cooldown_ms;	/* 300 s */
	bool disable_scale_in;
};

/* Fills cfg with AWS's alarm shapes for the given target. */
void policy_aws_defaults(struct aws_cfg *cfg, double target);

/* Alarm windows longer than this are cut to it. */
#define AWS_MAX_POINTS 64

struct aws_state {
	double points[AWS_MAX_POINTS];	/* oldest first; NaN = NO DATA (INSUFFICIENT_DATA) */
	size_t npoints;			/* the oldest drop out beyond AWS_MAX_POINTS */
	int64_t scale_in_block_until_ms;	/* end of the scale-in cooldown */
};

void policy_aws_init(struct aws_state *st);

/* Call once per 1-minute datapoint. obs->metrics[0].samples: one per
 * member (pending and running); sample.warming = still inside its instance warm-up (counted in
 * capacity, not in the metric); has_value=false = no datapoint from it.
 * Pushes one datapoint (the mean of counted samples, or NO DATA when none or
 * when !obs->metrics[0].ok), then decides. out->held: nothing was done because
 * this minute has no datapoint, or because NO DATA keeps an alarm from firing
 * that the datapoints present would fire. */
void policy_aws_decide(const struct aws_cfg *cfg, struct aws_state *st,
    const struct policy_obs *obs, int64_t now_ms, struct policy_decision *out);

#endif
