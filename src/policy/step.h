/* policy/step.h: the seeds' webhook step policy. Up and down signals
 * (webhooks, or Prometheus alerts through Alertmanager) are latched by the
 * caller; each decision applies at most one step of `step` within
 * [min, max], up winning over down. Any number of signals between two
 * decisions make one step. The base is the desired size, so booting members
 * count as capacity and repeated /up during a slow boot never stacks. */
#ifndef POOLSCALE_POLICY_STEP_H
#define POOLSCALE_POLICY_STEP_H

#include "policy/policy.h"

struct step_cfg {
	int step;		/* instances per step (default 1) */
};

void policy_step_decide(const struct step_cfg *cfg, const struct policy_obs *obs,
    struct policy_decision *out);

#endif
