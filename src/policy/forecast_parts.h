/* policy/forecast_parts.h: what the forecaster's three files share, for
 * them only: the buckets (forecast.c), the seasonal part
 * (forecast_season.c) and the trend part (forecast_trend.c). Callers use
 * policy/forecast.h. */
#ifndef POOLSCALE_POLICY_FORECAST_PARTS_H
#define POOLSCALE_POLICY_FORECAST_PARTS_H

#include "policy/forecast.h"

/* The fewest past (bucket, bucket + horizon) pairs a profile is tested on
 * before it may be used: an hour at the default step, so one odd bucket
 * cannot decide. */
#define FORECAST_MIN_PAIRS 12
/* The fewest live points in each half of the trend window. */
#define FORECAST_MIN_HALF 4
/* The fewest scored trend forecasts before its record may bench it. */
#define FORECAST_MIN_TRIALS 8
/* The complete buckets today's level is compared with the profile over:
 * an hour at the default step, so one bucket's jump hardly moves it. */
#define FORECAST_SCALE_BUCKETS 12
/* The baseline the load's swings are measured over, in trend windows. */
#define FORECAST_SWING_SPANS 16

/* forecast.c: the buckets. Floor division (times may be negative in
 * the simulator's lead-in); slots in use; a bucket's mean, or NaN when the
 * ring does not hold it. */
int64_t forecast_floor_div(int64_t a, int64_t b);
int64_t forecast_nslots(const struct forecast_cfg *cfg);
double forecast_bucket(const struct forecast_cfg *cfg, struct forecast_state *st, int64_t key);

/* forecast_season.c. The raw profile at a bucket (cached), the smoothed
 * one at a time (interpolated), whether a profile may be used now (tested
 * once per bucket), and a profile's rise from `from` to `to` scaled to
 * the level (0 when either is missing or it falls). */
double forecast_profile_raw(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t key, bool weekly);
double forecast_profile_time(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t t_ms, bool weekly);
/* Today against the profile: the sum of the last FORECAST_SCALE_BUCKETS
 * complete buckets over the raw profile's; NaN when unknown. */
double forecast_level_scale(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t now_ms, bool weekly);
enum forecast_season forecast_season_test(const struct forecast_cfg *cfg,
    struct forecast_state *st, int64_t now_ms);
double forecast_season_rise(double from, double to, double level);

/* forecast_trend.c. */
struct forecast_half {
	int n;
	double tmean, vmean, slope;	/* tmean: s, relative to the window's end */
	bool rising;	/* slope > 0, significant against the residuals */
};

/* The i-th newest live point (i < st->n). */
const struct forecast_point *forecast_nth_newest(const struct forecast_state *st, size_t i);
/* Least squares over the live points with t in (from, to]. */
void forecast_fit(const struct forecast_state *st, int64_t from, int64_t to,
    struct forecast_half *h);
/* The sd of one point's wandering off a line over lag (robust), NaN
 * with too few points. */
double forecast_swing(const struct forecast_state *st, int64_t now_ms, int64_t lag,
    int64_t baseline);
/* The trend's half window: the horizon, widened to FORECAST_MIN_HALF
 * points at their usual spacing. */
int64_t forecast_half_window(const struct forecast_cfg *cfg, const struct forecast_state *st);
/* The trend's record: score the forecasts whose horizon has come, file a
 * new one (one per instant), and whether the record lets the trend in. */
void forecast_score_trials(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t t_ms, double value);
void forecast_add_trial(struct forecast_state *st, int64_t t_ms, double base, double pred);
bool forecast_trend_trusted(const struct forecast_state *st);

#endif
