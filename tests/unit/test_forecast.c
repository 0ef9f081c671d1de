/* The forecaster (policy/forecast.h) on synthetic series: a daily sine with
 * noise, a step, pure noise, weekly seasonality, and too little history.
 * Noise comes from a fixed-seed generator, so every run sees the same
 * series; the bounds are derived in the comments, not fitted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy/forecast.h"

#define TICK_MS 15000LL
#define DAY FORECAST_DAY_MS
#define PI 3.14159265358979323846

static uint64_t rng = 1;

static double uniform(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

/* Box-Muller: one standard normal. */
static double gauss(void)
{
	return sqrt(-2 * log(uniform())) * cos(2 * PI * uniform());
}

static struct forecast_state *new_state(void)
{
	struct forecast_state *st = malloc(sizeof(*st));

	assert_non_null(st);
	forecast_init(st);
	return st;
}

static struct forecast_cfg cfg_with(int64_t horizon_ms, bool trend, bool seasonality)
{
	struct forecast_cfg c;

	forecast_cfg_default(&c);
	c.enabled = true;
	c.horizon_ms = horizon_ms;
	c.trend = trend;
	c.seasonality = seasonality;
	return c;
}

/* 10 + 5 sin(2π t / day): the load, noise-free. */
static double sine(int64_t t_ms)
{
	return 10 + 5 * sin(2 * PI * (double)t_ms / (double)DAY);
}

/* A daily sine with noise sd 0.5, observed every 15 s for 3 days, then
 * forecast 30 min ahead through day 4 (seasonal part only, so that the
 * trend cannot hide a broken profile). The error is need(now) - sine(now +
 * H). Derivation of the bounds, with A = 5, ω = 2π/day, σ = 0.5, H = 1800 s:
 *  - the level is the mean of the last H of points (n = 120): its noise is
 *    σ/√n = 0.046, and it stands for the load H/2 ago;
 *  - the profile is, per 5 min bucket, the median over 3 days of means of
 *    20 points: σ/√20 × 1.2/√3 ≈ 0.08, smoothed (1,2,1)/4 (variance × 6/16)
 *    ≈ 0.05; its change between two points 6 buckets apart ≈ 0.07; the
 *    sine's own shape is reproduced exactly (it repeats every day), up to
 *    the smoothing's factor 1 - (ωS)²/4 ≈ 1 - 1e-4;
 *  - so where the load rises, the forecast is the level plus the
 *    profile's rise: error sd ≈ √(0.046² + 0.07²) ≈ 0.085; 5 sd: 0.45
 *    below the truth at worst (UNDER);
 *  - where it falls, the forecast only ever adds, so it stays at the
 *    level: above the truth by at most Aω × 1.5 H = 0.98 plus the level's
 *    5 sd 0.23: 1.25 (OVER). Over-forecasting costs money, never SLO.
 * And on average over the rising half the forecast is unbiased (|mean| <
 * 0.1), where the level alone would be low by about Aω × 1.5 H × 2/π ≈
 * 0.63: the profile does the work. */
static void test_daily_sine(void **state)
{
	const double UNDER = 0.45, OVER = 1.25;
	struct forecast_cfg cfg = cfg_with(1800000, false, true);
	struct forecast_state *st = new_state();
	struct forecast_out o;
	double rise_err = 0, worst_under = 0, worst_over = 0;
	int rising = 0;

	(void)state;
	rng = 7;
	for (int64_t t = 0; t < 4 * DAY; t += TICK_MS) {
		if (t >= 3 * DAY) {
			double err;

			forecast_predict(&cfg, st, t, &o);
			assert_int_equal(o.season, FORECAST_SEASON_DAILY);
			err = o.need - sine(t + cfg.horizon_ms);
			worst_under = fmin(worst_under, err);
			worst_over = fmax(worst_over, err);
			if (cos(2 * PI * (double)t / (double)DAY) > 0) {
				rise_err += err;
				rising++;
			}
		}
		forecast_observe(&cfg, st, t, sine(t) + 0.5 * gauss());
	}
	print_message("daily sine: error %.3f .. %.3f, mean on the rise %.3f\n", worst_under,
	    worst_over, rise_err / rising);
	assert_true(worst_under >= -UNDER);
	assert_true(worst_over <= OVER);
	assert_true(fabs(rise_err / rising) < 0.1);
	free(st);
}

/* The same sine loaded as Prometheus history (one point per 5 min, 3
 * days), then live points: the profile is there from the first live
 * point, and the forecast on the rise beats the level alone (about 1
 * low here). No noise: the error is the profile's resolution, the
 * forecast taking the whole bucket the horizon falls in: at most the
 * sine's rise over one step, Aω × 300 s = 0.11, under 0.15. */
static void test_seeded_history(void **state)
{
	struct forecast_cfg cfg = cfg_with(1800000, false, true);
	struct forecast_state *st = new_state();
	struct forecast_point *p = calloc(3 * 288, sizeof(*p));
	struct forecast_out o;
	int64_t now = 3 * DAY;

	(void)state;
	assert_non_null(p);
	for (int i = 0; i < 3 * 288; i++)
		p[i] = (struct forecast_point){ i * 300000LL, sine(i * 300000LL) };
	forecast_seed(&cfg, st, p, 3 * 288);
	/* live points for the last half hour, at the steepest rise */
	for (int64_t t = now - 1800000; t < now; t += TICK_MS)
		forecast_observe(&cfg, st, t, sine(t));
	forecast_predict(&cfg, st, now, &o);
	assert_int_equal(o.season, FORECAST_SEASON_DAILY);
	assert_int_equal(o.basis, FORECAST_DAILY);
	assert_true(fabs(o.need - sine(now + cfg.horizon_ms)) < 0.15);
	/* a second load replaces the first one's buckets, not adds to them;
	 * buckets with live points keep those */
	p[0].value = 1;
	forecast_seed(&cfg, st, p, 1);
	p[0].value = 3;
	forecast_seed(&cfg, st, p, 1);
	assert_int_equal(st->b[0].key, 0);
	assert_true(st->b[0].sum / st->b[0].n == 3);
	p[0] = (struct forecast_point){ now - 60000, 1000 };
	forecast_seed(&cfg, st, p, 1);
	for (size_t i = 0; i < FORECAST_BUCKETS; i++)
		if (st->b[i].key == (now - 60000) / cfg.step_ms)
			assert_true(st->b[i].sum / st->b[i].n < 20);
	forecast_predict(&cfg, st, now, &o);
	assert_true(fabs(o.need - sine(now + cfg.horizon_ms)) < 0.15);
	free(p);
	free(st);
}

/* A jump that recurs at the same time every day (a batch at 09:00, from 2
 * to 6 for 20 min), noise sd 0.1, three days seen: a horizon (75 s)
 * before it the forecast has the whole jump; ten minutes before, nothing
 * of it. The profile is the median of three days of 5-min means (sd
 * 0.1/√20/... < 0.03), so within 0.2 of 6 and of 2. */
static void test_recurring_jump(void **state)
{
	struct forecast_cfg cfg = cfg_with(75000, true, true);
	struct forecast_state *st = new_state();
	struct forecast_out o;
	const int64_t nine = 9 * 3600000LL, day3 = 3 * DAY;

	(void)state;
	rng = 17;
	for (int64_t t = 0; t < day3 + nine - 60000; t += TICK_MS) {
		int64_t in = t % DAY;

		forecast_observe(&cfg, st, t, (in >= nine && in < nine + 1200000 ? 6 : 2) +
		    0.1 * gauss());
		if (t == day3 + nine - 600000) {
			forecast_predict(&cfg, st, t, &o);
			assert_true(o.need < 2.2);
		}
	}
	forecast_predict(&cfg, st, day3 + nine - 60000, &o);
	print_message("recurring jump: %.2f a minute ahead (%s)\n", o.need, o.note);
	assert_int_equal(o.basis, FORECAST_DAILY);
	assert_true(o.need > 5.8 && o.need < 6.2);
	free(st);
}

/* A step from 1 to 4 (with noise sd 0.05), 90 s horizon, 15 s ticks: the
 * forecast rises to 4 without overshooting (one rise on one side of the
 * trend window is not a trend), settles there, and never falls back below.
 * Tolerance: the level averages the last 6 points: 0.05/√6 = 0.02; 5 sd
 * = 0.1 (TOL). At most one excursion above 4 + TOL is allowed by the spec;
 * none happens. */
static void test_step_no_oscillation(void **state)
{
	const double TOL = 0.1;
	struct forecast_cfg cfg = cfg_with(90000, true, true);
	struct forecast_state *st = new_state();
	struct forecast_out o;
	int64_t step_at = 3600000, settled_at = -1;
	int overshoots = 0;
	bool above = false;
	double peak = 0;

	(void)state;
	rng = 11;
	for (int64_t t = 0; t < 2 * step_at; t += TICK_MS) {
		forecast_observe(&cfg, st, t, (t < step_at ? 1 : 4) + 0.05 * gauss());
		forecast_predict(&cfg, st, t, &o);
		if (t < step_at) {
			assert_true(o.need < 1 + TOL);
			continue;
		}
		peak = fmax(peak, o.need);
		if (o.need > 4 + TOL && !above)
			overshoots++;
		above = o.need > 4 + TOL;
		if (settled_at < 0 && fabs(o.need - 4) <= TOL)
			settled_at = t;
		if (settled_at >= 0)
			assert_true(o.need >= 4 - TOL);
	}
	print_message("step: peak %.3f, %d overshoot(s), settled %llds after\n", peak, overshoots,
	    (long long)(settled_at - step_at) / 1000);
	assert_true(overshoots <= 1);
	assert_true(peak <= 4 + TOL);
	/* settled within the trend window (2 × horizon, at least 4 points a half) */
	assert_true(settled_at >= 0 && settled_at - step_at <= 2 * 120000);
	free(st);
}

/* A sustained ramp, +1 instance every 2 min with noise sd 0.1, after an
 * hour flat at 2: the trend is used, and ahead of the level. Bound: the
 * level (mean of 6 points, sd 0.04) sits 37.5 s behind now; the smaller
 * half's slope of a straight line is the line's, its sd 0.1/√(Σ(t-t̄)²) =
 * 0.1/63 s per s, so at +90 s (127.5 s from the level's centre) the
 * forecast is the truth within 0.2 + 0.04: 3 sd ≈ 0.6 (BOUND). The level
 * alone would be 127.5/120 ≈ 1.06 low. With 4 degrees of freedom per half
 * the t-test misses a true slope now and then (the new half's slope ~5 sd
 * from 0: each half fails ~3% of the time): then the forecast is the
 * level, low by ~1.06 but never above the truth. At least 80% of the
 * evaluations use the trend. */
static void test_ramp_followed(void **state)
{
	const double BOUND = 0.6;
	struct forecast_cfg cfg = cfg_with(90000, true, true);
	struct forecast_state *st = new_state();
	struct forecast_out o;
	int64_t ramp_at = 3600000;
	int trended = 0, n = 0;

	(void)state;
	rng = 5;
	for (int64_t t = 0; t < ramp_at + 1800000; t += TICK_MS) {
		double truth = t < ramp_at ? 2 : 2 + (double)(t - ramp_at) / 120000;

		forecast_observe(&cfg, st, t, truth + 0.1 * gauss());
		if (t < ramp_at + 600000)
			continue;	/* let the trend be seen on both halves */
		forecast_predict(&cfg, st, t, &o);
		truth = 2 + (double)(t + cfg.horizon_ms - ramp_at) / 120000;
		assert_true(o.need <= truth + BOUND);
		if (o.basis == FORECAST_TREND) {
			assert_true(o.need >= truth - BOUND);
			trended++;
		}
		n++;
	}
	print_message("ramp: the trend in %d of %d\n", trended, n);
	assert_true(trended >= n * 8 / 10);
	free(st);
}

/* Bursts that revert: every 10 min the load climbs from 2 to 6 over 3 min
 * and drops back at once. Each climb looks like a trend, and the trend
 * fires; but a horizon later the load is back at 2, so its record soon
 * says it does worse than "no change", and it is benched (and says so).
 * After the first FORECAST_MIN_TRIALS scored forecasts it may add nothing. */
static void test_reverting_bursts_bench_the_trend(void **state)
{
	struct forecast_cfg cfg = cfg_with(90000, true, false);
	struct forecast_state *st = new_state();
	struct forecast_out o;
	int benched = 0, late_adds = 0;

	(void)state;
	rng = 9;
	for (int64_t t = 0; t < 6 * 3600000; t += TICK_MS) {
		int64_t in = t % 600000;
		double v = in < 180000 ? 2 + 4 * (double)in / 180000 : 2;

		forecast_observe(&cfg, st, t, v + 0.05 * gauss());
		forecast_predict(&cfg, st, t, &o);
		benched += o.trend_benched;
		if (t > 3 * 3600000 && o.trend_add > 0)
			late_adds++;
	}
	assert_true(benched > 0);
	assert_int_equal(late_adds, 0);
	forecast_predict(&cfg, st, 6 * 3600000 - 600000 + 150000, &o);
	free(st);
}

/* The headroom part (policy/headroom.h, tested there on its own): a load
 * that climbs ×1.5 over 2 min and back down over the next 2, twice an
 * hour, flat at 4 otherwise; trend and seasons off. With the part on
 * (q 0.95, 90 s horizon), on the flat stretch before a climb the forecast
 * is the last need (4) times the factor; off, the level alone (4).
 * The rises over 90 s, in units of ln 1.5, at 15 s ticks through a cycle
 * of 120: 0.125, 0.25, 0.375, 0.5, 0.625, 0.75 (climbing from flat), 0.75,
 * 0.75 (a full 90 s of climb), 0.5, 0.25 (over the top), none elsewhere.
 * The 0.95 quantile is the 7th largest of 120: 0.375 to 0.5, so a factor
 * of 1.5^0.375 = 1.16 to 1.5^0.5 = 1.22, read at a bin's upper edge
 * (+1.7%): within [1.15, 1.25). */
static double climbs(int64_t t)
{
	int64_t c = t % 1800000;

	if (c < 120000)
		return 4 * pow(1.5, (double)c / 120000);
	if (c < 240000)
		return 6 * pow(1.5, -(double)(c - 120000) / 120000);
	return 4;
}

static void test_headroom_part(void **state)
{
	struct forecast_cfg on = cfg_with(90000, false, false), off = on;
	struct forecast_state *st = new_state(), *st_off = new_state();
	struct forecast_out o;
	int64_t t;

	(void)state;
	on.headroom_quantile = 0.95;
	for (t = 0; t < 4 * 3600000 - 60000; t += TICK_MS) {
		forecast_observe(&on, st, t, climbs(t));
		forecast_observe(&off, st_off, t, climbs(t));
	}
	/* t is a minute before a climb, on the flat stretch at 4 */
	forecast_predict(&on, st, t, &o);
	assert_int_equal(o.basis, FORECAST_HEADROOM);
	assert_true(o.headroom_factor >= 1.15 && o.headroom_factor < 1.25);
	assert_true(fabs(o.need - 4 * o.headroom_factor) < 1e-9);
	assert_non_null(strstr(o.note, "+ headroom"));
	forecast_predict(&off, st_off, t, &o);
	assert_int_equal(o.basis, FORECAST_LEVEL);
	assert_true(fabs(o.need - 4) < 1e-9);
	assert_true(o.headroom_factor == 1);
	free(st);
	free(st_off);
}

/* Pure noise around 5 (sd 1), 15 s ticks, 90 s horizon, two days (so the
 * seasonal part is tested too, and must find nothing). The level is the
 * mean of 6 points (sd 1/√6 = 0.41): above 5 + 3 × 0.41 = 6.22 in 0.13% of
 * evaluations if nothing were added; a trend needs both halves to rise at
 * p < 2.5% each (~0.06%). So: need > MARGIN in at most 1% of evaluations,
 * and on average the parts add at most 0.05 σ over the level. */
static void test_noise_adds_little(void **state)
{
	const double MARGIN = 5 + 3 / sqrt(6);
	struct forecast_cfg cfg = cfg_with(90000, true, true);
	struct forecast_state *st = new_state();
	struct forecast_out o;
	double added = 0;
	int n = 0, over = 0;

	(void)state;
	rng = 3;
	for (int64_t t = 0; t < 2 * DAY; t += TICK_MS) {
		forecast_observe(&cfg, st, t, 5 + gauss());
		forecast_predict(&cfg, st, t, &o);
		if (isnan(o.need))
			continue;
		n++;
		added += o.need - o.level;
		over += o.need > MARGIN;
	}
	print_message("noise: mean added %.4f, %.3f%% above %.2f\n", added / n, 100.0 * over / n,
	    MARGIN);
	assert_true(added / n <= 0.05);
	assert_true(over <= n / 100);
	free(st);
}

/* Noise the way a rate() window shows it: a new independent level every
 * minute (sd 1 around 5), reached along a straight line over the minute,
 * sampled every 15 s. Each point sits on a clean line, so the halves'
 * residuals say "significant" for every swing; the swings' own spread
 * must stop the trend. Under noise the rise over the window is the change
 * between two points, sd √2 × the swing's; the bar is 2 of those: P(Z > 2)
 * = 2.3%, fewer still with both halves rising. So it may fire (used or
 * benched) in at most 2.3% of the evaluations; without the swing bar it
 * fires in about 5% (measured). */
static void test_smooth_noise(void **state)
{
	struct forecast_cfg cfg = cfg_with(90000, true, false);
	struct forecast_state *st = new_state();
	struct forecast_out o;
	double prev = 5, next = 5 + gauss();
	int fired = 0, n = 0;

	(void)state;
	rng = 13;
	for (int64_t t = 0; t < DAY; t += TICK_MS) {
		double f = (double)(t % 60000) / 60000;

		if (t % 60000 == 0) {
			prev = next;
			next = 5 + gauss();
		}
		forecast_observe(&cfg, st, t, prev + f * (next - prev));
		forecast_predict(&cfg, st, t, &o);
		fired += o.trend_add > 0 || o.trend_benched;
		n++;
	}
	print_message("smooth noise: the trend fired in %.2f%%\n", 100.0 * fired / n);
	assert_true(fired <= n * 23 / 1000);
	free(st);
}

/* Weekdays at 10, weekends at 3, with a daily bump: 15 days of history at
 * 5 min points. On Monday morning (the rise from the weekend) the weekly
 * profile wins its test and sees the rise coming, which the daily median
 * (mostly weekdays) sees too, but the test picks the better one. */
static double weekly_load(int64_t t)
{
	int day = (int)((t / DAY) % 7);
	double base = day >= 5 ? 3 : 10;

	return base * (1 + 0.5 * sin(2 * PI * (double)(t % DAY) / (double)DAY));
}

static void test_weekly(void **state)
{
	struct forecast_cfg cfg = cfg_with(3600000, false, true);
	struct forecast_state *st = new_state();
	struct forecast_out o;
	int weekly = 0, n = 0;

	(void)state;
	for (int64_t t = 0; t < 15 * DAY; t += 60000) {
		if (t >= 14 * DAY) {
			forecast_predict(&cfg, st, t, &o);
			weekly += o.season == FORECAST_SEASON_WEEKLY;
			n++;
		}
		forecast_observe(&cfg, st, t, weekly_load(t));
	}
	/* day 14 is a Monday (day 0 is one): the weekly profile is the better */
	assert_true(weekly > n / 2);
	free(st);
}

/* Too little history: said so, and nothing seasonal is used; nothing at
 * all measured: NaN, the measured load decides. */
static void test_short_history(void **state)
{
	struct forecast_cfg cfg = cfg_with(90000, true, true);
	struct forecast_state *st = new_state();
	struct forecast_out o;

	(void)state;
	forecast_predict(&cfg, st, 0, &o);
	assert_true(isnan(o.need));
	assert_int_equal(o.basis, FORECAST_NONE);
	assert_non_null(strstr(o.note, "the measured load decides"));
	for (int64_t t = 0; t < 2 * 3600000; t += TICK_MS)
		forecast_observe(&cfg, st, t, sine(t * 12));
	forecast_predict(&cfg, st, 2 * 3600000, &o);
	assert_int_equal(o.season, FORECAST_SEASON_SHORT);
	assert_non_null(strstr(o.note, "< 1d + horizon"));
	assert_true(o.season_add == 0);
	/* a day exactly is still short: the profile needs a day plus the horizon */
	for (int64_t t = 2 * 3600000; t < DAY; t += TICK_MS)
		forecast_observe(&cfg, st, t, 5);
	forecast_predict(&cfg, st, DAY + cfg.horizon_ms - 1, &o);
	assert_int_equal(o.season, FORECAST_SEASON_SHORT);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daily_sine),
		cmocka_unit_test(test_seeded_history),
		cmocka_unit_test(test_recurring_jump),
		cmocka_unit_test(test_step_no_oscillation),
		cmocka_unit_test(test_ramp_followed),
		cmocka_unit_test(test_reverting_bursts_bench_the_trend),
		cmocka_unit_test(test_noise_adds_little),
		cmocka_unit_test(test_smooth_noise),
		cmocka_unit_test(test_weekly),
		cmocka_unit_test(test_short_history),
		cmocka_unit_test(test_headroom_part),
	};

	return cmocka_run_group_tests_name("forecast", tests, NULL, NULL);
}
