/* policy/headroom: the factor follows the load's own rises over a lead
 * time, forgets them, and stays 1 without evidence. Expected factors are
 * worked out from the definition: the q-quantile of ln(need(t) /
 * need(t - lead)), rounded up to its bin's upper edge, exponentiated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "policy/headroom.h"

static const struct headroom_cfg cfg = { .lead_ms = 120000, .quantile = 0.9,
	.memory_ms = 6 * 3600 * 1000LL };

/* One bin's width in the factor's log: ln 8 / 127 = 0.0164, so a factor
 * reads up to 1.7% above the rise it covers. */
static const double bin_log = 0.016374;

static double run(struct headroom_state *st, int64_t *t, int64_t tick_ms, int ticks,
    double (*need)(int64_t t_ms))
{
	for (int i = 0; i < ticks; i++, *t += tick_ms)
		headroom_observe(&cfg, st, *t, need(*t));
	return headroom_factor(&cfg, st);
}

static double flat(int64_t t)
{
	(void)t;
	return 10;
}

/* 20% more every lead time: e^(ln 1.2 × t / lead) */
static double rising(int64_t t)
{
	return 4 * exp(log(1.2) * (double)t / 120000.0);
}

static void test_calm_load_needs_no_headroom(void **state)
{
	struct headroom_state st;
	int64_t t = 0;

	(void)state;
	headroom_init(&st);
	assert_true(run(&st, &t, 15000, 400, flat) == 1.0);
}

static void test_steady_rise_is_covered(void **state)
{
	struct headroom_state st;
	int64_t t = 0;
	double f;

	(void)state;
	headroom_init(&st);
	/* 15 s ticks for 50 min: every rise over 120 s is exactly ×1.2. */
	f = run(&st, &t, 15000, 200, rising);
	assert_true(f >= 1.2);
	assert_true(log(f) <= log(1.2) + bin_log + 1e-9);
}

/* Rises of up to ×1.5 once per cycle, none otherwise. */
static double sometimes(int64_t t)
{
	/* a 20 min cycle: up ×1.5 over 2 min, then down and flat */
	int64_t c = t % 1200000;

	if (c < 120000)
		return 6 * exp(log(1.5) * (double)c / 120000.0);
	if (c < 240000)
		return 9 * exp(-log(1.5) * (double)(c - 120000) / 120000.0);
	return 6;
}

static void test_quantile_picks_the_rises_it_covers(void **state)
{
	struct headroom_cfg c95 = cfg, c80 = cfg;
	struct headroom_state st;
	int64_t t = 0;

	(void)state;
	c95.quantile = 0.95;
	c80.quantile = 0.8;
	headroom_init(&st);
	run(&st, &t, 15000, 960, sometimes);	/* 4 h: 12 cycles */
	/* Over a lead time (8 ticks) the need rises from tick 1 to tick 11
	 * of each 80-tick cycle: 11 of 80 ticks (14%) see a rise, spread
	 * evenly in log from 0 to ln 1.5. So the q quantile for q > 0.86 is
	 * about 1.5^((q - 0.86) / 0.14): q 0.95 gives 1.5^0.64 = 1.30, and
	 * q 0.8 falls among the ticks without a rise: 1. */
	assert_true(headroom_factor(&c95, &st) > 1.25);
	assert_true(headroom_factor(&c95, &st) < 1.36);
	assert_true(headroom_factor(&c80, &st) == 1.0);
}

static void test_rises_are_forgotten(void **state)
{
	struct headroom_state st;
	int64_t t = 0;

	(void)state;
	headroom_init(&st);
	run(&st, &t, 15000, 200, rising);
	assert_true(headroom_factor(&cfg, &st) > 1.15);
	/* Then calm for 6 memory time constants: the rises weigh e^-6 of
	 * what they did, far below the 10% the quantile needs. */
	for (int i = 0; i < 6 * 6 * 240; i++, t += 15000)
		headroom_observe(&cfg, &st, t, 50);
	assert_true(headroom_factor(&cfg, &st) == 1.0);
}

static void test_no_factor_without_evidence(void **state)
{
	struct headroom_state st;
	int64_t t = 0;

	(void)state;
	headroom_init(&st);
	/* Fewer than 2/(1 - 0.9) = 20 rises: 1, however steep. */
	run(&st, &t, 15000, 8 + 19, rising);	/* the first 8 ticks see no lead-ago point */
	assert_true(headroom_factor(&cfg, &st) == 1.0);
	run(&st, &t, 15000, 2, rising);
	assert_true(headroom_factor(&cfg, &st) > 1.15);
	/* NaN and negative needs are not observations. */
	headroom_init(&st);
	t = 0;
	for (int i = 0; i < 100; i++, t += 15000)
		headroom_observe(&cfg, &st, t, i % 2 ? NAN : -1);
	assert_int_equal(st.n, 0);
	assert_true(headroom_factor(&cfg, &st) == 1.0);
}

/* A caller that decides every 100 ms still finds the point a lead time
 * ago: the ring keeps points spaced so it spans two lead times. */
static void test_fast_ticks_still_span_the_lead(void **state)
{
	struct headroom_state st;
	int64_t t = 0;
	double f;

	(void)state;
	headroom_init(&st);
	f = run(&st, &t, 100, 6000, rising);	/* 10 min */
	assert_true(f >= 1.2 - 0.01);
	assert_true(log(f) <= log(1.2) + bin_log + 0.01);
}

/* Tiny loads: a rise from 0.1 to 0.5 instances is sized as from 1 to 1. */
static double tiny(int64_t t)
{
	return 0.1 + 0.4 * (double)(t % 240000) / 240000.0;
}

static void test_tiny_loads_do_not_count_as_rises(void **state)
{
	struct headroom_state st;
	int64_t t = 0;

	(void)state;
	headroom_init(&st);
	assert_true(run(&st, &t, 15000, 200, tiny) == 1.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calm_load_needs_no_headroom),
		cmocka_unit_test(test_steady_rise_is_covered),
		cmocka_unit_test(test_quantile_picks_the_rises_it_covers),
		cmocka_unit_test(test_rises_are_forgotten),
		cmocka_unit_test(test_no_factor_without_evidence),
		cmocka_unit_test(test_fast_ticks_still_span_the_lead),
		cmocka_unit_test(test_tiny_loads_do_not_count_as_rises),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
