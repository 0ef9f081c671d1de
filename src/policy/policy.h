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

#define POLICY_MAX_METRICS 4

/* How target tracking turns a metric's samples into instances (see
 * policy/target.h): the mean over the ready members against a per-member
 * value, or the pool's total against what one instance should carry. */
enum policy_metric_kind { POLICY_METRIC_AVERAGE = 0, POLICY_METRIC_TOTAL };

/* One metric's observation: one sample per member that counts, in the same
 * member order for every metric. */
struct policy_metric_obs {
	bool ok;			/* the query worked */
	const char *error;		/* why not, when !ok */
	const struct policy_sample *samples;
	size_t nsamples;
};

struct policy_obs {
	int current;		/* the desired size now (booting members included) */
	int min, max;
	/* step: signals received since the last decision */
	bool up, down;
	/* target: one observation per configured metric, members that count
	 * (pending and running, not draining); the aws and hpa peers read
	 * metrics[0] */
	struct policy_metric_obs metrics[POLICY_MAX_METRICS];
	size_t nmetrics;
	double backlog;		/* requests queued in the pool now; NaN: unknown or not configured */
	double forecast_need;	/* instances the forecast says the pool needs at now + horizon; NaN: none */
	const char *forecast_note;	/* short why, for the reason text; may be NULL */
};

struct policy_decision {
	int desired;
	enum policy_dir dir;
	bool held;		/* a fail-safe hold: metrics missing */
	double metric;		/* the value the decision used (NaN when none) */
	int recommendation;	/* before stabilization and limits */
	/* The measured load in instances at the target, before the forecast
	 * and the limits: the largest over the metrics, backlog included,
	 * without the fill-in for members that sent no sample (an assumption,
	 * not a measurement: fed to the forecaster, the new members of its
	 * own scale-out would raise it); NaN when none. */
	double need;
	/* target: each metric's measured value (mean or total) in the order
	 * of obs->metrics, NaN when unknown; metric is the one that decided */
	double metric_values[POLICY_MAX_METRICS];
	char reason[192];
};

#endif
