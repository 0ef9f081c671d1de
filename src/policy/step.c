#include "policy/step.h"

#include <math.h>
#include <stdio.h>

const char *policy_dir_name(enum policy_dir d)
{
	switch (d) {
	case POLICY_UP: return "up";
	case POLICY_DOWN: return "down";
	default: return "hold";
	}
}

void policy_step_latch_signal(struct step_latch *l, bool up, bool down)
{
	l->up = l->up || up;
	l->down = l->down || down;
}

void policy_step_decide_latched(const struct step_cfg *cfg, struct step_latch *l,
    struct policy_obs *obs, struct policy_decision *out)
{
	obs->up = l->up;
	obs->down = l->down;
	l->up = l->down = false;
	policy_step_decide(cfg, obs, out);
}

void policy_step_decide(const struct step_cfg *cfg, const struct policy_obs *obs,
    struct policy_decision *out)
{
	int cur = obs->current, want = cur;

	out->held = false;
	out->metric = NAN;
	if (obs->up) {
		want = cur + cfg->step;
		if (want > obs->max)
			want = obs->max;
	} else if (obs->down) {
		want = cur - cfg->step;
		if (want < obs->min)
			want = obs->min;
	}
	/* A size outside the bounds (they changed) comes back inside. */
	if (want > obs->max)
		want = obs->max;
	if (want < obs->min)
		want = obs->min;
	out->desired = out->recommendation = want;
	out->dir = want > cur ? POLICY_UP : want < cur ? POLICY_DOWN : POLICY_HOLD;
	if (obs->up)
		snprintf(out->reason, sizeof(out->reason), "up signal%s: %d -> %d%s",
		    obs->down ? " (wins over down)" : "", cur, want,
		    want == cur ? " (at max)" : "");
	else if (obs->down)
		snprintf(out->reason, sizeof(out->reason), "down signal: %d -> %d%s", cur, want,
		    want == cur ? " (at min)" : "");
	else
		snprintf(out->reason, sizeof(out->reason), "no signal: stay at %d", want);
}
