/* The request-count peers in the simulator (sim/peers.h): the load
 * balancer's count, and AWS predictive scaling learning from the run's own
 * history (no forecast for the first 24 h: target tracking alone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "load/rate.h"
#include "sim/config.h"
#include "sim/peers.h"
#include "sim/sim.h"

static const char yaml[] =
	"min: 1\nmax: 40\ninterval: 15s\n"
	"policy:\n  kind: target\n  target:\n    value: 0.5\n"
	"simulate:\n  capacity: 10\n  boot: 120s\n  scrape_interval: 15s\n"
	"  rate_window: 1m\n  warm_start: true\n";

static struct sim_cfg *cfg_of(const char *text)
{
	struct sim_cfg *c = calloc(1, sizeof(*c));
	struct buf b;

	assert_non_null(c);
	buf_init(&b, 1 << 16);
	assert_int_equal(sim_cfg_load_string("peers.yml", text, c, &b), 0);
	buf_fini(&b);
	return c;
}

static void test_offered_counts_the_schedule(void **state)
{
	struct load_rate r;
	struct err e;

	(void)state;
	assert_int_equal(load_rate_profile(&r, "0:10,60:10,60:40,120:40", 0, &e), 0);
	assert_true(fabs(sim_offered(&r, 0, 0, 60000) - 600) < 1e-9);
	assert_true(fabs(sim_offered(&r, 0, 30000, 90000) - (300 + 1200)) < 1e-9);
	/* before 0: the warm pool's lead-in rate */
	assert_true(fabs(sim_offered(&r, 7, -60000, 0) - 420) < 1e-9);
	assert_true(fabs(sim_offered(&r, 7, -30000, 30000) - (210 + 300)) < 1e-9);
	load_rate_fini(&r);
}

/* Three days of the same daily shape, hour by hour: quiet nights, a
 * morning ramp. The first day aws-predictive decides exactly as
 * aws-target-req (no forecast yet); on the next days it has the morning's
 * capacity in place before the load arrives, so it misses the SLO less. */
static void test_predictive_learns_after_a_day(void **state)
{
	struct sim_cfg *c = cfg_of(yaml);
	char spec[8192];
	size_t len = 0;
	struct load_rate r;
	struct sim_result a, p;
	struct err e;
	size_t i;

	(void)state;
	for (int d = 0; d < 3; d++)
		for (int h = 0; h < 24; h++) {
			double rps = h >= 8 && h < 20 ? 150 : 10;

			len += (size_t)snprintf(spec + len, sizeof(spec) - len, "%s%d:%g,%d:%g",
			    len ? "," : "", (d * 24 + h) * 3600, rps, (d * 24 + h + 1) * 3600, rps);
		}
	assert_int_equal(load_rate_profile(&r, spec, 0, &e), 0);
	assert_int_equal(sim_run(c, SIM_AWS_REQ, &r, 0, &a, &e), 0);
	assert_int_equal(sim_run(c, SIM_AWS_PREDICT, &r, 0, &p, &e), 0);
	for (i = 0; i < a.ndec && i < p.ndec && a.dec[i].t_s < 86400; i++) {
		assert_true(a.dec[i].t_s == p.dec[i].t_s);
		assert_int_equal(a.dec[i].to, p.dec[i].to);
	}
	/* day 2, 08:00: the forecast's 30 instances are ready at the hour */
	for (i = 0; i < p.nrows && p.rows[i].t_s <= 86400 + 8 * 3600; i++)
		;
	assert_true(i < p.nrows);
	assert_true(p.rows[i].ready >= 30);
	assert_true(sim_violation_pct(&p) < sim_violation_pct(&a));
	sim_result_fini(&a);
	sim_result_fini(&p);
	load_rate_fini(&r);
	sim_cfg_fini(c);
	free(c);
}

/* The HPA on the load balancer's rate sees a step whole: from 4 to 20
 * instances' worth at the target, its first scale-up is 4 -> 8 (the rate
 * window shows half the step), and it asks for all 20 once the 1m window
 * has filled (by 600 + 60 + one sync), where the HPA on CPU, which
 * saturates at 100% while the new pods boot, takes minutes more. */
static void test_hpa_ext_sees_the_whole_step(void **state)
{
	struct sim_cfg *c = cfg_of(yaml);
	struct load_rate r;
	struct sim_result x;
	struct err e;
	double first = -1, at20 = -1;

	(void)state;
	assert_int_equal(load_rate_profile(&r, "0:20,600:20,600:100,1800:100", 0, &e), 0);
	assert_int_equal(sim_run(c, SIM_HPA_EXT, &r, 0, &x, &e), 0);
	for (size_t i = 0; i < x.ndec; i++) {
		if (first < 0 && x.dec[i].to > x.dec[i].from) {
			first = x.dec[i].t_s;
			assert_int_equal(x.dec[i].from, 4);
			assert_int_equal(x.dec[i].to, 8);
		}
		if (at20 < 0 && x.dec[i].to >= 20)
			at20 = x.dec[i].t_s;
	}
	assert_true(first >= 600 && at20 > 0 && at20 <= 600 + 60 + 15);
	sim_result_fini(&x);
	assert_int_equal(sim_run(c, SIM_HPA, &r, 0, &x, &e), 0);
	for (size_t i = 0; i < x.ndec; i++)
		if (x.dec[i].to >= 20) {
			assert_true(x.dec[i].t_s > at20 + 120);
			break;
		}
	sim_result_fini(&x);
	load_rate_fini(&r);
	sim_cfg_fini(c);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offered_counts_the_schedule),
		cmocka_unit_test(test_predictive_learns_after_a_day),
		cmocka_unit_test(test_hpa_ext_sees_the_whole_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
