/* The SPEC RG elasticity metrics against the worked example of
 * ../shared/reference/elasticity-metrics.md, section 7, and its edge cases. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/elasticity.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-3)

static const double d[] = { 2, 3, 5, 5, 3, 2 };
static const double a[] = { 2, 2, 3, 6, 6, 3 };	/* fast, proportional */
static const double b[] = { 2, 2, 2, 3, 4, 5 };	/* slow step: the baseline */

static void test_worked_example(void **state)
{
	struct elasticity ma, mb;

	(void)state;
	assert_int_equal(elasticity_score(d, a, 6, 60, &ma), 0);
	assert_int_equal(elasticity_score(d, b, 6, 60, &mb), 0);
	NEAR(ma.theta_u, 12.222);
	NEAR(ma.theta_o, 28.333);
	NEAR(ma.tau_u, 33.333);
	NEAR(ma.tau_o, 50.000);
	NEAR(ma.upsilon, 60.000);
	NEAR(ma.jitter_per_s * 60, -0.167);
	NEAR(ma.supply_s, 22 * 60);
	NEAR(ma.demand_s, 20 * 60);
	assert_int_equal(ma.adaptations, 3);
	assert_int_equal(ma.ups, 2);
	assert_int_equal(ma.downs, 1);
	NEAR(mb.theta_u, 22.222);
	NEAR(mb.theta_o, 30.556);
	NEAR(mb.tau_u, 50.000);
	NEAR(mb.tau_o, 33.333);
	NEAR(mb.upsilon, 100.000);
	NEAR(mb.jitter_per_s * 60, -0.167);
	NEAR(mb.supply_s, 18 * 60);
	NEAR(elasticity_speedup4(&mb, &ma), 1.1833);
	NEAR(elasticity_speedup5(&mb, &ma), 1.2672);
	/* Swapping baseline and candidate inverts the speedup. */
	NEAR(elasticity_speedup4(&ma, &mb), 1 / 1.1833);
	assert_true(fabs(elasticity_deviation(&ma) - 90.35) < 0.01);
	assert_true(fabs(elasticity_deviation(&mb) - 122.63) < 0.01);
}

static void test_edges(void **state)
{
	double zero[6] = { 0 }, twice[6], dd[] = { 0, 1 };
	struct elasticity m;

	(void)state;
	/* Supply equal to demand: all 0. */
	assert_int_equal(elasticity_score(d, d, 6, 1, &m), 0);
	assert_true(m.theta_u == 0 && m.theta_o == 0 && m.tau_u == 0 && m.tau_o == 0);
	assert_true(m.upsilon == 0 && m.jitter_per_s == 0);
	/* No supply: fully under. */
	assert_int_equal(elasticity_score(d, zero, 6, 1, &m), 0);
	NEAR(m.theta_u, 100);
	NEAR(m.tau_u, 100);
	/* Twice the demand: 100% over, all the time. */
	for (int i = 0; i < 6; i++)
		twice[i] = 2 * d[i];
	assert_int_equal(elasticity_score(d, twice, 6, 1, &m), 0);
	NEAR(m.theta_o, 100);
	NEAR(m.tau_o, 100);
	/* A perfect candidate has a finite speedup (the floor). */
	{
		struct elasticity perfect, base;

		elasticity_score(d, d, 6, 1, &perfect);
		elasticity_score(d, b, 6, 1, &base);
		assert_true(isfinite(elasticity_speedup5(&base, &perfect)));
		assert_true(elasticity_speedup5(&base, &perfect) > 1);
	}
	/* Bad input. */
	assert_int_equal(elasticity_score(d, a, 0, 1, &m), -1);
	assert_int_equal(elasticity_score(d, a, 6, 0, &m), -1);
	assert_int_equal(elasticity_score(dd, dd, 2, 1, &m), -1);
	/* One sample: no differences, no instability. */
	assert_int_equal(elasticity_score(d, a, 1, 1, &m), 0);
	assert_true(m.upsilon == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
