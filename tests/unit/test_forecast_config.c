/* policy.target.forecast in the controller's config: values, defaults, the
 * deprecated `predict` alias, and every error as FILE:LINE: key: message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/config.h"

static int load(const char *text, struct ctl_cfg *c, struct buf *errs)
{
	int n;

	buf_init(errs, 1 << 16);
	n = ctl_cfg_load_string("/etc/p/poolscale.yml", text, c, errs);
	buf_append(errs, "", 1);
	return n;
}

static void test_forecast_block(void **state)
{
	static const char text[] =
	    "pool: api\n"
	    "interval: 10s\n"
	    "policy:\n"
	    "  kind: target\n"
	    "  target:\n"
	    "    metrics:\n"
	    "      - query: sum by (instance) (rate(r{pool=\"{pool}\"}[1m]))\n"
	    "        type: total\n"
	    "        value: 40\n"
	    "    forecast:\n"
	    "      enabled: true\n"
	    "      horizon: 3m\n"
	    "      step: 10m\n"
	    "      history_days: 7\n"
	    "      seasonality: false\n"
	    "      history_query: sum(rate(r{pool=\"{pool}\"}[5m]))\n"
	    "      headroom:\n"
	    "        memory: 6h\n";
	struct ctl_cfg c;
	struct forecast_cfg f;
	struct buf errs;

	(void)state;
	if (load(text, &c, &errs) != 0)
		fail_msg("%s", errs.p);
	ctl_forecast_cfg(&c, &f);
	assert_true(f.enabled);
	assert_int_equal(f.horizon_ms, 180000);
	assert_int_equal(f.step_ms, 600000);
	assert_int_equal(f.history_days, 7);
	assert_false(f.seasonality);
	assert_true(f.trend);
	/* the headroom block turns it on, at its default quantile */
	assert_true(f.headroom_quantile == 0.9);
	assert_int_equal(f.headroom_memory_ms, 6 * 3600000LL);
	assert_string_equal(c.history_query, "sum(rate(r{pool=\"api\"}[5m]))");
	/* history in instances: the total metric's value, unless given */
	assert_true(ctl_forecast_history_value(&c) == 40);
	ctl_cfg_fini(&c);
	buf_fini(&errs);
}

static void test_forecast_defaults(void **state)
{
	struct ctl_cfg c;
	struct forecast_cfg f;
	struct buf errs;

	(void)state;
	assert_int_equal(load("pool: web\ninterval: 15s\npolicy:\n  kind: target\n", &c, &errs), 0);
	ctl_forecast_cfg(&c, &f);
	assert_false(f.enabled);
	/* a boot (the warm-up, 60 s) plus the pipeline (one interval) */
	assert_int_equal(f.horizon_ms, 75000);
	assert_int_equal(f.step_ms, 300000);
	assert_int_equal(f.history_days, 14);
	assert_true(f.seasonality && f.trend);
	assert_true(f.headroom_quantile == 0);	/* off without its block */
	assert_non_null(strstr(c.history_query,
	    "poolscale_app_requests_received_total{pool=\"web\",job=\"pool-app\"}"));
	/* the CPU shorthand has no per-instance request rate: no history */
	assert_true(ctl_forecast_history_value(&c) == 0);
	ctl_cfg_fini(&c);
	buf_fini(&errs);
	/* the deprecated predict: the forecast on, with that horizon */
	assert_int_equal(load("policy:\n  kind: target\n  target:\n    predict: 2m\n", &c, &errs),
	    0);
	ctl_forecast_cfg(&c, &f);
	assert_true(f.enabled);
	assert_int_equal(f.horizon_ms, 120000);
	ctl_cfg_fini(&c);
	buf_fini(&errs);
}

static const struct {
	const char *name, *text, *want;
} bad[] = {
	{ "history_days_above_14",
	  "policy:\n  target:\n    forecast:\n      history_days: 15\n",
	  "/etc/p/poolscale.yml:4: policy.target.forecast.history_days:" },
	{ "step_not_dividing_a_day",
	  "policy:\n  target:\n    forecast:\n      step: 7m\n",
	  "/etc/p/poolscale.yml:4: policy.target.forecast.step: must divide a day" },
	{ "step_below_5m",
	  "policy:\n  target:\n    forecast:\n      step: 1m\n",
	  "/etc/p/poolscale.yml:4: policy.target.forecast.step:" },
	{ "horizon_too_long",
	  "policy:\n  target:\n    forecast:\n      horizon: 7h\n",
	  "/etc/p/poolscale.yml:4: policy.target.forecast.horizon:" },
	{ "unknown_key",
	  "policy:\n  target:\n    forecast:\n      seasonal: true\n",
	  "policy.target.forecast.seasonal" },
	{ "enabled_not_bool",
	  "policy:\n  target:\n    forecast:\n      enabled: maybe\n",
	  "/etc/p/poolscale.yml:4: policy.target.forecast.enabled:" },
	{ "old_trend_key",
	  "policy:\n  target:\n    predict: 60s\n    trend: 60s\n",
	  "/etc/p/poolscale.yml:4: policy.target.trend: removed" },
	{ "predict_and_forecast",
	  "policy:\n  target:\n    predict: 60s\n    forecast:\n      enabled: true\n",
	  "policy.target.forecast: give either it or the older predict" },
	{ "headroom_quantile_below_half",
	  "policy:\n  target:\n    forecast:\n      headroom:\n        quantile: 0.3\n",
	  "/etc/p/poolscale.yml:5: policy.target.forecast.headroom.quantile:" },
	{ "headroom_unknown_key",
	  "policy:\n  target:\n    forecast:\n      headroom:\n        lead: 2m\n",
	  "policy.target.forecast.headroom.lead" },
	{ "not_a_mapping",
	  "policy:\n  target:\n    forecast: yes\n",
	  "/etc/p/poolscale.yml:3: policy.target.forecast" },
};

static void test_forecast_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ctl_cfg c;
		struct buf errs;
		int n = load(bad[i].text, &c, &errs);

		print_message("%s\n", bad[i].name);
		assert_true(n >= 1);
		if (strstr(errs.p, bad[i].want) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].name, errs.p, bad[i].want);
		ctl_cfg_fini(&c);
		buf_fini(&errs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forecast_block),
		cmocka_unit_test(test_forecast_defaults),
		cmocka_unit_test(test_forecast_errors),
	};

	return cmocka_run_group_tests_name("forecast_config", tests, NULL, NULL);
}
