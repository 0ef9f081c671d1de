/* policy/policy.h: what a scaling policy sees and what it decides. A policy
 * is a pure function of (its config, its own state, an observation, now) to
 * a decision: no I/O, no clock, no globals, so the controller and
 * `poolscale simulate` run the very same code. Policies: policy/step.h (the
 * seeds' webhook step), policy/target.h (target tracking). */
#ifndef POOLSCALE_POLICY_H
#define POOLSCALE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum policy_dir {
	POLICY_HOLD = 0,
	POLICY_UP,
	POLICY_DOWN,
};

const char *policy_dir_name(enum policy_dir d);

/* One member's metric sample, for target tracking. */
struct policy_sample {
	bool has_value;		/* false: the query returned nothing for it */
	double value;
	bool warming;		/* younger than the warm-up: capacity, not load */
};

struct policy_obs {
	int current;		/* the desired size now (booting members included) */
	int min, max;
	/* step: signals received since the last decision */
	bool up, down;
	/* target: whether the metric query worked, and one sample per member
	 * that counts (pending and running, not draining) */
	bool metrics_ok;
	const char *metrics_error;	/* why not, when !metrics_ok */
	const struct policy_sample *samples;
	size_t nsamples;
};

struct policy_decision {
	int desired;
	enum policy_dir dir;
	bool held;		/* a fail-safe hold: metrics missing */
	double metric;		/* the value the decision used (NaN when none) */
	int recommendation;	/* before stabilization and limits */
	char reason[192];
};

#endif
