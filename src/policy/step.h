/* policy/step.h: the seeds' webhook step policy. Up and down signals
 * (webhooks, or Prometheus alerts through Alertmanager) are latched here
 * between decisions (the caller owns the latch); each decision applies at most one step of `step` within
 * [min, max], up winning over down. Any number of signals between two
 * decisions make one step. The base is the desired size, so booting members
 * count as capacity and repeated /up during a slow boot never stacks. */
#ifndef POOLSCALE_POLICY_STEP_H
#define POOLSCALE_POLICY_STEP_H

#include "policy/policy.h"

struct step_cfg {
	int step;		/* instances per step (default 1) */
};

/* The signals seen since the last decision: one bool each, however many. */
struct step_latch {
	bool up, down;
};

void policy_step_decide(const struct step_cfg *cfg, const struct policy_obs *obs,
    struct policy_decision *out);
/* Latches a signal (either or both may be false). */
void policy_step_latch_signal(struct step_latch *l, bool up, bool down);
/* Decides from the latched signals and clears them, so that each signal
 * makes one step at most. */
void policy_step_decide_latched(const struct step_cfg *cfg, struct step_latch *l,
    struct policy_obs *obs, struct policy_decision *out);

#endif
