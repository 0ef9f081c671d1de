/* The peer policies the simulator runs against ours: AWS target tracking and
 * the Kubernetes HPA, one behaviour per test, as
 * ../shared/reference/policies.md (b) and (c) document them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy/aws.h"
#include "policy/hpa.h"

/* One metric's observation, no backlog, no forecast. */
#define OBS1(s, n) .metrics = { { .ok = true, .samples = (s), .nsamples = (n) } }, \
	.nmetrics = 1, .backlog = NAN, .forecast_need = NAN

#define S(v) { true, v, false }
#define MISSING { false, 0, false }
#define WARM(v) { true, v, true }
#define MINUTE_MS 60000
#define SYNC_MS 15000
#define NPODS 20

static void set_all(struct policy_sample *s, size_t n, double v)
{
	for (size_t i = 0; i < n; i++)
		s[i] = (struct policy_sample){ true, v, false };
}

/* Fails with the decision's reason, so a wrong number says why. */
static void expect(const struct policy_decision *d, int want, const char *what, long at)
{
	if (d->desired != want)
		fail_msg("%s at %ld: want %d, got %d (%s)", what, at, want, d->desired, d->reason);
}

/* ---- AWS target tracking ---- */

/* One policy (defaults, target 0.5) and the pool it watches. */
struct aws_run {
	struct aws_cfg cfg;
	struct aws_state st;
	struct policy_sample s[NPODS];
	struct policy_obs obs;
	struct policy_decision d;
};

static void aws_start(struct aws_run *r)
{
	policy_aws_defaults(&r->cfg, 0.5);
	policy_aws_init(&r->st);
}

/* The pool: its desired size, bounds 1..20, n members all reporting v. */
static void aws_pool(struct aws_run *r, int current, size_t n, double v)
{
	set_all(r->s, n, v);
	r->obs = (struct policy_obs){ .current = current, .min = 1, .max = 20,
	    OBS1(r->s, n) };
}

/* Decides at minutes [from, to) and expects want each time. */
static void aws_minutes(struct aws_run *r, int from, int to, int want, const char *what)
{
	for (int m = from; m < to; m++) {
		policy_aws_decide(&r->cfg, &r->st, &r->obs, (int64_t)m * MINUTE_MS, &r->d);
		expect(&r->d, want, what, m);
	}
}

/* AlarmHigh needs 3 datapoints in a row; then ceil(4 × 0.8/0.5) = 7. */
static void test_aws_scale_out_on_third_high_point(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	aws_pool(&r, 4, 4, 0.8);
	aws_minutes(&r, 0, 2, 4, "two high points");
	assert_int_equal(r.d.dir, POLICY_HOLD);
	assert_false(r.d.held);
	aws_minutes(&r, 2, 3, 7, "third high point");
	assert_int_equal(r.d.dir, POLICY_UP);
	assert_int_equal(r.d.recommendation, 7);
	assert_float_equal(r.d.metric, 0.8, 1e-12);
}

/* Warming members are left out of the mean (else 0.5: no alarm) and added
 * to the capacity: ceil(2 × 0.9/0.5) + 2 = 6 (not 4). */
static void test_aws_warming_is_capacity_not_metric(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	aws_pool(&r, 4, 4, 0.9);
	r.s[2] = r.s[3] = (struct policy_sample)WARM(.1);
	aws_minutes(&r, 0, 2, 4, "two high points");
	aws_minutes(&r, 2, 3, 6, "2 counted at 0.9 + 2 warming");
	assert_float_equal(r.d.metric, 0.9, 1e-12);
}

/* A scale-out never lowers the desired size: ceil(5 × 1.2) = 6 < 10. */
static void test_aws_scale_out_never_below_current(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	aws_pool(&r, 10, 5, 0.6);
	aws_minutes(&r, 0, 3, 10, "need below current");
	assert_int_equal(r.d.recommendation, 6);
	assert_int_equal(r.d.dir, POLICY_HOLD);
}

/* A NO DATA datapoint among the last 3 leaves AlarmHigh INSUFFICIENT_DATA:
 * high, high, gap, high, high: nothing (held from the gap on); the third
 * high after the gap acts. The gap is a failed query, silent members, or
 * only warming members. */
static void test_aws_no_data_blocks_scale_out(void **state)
{
	static const struct {
		const char *name;
		bool metrics_ok;
		struct policy_sample gap;
	} gaps[] = {
		{ "query_failed", false, S(.8) },
		{ "no_member_reported", true, MISSING },
		{ "every_member_warming", true, WARM(.8) },
	};

	(void)state;
	for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		struct aws_run r;

		print_message("%s\n", gaps[g].name);
		aws_start(&r);
		aws_pool(&r, 4, 4, 0.8);
		aws_minutes(&r, 0, 2, 4, gaps[g].name);
		assert_false(r.d.held);
		for (int i = 0; i < 4; i++)
			r.s[i] = gaps[g].gap;
		r.obs.metrics[0].ok = gaps[g].metrics_ok;
		aws_minutes(&r, 2, 3, 4, gaps[g].name);
		assert_true(r.d.held);
		aws_pool(&r, 4, 4, 0.8);
		for (int m = 3; m < 5; m++) {
			aws_minutes(&r, m, m + 1, 4, gaps[g].name);
			assert_true(r.d.held);
		}
		aws_minutes(&r, 5, 6, 7, gaps[g].name);
		assert_false(r.d.held);
	}
}

/* AlarmLow needs 15 datapoints; the removal rounds down: floor(4 × 0.6) = 2
 * (ceil would keep 3). */
/* Both alarms compare strictly ("metric > target", "metric < low"): a load
 * exactly at the target for 3 minutes, or exactly at the low threshold
 * (0.9 x 0.5) for 15, fires neither, and the size holds at 4. */
static void test_aws_alarms_are_strict(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	aws_pool(&r, 4, 4, 0.5);
	aws_minutes(&r, 0, 5, 4, "at the target");
	assert_int_equal(r.d.dir, POLICY_HOLD);
	/* At the target the high alarm's ceil(4 x 1) = 4 would not move the
	 * size either: only the reason tells whether AlarmHigh fired. */
	assert_non_null(strstr(r.d.reason, "no alarm"));
	aws_start(&r);
	aws_pool(&r, 4, 4, r.cfg.low_ratio * r.cfg.target);
	aws_minutes(&r, 0, 20, 4, "at the low threshold");
	assert_non_null(strstr(r.d.reason, "no alarm"));
}

static void test_aws_scale_in_on_fifteenth_low_point(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	aws_pool(&r, 4, 4, 0.3);
	aws_minutes(&r, 0, 14, 4, "fewer than 15 low points");
	aws_minutes(&r, 14, 15, 2, "15th low point");
	assert_int_equal(r.d.recommendation, 2);
	assert_int_equal(r.d.dir, POLICY_DOWN);
}

/* A gap inside the 15-point window keeps AlarmLow quiet until 15 new low
 * points have followed it; the hold is marked as held. */
static void test_aws_no_data_blocks_scale_in(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	aws_pool(&r, 4, 4, 0.3);
	for (int m = 0; m < 30; m++) {
		r.obs.metrics[0].ok = m != 14;
		aws_minutes(&r, m, m + 1, m < 29 ? 4 : 2, "gap at minute 14");
		assert_int_equal(r.d.held, m >= 14 && m < 29);
	}
}

/* Scale-in waits while any member warms up, or sends nothing (policies.md
 * counts every member left out of the metric as warming), then goes. */
static void test_aws_scale_in_blocked_while_warming(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	aws_pool(&r, 4, 4, 0.3);
	r.s[3].warming = true;
	aws_minutes(&r, 0, 20, 4, "one member warming");
	assert_non_null(strstr(r.d.reason, "blocked: warming"));
	r.s[3] = (struct policy_sample)MISSING;
	aws_minutes(&r, 20, 21, 4, "one member silent");
	r.s[3] = (struct policy_sample)S(.3);
	aws_minutes(&r, 21, 22, 2, "every member counted");
}

/* After a scale-in (minute 14) the next waits for the 300 s cooldown. */
static void test_aws_scale_in_cooldown(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	aws_pool(&r, 4, 4, 0.3);
	aws_minutes(&r, 0, 14, 4, "before");
	aws_minutes(&r, 14, 15, 2, "first scale-in");
	aws_pool(&r, 2, 2, 0.3);
	for (int m = 15; m < 19; m++) {
		aws_minutes(&r, m, m + 1, 2, "inside the cooldown");
		assert_non_null(strstr(r.d.reason, "cooldown"));
	}
	aws_minutes(&r, 19, 20, 1, "cooldown over");
}

/* Target tracking scales out at once, cooldown or not. */
static void test_aws_scale_out_ignores_cooldown(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	aws_pool(&r, 4, 4, 0.3);
	aws_minutes(&r, 0, 14, 4, "before");
	aws_minutes(&r, 14, 15, 2, "scale-in starts the cooldown");
	aws_pool(&r, 2, 2, 0.9);
	aws_minutes(&r, 15, 17, 2, "two high points");
	aws_minutes(&r, 17, 18, 4, "third high point inside the cooldown");
}

/* A scale-out ends the scale-in cooldown (Application Auto Scaling); with
 * one-point alarms the next scale-in may follow at once. */
static void test_aws_scale_out_ends_scale_in_cooldown(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	r.cfg.high_points = r.cfg.low_points = 1;
	aws_pool(&r, 4, 4, 0.3);
	aws_minutes(&r, 0, 1, 2, "scale in");
	aws_pool(&r, 2, 2, 0.9);
	aws_minutes(&r, 1, 2, 4, "scale out");
	aws_pool(&r, 4, 4, 0.3);
	aws_minutes(&r, 2, 3, 2, "scale in again, 2 min after the first");
}

static void test_aws_disable_scale_in(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	r.cfg.disable_scale_in = true;
	aws_pool(&r, 4, 4, 0.1);
	aws_minutes(&r, 0, 30, 4, "scale-in disabled");
	assert_false(r.d.held);
}

static void test_aws_bounds(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	aws_pool(&r, 4, 4, 1.0);	/* ceil(4 × 2) = 8 */
	r.obs.max = 5;
	aws_minutes(&r, 0, 2, 4, "two high points");
	aws_minutes(&r, 2, 3, 5, "scale-out capped at max");

	aws_start(&r);
	aws_pool(&r, 4, 4, 0.1);	/* floor(4 × 0.2) = 0 */
	r.obs.min = 3;
	aws_minutes(&r, 0, 14, 4, "fewer than 15 low points");
	aws_minutes(&r, 14, 15, 3, "scale-in floored at min");

	/* outside the bounds, even without metrics */
	aws_start(&r);
	aws_pool(&r, 8, 0, 0);
	r.obs.max = 6;
	r.obs.metrics[0].ok = false;
	aws_minutes(&r, 0, 1, 6, "above max");
	assert_true(r.d.held);
	aws_pool(&r, 0, 0, 0);
	aws_minutes(&r, 1, 2, 1, "below min");
}

/* Without metrics nothing happens, however long, and the reason says why. */
static void test_aws_no_metrics_holds(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	aws_pool(&r, 4, 0, 0);
	r.obs.metrics[0].ok = false;
	r.obs.metrics[0].error = "cloudwatch: timeout";
	for (int m = 0; m < 100; m++) {
		aws_minutes(&r, m, m + 1, 4, "no metrics");
		assert_true(r.d.held);
		assert_true(isnan(r.d.metric));
	}
	assert_non_null(strstr(r.d.reason, "timeout"));
	assert_true(r.st.npoints <= AWS_MAX_POINTS);
}

/* A minute without data is a held minute, even when the alarms had nothing
 * to say before it (at target: neither alarm). */
static void test_aws_gap_after_quiet_load_is_held(void **state)
{
	struct aws_run r;

	(void)state;
	aws_start(&r);
	aws_pool(&r, 4, 4, 0.5);
	aws_minutes(&r, 0, 20, 4, "at target");
	assert_false(r.d.held);
	r.obs.metrics[0].ok = false;
	aws_minutes(&r, 20, 21, 4, "gap");
	assert_true(r.d.held);
}

/* ---- Kubernetes HPA ---- */

/* One HPA (defaults, target 50 %) and its pods; the state is on the heap. */
struct hpa_run {
	struct hpa_cfg cfg;
	struct hpa_state *st;
	struct policy_sample s[NPODS];
	struct policy_obs obs;
	struct policy_decision d;
	int min, max;
};

static void hpa_start(struct hpa_run *r, int min, int max)
{
	policy_hpa_defaults(&r->cfg, 0.5);
	r->st = malloc(sizeof(*r->st));
	assert_non_null(r->st);
	policy_hpa_init(r->st);
	r->min = min;
	r->max = max;
}

/* One sync at t_ms: current replicas, n pods each using v of its request. */
static void hpa_sync(struct hpa_run *r, int64_t t_ms, int current, size_t n, double v,
    int want, const char *what)
{
	set_all(r->s, n, v);
	r->obs = (struct policy_obs){ .current = current, .min = r->min, .max = r->max,
	    OBS1(r->s, n) };
	policy_hpa_decide(&r->cfg, r->st, &r->obs, t_ms, &r->d);
	expect(&r->d, want, what, (long)t_ms);
}

static const struct {
	const char *name;
	int current;
	struct policy_sample s[10];
	size_t n;
	int rec;	/* GetResourceReplicas */
	int want;	/* after a new HPA's stabilization and limits */
} hpa_rows[] = {
	{ "within_tolerance_keeps", 4, { S(.54), S(.54), S(.54), S(.54) }, 4, 4, 4 },
	/* 55/50 is inside [0.9, 1.1]: isWithin includes both edges */
	{ "ten_percent_over_is_inside", 4, { S(.55), S(.55), S(.55), S(.55) }, 4, 4, 4 },
	{ "ten_percent_under_is_inside", 4, { S(.45), S(.45), S(.45), S(.45) }, 4, 4, 4 },
	{ "over_target_ceil_of_ratio_times_ready", 4, { S(.61), S(.61), S(.61), S(.61) }, 4, 5, 5 },
	{ "double_load_doubles", 2, { S(1), S(1) }, 2, 4, 4 },
	/* 60.05 % is 60 %: 1.2 × 10 = 12, not ceil(12.01) = 13 */
	{ "utilisation_in_whole_percent", 10, { S(.6005), S(.6005), S(.6005), S(.6005),
	    S(.6005), S(.6005), S(.6005), S(.6005), S(.6005), S(.6005) }, 10, 12, 12 },
	/* a new HPA recorded its current size: no scale-down for 300 s */
	{ "under_target_new_hpa_waits", 4, { S(.1), S(.1), S(.1), S(.1) }, 4, 1, 4 },
	/* 10 % → 0.2 <1: the missing pod is 100 %: 32 % over 4 → ceil(2.56) = 3
	 * (1 if it were left out or counted as 0) */
	{ "missing_busy_when_scaling_down", 4, { S(.1), S(.1), S(.1), MISSING }, 4, 3, 4 },
	/* 65 % → 1.3 >1: the missing pod is 0 %: 52 % over 5, inside the
	 * tolerance (6 if it were left out) */
	{ "missing_idle_when_scaling_up", 5, { S(.65), S(.65), S(.65), S(.65), MISSING }, 5, 5, 5 },
	/* the same with an initialising pod whose own sample (90 %) is ignored */
	{ "ignored_idle_when_scaling_up", 5, { S(.65), S(.65), S(.65), S(.65), WARM(.9) }, 5, 5, 5 },
	/* scaling down, ignored pods simply do not count: ceil(0.2 × 2) = 1 */
	{ "ignored_left_out_scaling_down", 4, { S(.1), S(.1), WARM(.9), WARM(.9) }, 4, 1, 4 },
	/* 40 % → 0.8, but with the missing pod at 100 %: 70 % → 1.4, the other
	 * way: no change (3 without the rule) */
	{ "fill_in_flip_gives_no_change", 2, { S(.4), MISSING }, 2, 2, 2 },
	/* 9 pods for 6 replicas: 37 % → ceil(0.74 × 9) = 7 > 6 while the ratio
	 * says down: no change */
	{ "fill_in_never_reverses_direction", 6, { S(.3), S(.3), S(.3), S(.3), S(.3), S(.3),
	    S(.3), S(.3), MISSING }, 9, 6, 6 },
};

static void test_hpa_replicas(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hpa_rows) / sizeof(hpa_rows[0]); i++) {
		struct hpa_run r;

		print_message("%s\n", hpa_rows[i].name);
		hpa_start(&r, 1, 20);
		r.obs = (struct policy_obs){ .current = hpa_rows[i].current, .min = 1, .max = 20,
		    OBS1(hpa_rows[i].s, hpa_rows[i].n) };
		policy_hpa_decide(&r.cfg, r.st, &r.obs, 1000000, &r.d);
		if (r.d.recommendation != hpa_rows[i].rec)
			fail_msg("%s: want recommendation %d, got %d (%s)", hpa_rows[i].name,
			    hpa_rows[i].rec, r.d.recommendation, r.d.reason);
		expect(&r.d, hpa_rows[i].want, hpa_rows[i].name, 0);
		assert_false(r.d.held);
		assert_false(isnan(r.d.metric));
		free(r.st);
	}
}

/* No usable metric: no scaling, marked held, the cause in the reason. The
 * bounds rule still applies, as it comes before any metric. */
static void test_hpa_no_metrics_holds(void **state)
{
	struct hpa_run r;

	(void)state;
	hpa_start(&r, 1, 6);
	hpa_sync(&r, 0, 4, 0, 0, 4, "no pods");
	assert_true(r.d.held);
	r.obs.metrics[0].ok = false;
	r.obs.metrics[0].error = "metrics-server: 503";
	policy_hpa_decide(&r.cfg, r.st, &r.obs, SYNC_MS, &r.d);
	expect(&r.d, 4, "query failed", SYNC_MS);
	assert_true(r.d.held);
	assert_true(isnan(r.d.metric));
	assert_non_null(strstr(r.d.reason, "503"));
	r.s[0] = r.s[1] = (struct policy_sample)MISSING;
	r.obs = (struct policy_obs){ .current = 4, .min = 1, .max = 6, OBS1(r.s, 2) };
	policy_hpa_decide(&r.cfg, r.st, &r.obs, 2 * SYNC_MS, &r.d);
	expect(&r.d, 4, "no pod reported", 2 * SYNC_MS);
	assert_true(r.d.held);
	r.s[0] = r.s[1] = (struct policy_sample)WARM(.9);
	policy_hpa_decide(&r.cfg, r.st, &r.obs, 3 * SYNC_MS, &r.d);
	expect(&r.d, 4, "every pod ignored", 3 * SYNC_MS);
	assert_true(r.d.held);
	r.obs.current = 8;
	r.obs.metrics[0].ok = false;
	policy_hpa_decide(&r.cfg, r.st, &r.obs, 4 * SYNC_MS, &r.d);
	expect(&r.d, 6, "above max without metrics", 4 * SYNC_MS);
	free(r.st);
}

/* The highest recommendation of the last 300 s wins a scale-down: 4 (t=0)
 * until t=300 s, then 3 (t=60 s) until t=360 s, then 1. */
static void test_hpa_down_stabilization(void **state)
{
	struct hpa_run r;

	(void)state;
	hpa_start(&r, 1, 10);
	hpa_sync(&r, 0, 4, 4, 0.5, 4, "at target: 4");
	for (int64_t t = SYNC_MS; t < 300000; t += SYNC_MS)
		hpa_sync(&r, t, 4, 4, t == 60000 ? 0.35 : 0.1, 4, "4 in the window");
	hpa_sync(&r, 300000, 4, 4, 0.1, 3, "4 left the window, 3 (0.7 × 4) is the highest");
	assert_int_equal(r.d.recommendation, 1);
	for (int64_t t = 315000; t < 360000; t += SYNC_MS)
		hpa_sync(&r, t, 3, 3, 0.1, 3, "3 in the window");
	hpa_sync(&r, 360000, 3, 3, 0.1, 1, "window all 1");
	free(r.st);
}

/* Default scale-up: max(+4 pods, +100 %) per 15 s, from the size at the
 * start of the period. An event exactly 15 s old no longer counts. */
static void test_hpa_scale_up_rate(void **state)
{
	struct hpa_run r;

	(void)state;
	hpa_start(&r, 1, 50);
	hpa_sync(&r, 0, 1, 1, 5.0, 5, "10 wanted, from 1: max(1 + 4, 2 × 1)");
	assert_int_equal(r.d.recommendation, 10);
	hpa_sync(&r, 14000, 5, 5, 1.0, 5, "10 wanted, +4 at t=0 still in the period");
	assert_int_equal(r.d.recommendation, 10);
	hpa_sync(&r, 15000, 5, 5, 1.0, 10, "period over: max(5 + 4, 2 × 5)");

	policy_hpa_init(r.st);
	hpa_sync(&r, 0, 10, 10, 1.5, 20, "30 wanted, from 10: +100 % beats +4");
	policy_hpa_init(r.st);
	hpa_sync(&r, 0, 2, 2, 2.5, 6, "10 wanted, from 2: +4 beats +100 %");

	/* Percent alone, rounded up: 3 × 1.5 = 4.5 -> 5. */
	r.cfg.up_pods = 0;
	r.cfg.up_percent = 50;
	policy_hpa_init(r.st);
	hpa_sync(&r, 0, 3, 3, 2.0, 5, "24 wanted, +50 % of 3");
	free(r.st);
}

/* Scale-down removes at most down_percent of the size at the period's start
 * (truncated); the default 100 % lets it go straight to the target. */
static void test_hpa_scale_down_rate(void **state)
{
	struct hpa_run r;

	(void)state;
	hpa_start(&r, 1, 20);
	r.cfg.down_stabilization_ms = 0;	/* to see the rate alone */
	hpa_sync(&r, 0, 10, 10, 0.05, 1, "100 % per 15 s: no limit");

	r.cfg.down_percent = 50;
	policy_hpa_init(r.st);
	hpa_sync(&r, 0, 8, 8, 0.05, 4, "1 wanted, 50 % of 8");
	assert_int_equal(r.d.recommendation, 1);
	hpa_sync(&r, 5000, 4, 4, 0.05, 4, "-4 at t=0 still in the period");
	hpa_sync(&r, 15000, 4, 4, 0.05, 2, "50 % of 4");
	hpa_sync(&r, 30000, 2, 2, 0.05, 1, "50 % of 2");
	free(r.st);
}

/* The period's start size takes events of both directions (current
 * upstream): after +4 (4 -> 8) at t=0, 50 % down at t=5 s counts from 4. */
static void test_hpa_period_start_counts_both_directions(void **state)
{
	struct hpa_run r;

	(void)state;
	hpa_start(&r, 1, 20);
	r.cfg.down_stabilization_ms = 0;
	r.cfg.down_percent = 50;
	hpa_sync(&r, 0, 4, 4, 1.0, 8, "doubled");
	hpa_sync(&r, 5000, 8, 8, 0.05, 2, "50 % of 8 - 4");
	free(r.st);
}

/* A proposal below the current size never scales up, whatever the down
 * window holds (kubernetes/kubernetes#96671): 1 -> 5 (limited from 10), then
 * a proposal of 4 keeps 5 rather than reaching for the 10. */
static void test_hpa_lower_proposal_never_scales_up(void **state)
{
	struct hpa_run r;

	(void)state;
	hpa_start(&r, 1, 20);
	hpa_sync(&r, 0, 1, 1, 5.0, 5, "limited scale-up");
	hpa_sync(&r, SYNC_MS, 5, 5, 0.35, 5, "proposal 4 with 10 in the down window");
	assert_int_equal(r.d.recommendation, 4);
	assert_int_equal(r.d.dir, POLICY_HOLD);
	free(r.st);
}

static void test_hpa_bounds(void **state)
{
	struct hpa_run r;

	(void)state;
	hpa_start(&r, 1, 6);
	hpa_sync(&r, 0, 8, 8, 1.0, 6, "above max, before the metric (16)");
	assert_int_equal(r.d.dir, POLICY_DOWN);
	policy_hpa_init(r.st);
	hpa_sync(&r, 0, 0, 0, 0, 1, "below min");
	policy_hpa_init(r.st);
	hpa_sync(&r, 0, 4, 4, 1.0, 6, "8 wanted, capped at max");
	r.min = 2;
	r.cfg.down_stabilization_ms = 0;
	policy_hpa_init(r.st);
	hpa_sync(&r, 0, 4, 4, 0.1, 2, "1 wanted, floored at min");

	/* A bounds correction is a scale event too: 8 -> 6 at t=0 makes the
	 * period start at 8, so 50 % down at t=5 s allows 4. */
	r.min = 1;
	r.cfg.down_percent = 50;
	policy_hpa_init(r.st);
	hpa_sync(&r, 0, 8, 8, 0.05, 6, "above max");
	hpa_sync(&r, 5000, 6, 6, 0.05, 4, "50 % of 6 + 2");

	/* A budget spent by a larger correction holds the size, never turns it:
	 * 8 -> 2 (max) leaves 50 % of 8 = 4 > 2 allowed, so 2 stays; 0 -> 8
	 * (min) leaves max(0 + 4, 0) = 4 < 8 allowed, so 8 stays. */
	r.max = 2;
	policy_hpa_init(r.st);
	hpa_sync(&r, 0, 8, 8, 0.05, 2, "above max");
	hpa_sync(&r, 5000, 2, 2, 0.05, 2, "down limit above current");
	r.min = 8;
	r.max = 20;
	policy_hpa_init(r.st);
	hpa_sync(&r, 0, 0, 0, 0, 8, "below min");
	hpa_sync(&r, 5000, 8, 8, 1.0, 8, "16 wanted, up limit below current");
	assert_int_equal(r.d.recommendation, 16);
	free(r.st);
}

/* Histories stay bounded over a long run with fast syncs and flapping load. */
static void test_hpa_history_bounded(void **state)
{
	struct hpa_run r;
	int cur = 4;

	(void)state;
	hpa_start(&r, 1, NPODS);
	for (int t = 0; t < 5000; t++) {
		set_all(r.s, (size_t)cur, t % 40 < 20 ? 0.9 : 0.1);
		r.obs = (struct policy_obs){ .current = cur, .min = 1, .max = NPODS,
		    OBS1(r.s, (size_t)cur) };
		policy_hpa_decide(&r.cfg, r.st, &r.obs, (int64_t)t * 1000, &r.d);
		assert_true(r.d.desired >= 1 && r.d.desired <= NPODS);
		cur = r.d.desired;
	}
	/* one recommendation a second over 300 s, one event per rescale */
	assert_true(r.st->nrecs <= 302);
	assert_true(r.st->nevents <= 17);
	free(r.st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws_scale_out_on_third_high_point),
		cmocka_unit_test(test_aws_warming_is_capacity_not_metric),
		cmocka_unit_test(test_aws_scale_out_never_below_current),
		cmocka_unit_test(test_aws_no_data_blocks_scale_out),
		cmocka_unit_test(test_aws_scale_in_on_fifteenth_low_point),
		cmocka_unit_test(test_aws_no_data_blocks_scale_in),
		cmocka_unit_test(test_aws_scale_in_blocked_while_warming),
		cmocka_unit_test(test_aws_scale_in_cooldown),
		cmocka_unit_test(test_aws_scale_out_ignores_cooldown),
		cmocka_unit_test(test_aws_alarms_are_strict),
		cmocka_unit_test(test_aws_scale_out_ends_scale_in_cooldown),
		cmocka_unit_test(test_aws_disable_scale_in),
		cmocka_unit_test(test_aws_bounds),
		cmocka_unit_test(test_aws_no_metrics_holds),
		cmocka_unit_test(test_aws_gap_after_quiet_load_is_held),
		cmocka_unit_test(test_hpa_replicas),
		cmocka_unit_test(test_hpa_no_metrics_holds),
		cmocka_unit_test(test_hpa_down_stabilization),
		cmocka_unit_test(test_hpa_scale_up_rate),
		cmocka_unit_test(test_hpa_scale_down_rate),
		cmocka_unit_test(test_hpa_period_start_counts_both_directions),
		cmocka_unit_test(test_hpa_lower_proposal_never_scales_up),
		cmocka_unit_test(test_hpa_bounds),
		cmocka_unit_test(test_hpa_history_bounded),
	};

	return cmocka_run_group_tests_name("peers", tests, NULL, NULL);
}
