/* policy/forecast.h: a forecast of the load, in instances at the target, a
 * horizon ahead (a boot time plus the metric pipeline's delay), from two
 * parts:
 *  - a seasonal profile at a coarse step (5 min) over up to 14 days: the
 *    median of the same time of day over past days (or the mean of the
 *    same time of week over past weeks), its change over the horizon
 *    scaled by the current level's ratio to the profile; used only while
 *    it predicts the load's change better than "no change" on the last
 *    day it has not seen (out of sample), and only with at least a day
 *    plus the horizon of history;
 *  - a short-term trend: least-squares slopes over the two halves of a
 *    window of twice the horizon; a slope counts only when both halves
 *    rise significantly against their own residual noise (a t-test) and
 *    the whole rise exceeds twice the spread of the load's own swings over
 *    such a window; the smaller slope is carried forward, so a step (flat
 *    on one side) or noise adds nothing. Each time it fires, its forecast
 *    is scored a horizon later against "no change"; while its last
 *    FORECAST_TRIALS forecasts did no better (bursts that revert), it is
 *    left out.
 *  - optionally (headroom_quantile > 0), headroom for the rises the load
 *    has lately taken over one horizon (policy/headroom.h): the last need
 *    times the quantile of its recent rises.
 * The result only ever adds capacity: need = smoothed level + the largest
 * of the parts' rises from the level's centre to the horizon, never below
 * the level; the target policy uses it for scale-out only. Pure: no I/O,
 * no clock (the caller passes times, in ms on one clock of its choice:
 * wall clock for the controller, so the time of day means something;
 * simulated time in `poolscale simulate`). State is fixed-size; the trend
 * sees at most the last FORECAST_RECENT live points. Code: forecast.c
 * (buckets, the result), forecast_season.c, forecast_trend.c. Not here:
 * fetching history (controller/forecast.c), how the policy uses the need
 * (policy/target.c). */
#ifndef POOLSCALE_POLICY_FORECAST_H
#define POOLSCALE_POLICY_FORECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/headroom.h"

#define FORECAST_DAY_MS 86400000LL
#define FORECAST_WEEK_MS (7 * FORECAST_DAY_MS)
#define FORECAST_MAX_DAYS 14
#define FORECAST_MIN_STEP_MS 300000LL	/* the profile's finest step: 5 min */
#define FORECAST_BUCKETS (FORECAST_MAX_DAYS * FORECAST_DAY_MS / FORECAST_MIN_STEP_MS)
#define FORECAST_RECENT 1024		/* live points kept for the trend */
#define FORECAST_TRIALS 32		/* the trend's recent forecasts it is judged on */
#define FORECAST_MAX_HORIZON_MS (6 * 3600000LL)

struct forecast_cfg {
	bool enabled;
	int64_t horizon_ms;	/* how far ahead; > 0 (callers fill the default) */
	int64_t step_ms;	/* the seasonal profile's step; divides a day, >= 5 min */
	int history_days;	/* 1..14: older buckets are forgotten */
	bool seasonality;	/* the seasonal part */
	bool trend;		/* the short-term trend */
	double headroom_quantile;	/* of the load's rises over a horizon to cover; 0: off */
	int64_t headroom_memory_ms;	/* how fast the rises are forgotten */
};

/* Defaults: off, 5 min step, 14 days, both parts; horizon 0 (the caller's). */
void forecast_cfg_default(struct forecast_cfg *cfg);

enum forecast_basis {
	FORECAST_NONE = 0,	/* nothing measured yet: NaN, the policy uses the measured load */
	FORECAST_LEVEL,		/* the smoothed level: neither part adds */
	FORECAST_TREND,		/* the level plus the trend's rise */
	FORECAST_DAILY,		/* the level plus the daily profile's rise */
	FORECAST_WEEKLY,	/* the level plus the weekly profile's rise */
	FORECAST_HEADROOM,	/* the last need sized for its recent rises (headroom.h) */
};

const char *forecast_basis_name(enum forecast_basis b);

/* Why the seasonal part is off or on, for logs and the status. */
enum forecast_season {
	FORECAST_SEASON_OFF = 0,	/* disabled in the config */
	FORECAST_SEASON_SHORT,		/* less than a day plus the horizon of history */
	FORECAST_SEASON_UNTESTED,	/* a profile, but too few past points to test it */
	FORECAST_SEASON_WEAK,		/* tested: no better than "no change" */
	FORECAST_SEASON_DAILY,
	FORECAST_SEASON_WEEKLY,
};

const char *forecast_season_name(enum forecast_season s);

struct forecast_out {
	double need;		/* instances needed at now + horizon; NaN: none */
	double level;		/* the mean of the last half window (its centre lags) */
	double trend_add;	/* the trend's rise over the horizon (>= 0) */
	double season_add;	/* the profile's rise over the horizon (>= 0) */
	double headroom_add;	/* the last need × the headroom factor, over the level (>= 0) */
	double headroom_factor;	/* 1 when off or without enough rises */
	enum forecast_basis basis;
	enum forecast_season season;
	bool trend_benched;	/* the trend fired but its record keeps it out */
	double history_s;	/* span of the history held */
	char note[160];		/* one line: what it used, or why not */
};

struct forecast_point {
	int64_t t_ms;
	double value;
};

struct forecast_bucket {
	int64_t key;		/* t / step; the slot holds this bucket only */
	double sum;
	uint32_t n;
	uint32_t gen;		/* 0: live points; else the history load that wrote it */
};

/* A bucket's raw profile, computed once: it reads only buckets a day (or
 * a week) older, complete by the time anyone asks for it. */
struct forecast_prof {
	int64_t key;
	uint32_t gen;		/* the state's prof_gen when computed */
	uint8_t done;		/* bit 0: daily, bit 1: weekly */
	double v[2];
};

/* A trend forecast waiting for its horizon to pass, to be scored. */
struct forecast_trial {
	int64_t t_ms;
	double base;		/* the measurement then: "no change" */
	double pred;		/* what the trend said */
};

struct forecast_state {
	int64_t step_ms;	/* the step the buckets were made with */
	struct forecast_bucket b[FORECAST_BUCKETS];
	struct forecast_prof prof[FORECAST_BUCKETS];
	uint32_t prof_gen;	/* bumped when past buckets change (a history load) */
	int64_t first_ms, last_ms;	/* span of the data held; first > last: none */
	uint32_t gen;
	/* the live points, a ring, oldest at (head - n) */
	struct forecast_point recent[FORECAST_RECENT];
	size_t head, n;
	/* the trend's own record: its forecasts still waiting (a FIFO), and
	 * the squared errors of the last FORECAST_TRIALS scored, [trend, none] */
	struct forecast_trial trials[FORECAST_TRIALS];
	size_t trial_head, ntrials;
	double trial_err[FORECAST_TRIALS][2];
	size_t err_head, nerr;
	/* the out-of-sample test of the profiles, redone once per bucket */
	int64_t tested_key;
	enum forecast_season tested;
	double skill[2];	/* daily, weekly: 1 - SSE/SSE of "no change" */
	int pairs[2];
	/* the headroom part: the rises of the live points over a horizon */
	struct headroom_state hr;
	double last;		/* the last live point */
};

/* The state is large (~230 KB): allocate it. */
void forecast_init(struct forecast_state *st);
/* One live measurement (the policy's measured need); non-finite ones are
 * ignored. Times should not go backwards. */
void forecast_observe(const struct forecast_cfg *cfg, struct forecast_state *st, int64_t t_ms,
    double value);
/* Past measurements (from Prometheus), oldest first: they fill buckets that
 * hold no live point; a later load replaces what an earlier one wrote. */
void forecast_seed(const struct forecast_cfg *cfg, struct forecast_state *st,
    const struct forecast_point *p, size_t n);
/* The forecast for now_ms + cfg->horizon_ms. */
void forecast_predict(const struct forecast_cfg *cfg, struct forecast_state *st, int64_t now_ms,
    struct forecast_out *out);

#endif
