/* policy/awspredict.h: AWS EC2 Auto Scaling predictive scaling in
 * ForecastAndScale mode, as a peer for `poolscale simulate`, combined with
 * a target tracking policy (policy/aws.h) as AWS recommends. Owns the
 * hourly load history and the current forecast. Not here: the target
 * tracking policy's alarms (policy/aws.h), the clock, where the load metric
 * comes from (the caller passes the pool's request rate, the sum a load
 * balancer counts: ALBRequestCount). What AWS documents and this does:
 *  - the load metric is kept per hour; a forecast needs at least 24 h of
 *    it and uses at most the last 14 days;
 *  - the forecast is hourly, covers the next 48 h and is renewed every 6 h
 *    from the data then;
 *  - the capacity forecast for an hour is the load forecast over the load
 *    one instance carries at the target (ceil), within [min, max]
 *    (HonorMaxCapacity);
 *  - each hour's capacity is put in place SchedulingBufferTime before the
 *    hour (here the boot time: the instances are ready when it starts);
 *  - it only adds capacity: it raises the group's minimum for the hour, and
 *    the target tracking policy decides above it and scales in down to it
 *    (with both, the group gets the larger of the two).
 * AWS does not publish its model beyond "daily and weekly patterns"; this
 * one is seasonal-naive on the daily pattern: an hour's load forecast is
 * the mean of the same hour of the day over the days of history (up to
 * 14; hours without data are skipped). */
#ifndef POOLSCALE_POLICY_AWSPREDICT_H
#define POOLSCALE_POLICY_AWSPREDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/aws.h"
#include "policy/policy.h"

#define AWSP_HOUR_MS 3600000LL
#define AWSP_HISTORY_H (14 * 24)	/* at most 14 days */
#define AWSP_MIN_HISTORY_H 24		/* a forecast needs a day */
#define AWSP_HORIZON_H 48		/* each forecast covers 48 h */
#define AWSP_REFRESH_MS (6 * AWSP_HOUR_MS)

struct awsp_cfg {
	double per_instance;		/* load one instance carries at the target */
	int64_t buffer_ms;		/* SchedulingBufferTime (300 s by default) */
};

struct awsp_state {
	/* hourly load, a ring by absolute hour (now_ms / 1 h) */
	double sum[AWSP_HISTORY_H + 1], span_ms[AWSP_HISTORY_H + 1];
	int64_t hour[AWSP_HISTORY_H + 1];	/* the hour a slot holds; INT64_MIN: none */
	int64_t first_ms;			/* the first observation; -1: none */
	/* the forecast in force: load for hours from0 .. from0 + 47 */
	double fc[AWSP_HORIZON_H];
	int64_t fc_from_h;			/* -1: no forecast yet */
	int64_t next_refresh_ms;
};

void policy_awsp_init(struct awsp_state *st);

/* Records the load metric: rate (load per second) held over the span_ms
 * that ends at now_ms. */
void policy_awsp_observe(struct awsp_state *st, double rate, int64_t span_ms, int64_t now_ms);

/* The capacity the forecast puts in place at now (the hour that starts
 * within buffer_ms from now counts already), within [min, max]; 0 when
 * there is no forecast (less than 24 h of history). Renews the forecast
 * when 6 h have passed. */
int policy_awsp_capacity(const struct awsp_cfg *cfg, struct awsp_state *st, int min, int max,
    int64_t now_ms);

/* The load forecast for the hour holding t, or NaN when none. */
double policy_awsp_forecast(const struct awsp_state *st, int64_t t_ms);

/* Predictive scaling and target tracking together, one datapoint a
 * minute: the forecast capacity raises the minimum that the target
 * tracking policy (aws, as) decides within, so the larger of the two wins
 * and predictive scaling never removes capacity. */
void policy_awsp_decide(const struct awsp_cfg *cfg, struct awsp_state *st,
    const struct aws_cfg *aws, struct aws_state *as, const struct policy_obs *obs,
    int64_t now_ms, struct policy_decision *out);

#endif
