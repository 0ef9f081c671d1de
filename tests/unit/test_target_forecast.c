/* Where target tracking meets the forecaster (policy/target.h,
 * policy/forecast.h): the need it feeds back is measured, not assumed; a
 * forecast within the tolerance of the pool holds a scale-in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy/target.h"

static struct target_cfg total_cfg(void)
{
	struct target_cfg c = {
		.nmetrics = 1, .target = 25, .tolerance = 0.1, .stabilization_ms = 0,
		.up_period_ms = 60000, .down_period_ms = 60000,
	};

	c.metrics[0] = (struct target_metric){ POLICY_METRIC_TOTAL, 25 };
	return c;
}

/* 16 members, 6 of them silent (just started, not scraped yet), 100 req/s
 * in all at 25 each: the policy assumes a silent member carries one
 * instance's worth when scaling in (need 4 + 6 = 10), but what it feeds
 * the forecaster is the measurement, 4: fed the assumption, a forecast's
 * own scale-out would raise the next forecast. */
static void test_need_is_measured(void **state)
{
	struct target_cfg cfg = total_cfg();
	struct target_state *st = malloc(sizeof(*st));
	struct policy_sample s[16];
	struct policy_obs obs = { .current = 16, .min = 1, .max = 40, .nmetrics = 1,
		.backlog = NAN, .forecast_need = NAN };
	struct policy_decision d;

	(void)state;
	assert_non_null(st);
	policy_target_init(st);
	for (int i = 0; i < 16; i++)
		s[i] = (struct policy_sample){ .has_value = i < 10, .value = 10 };
	obs.metrics[0] = (struct policy_metric_obs){ .ok = true, .samples = s, .nsamples = 16 };
	policy_target_decide(&cfg, st, &obs, 1000, &d);
	assert_true(fabs(d.need - 4) < 1e-9);
	assert_int_equal(d.recommendation, 10);	/* the decision keeps the fill-in */
	free(st);
}

/* Measured 4 on a pool of 16 that the forecast grew: a forecast of 14.8
 * (within 10% of 16) holds it; one of 12 lets it shrink to 12, no further. */
static void test_forecast_within_tolerance_holds(void **state)
{
	struct target_cfg cfg = total_cfg();
	struct target_state *st = malloc(sizeof(*st));
	struct policy_sample s[16];
	struct policy_obs obs = { .current = 16, .min = 1, .max = 40, .nmetrics = 1,
		.backlog = NAN, .forecast_need = 14.8 };
	struct policy_decision d;

	(void)state;
	assert_non_null(st);
	for (int i = 0; i < 16; i++)
		s[i] = (struct policy_sample){ .has_value = true, .value = 100.0 / 16 };
	obs.metrics[0] = (struct policy_metric_obs){ .ok = true, .samples = s, .nsamples = 16 };
	policy_target_init(st);
	policy_target_decide(&cfg, st, &obs, 1000, &d);
	assert_int_equal(d.desired, 16);
	obs.forecast_need = 12;
	policy_target_init(st);
	policy_target_decide(&cfg, st, &obs, 1000, &d);
	assert_int_equal(d.desired, 12);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_need_is_measured),
		cmocka_unit_test(test_forecast_within_tolerance_holds),
	};

	return cmocka_run_group_tests_name("target_forecast", tests, NULL, NULL);
}
