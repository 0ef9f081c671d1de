/* The clairvoyant oracle (sim/oracle.h): its plan alone, and run through
 * the simulator's pool and latency model. */
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
#include "sim/latency.h"
#include "sim/oracle.h"
#include "sim/sim.h"

/* 10 req/s instances filled to 0.5: 5 req/s each. Boot 60 s, checked
 * every 500 ms: ready exactly 60 s after the start. */
static const char yaml[] =
	"min: 1\nmax: 10\ninterval: 15s\n"
	"policy:\n  kind: target\n  target:\n    value: 0.5\n"
	"simulate:\n  capacity: 10\n  boot: 60s\n  slo: 1s\n  scrape_interval: 15s\n"
	"  rate_window: 1m\n  score_interval: 15s\n";

static struct sim_cfg *cfg_of(const char *text)
{
	struct sim_cfg *c = calloc(1, sizeof(*c));
	struct buf b;

	assert_non_null(c);
	buf_init(&b, 1 << 16);
	assert_int_equal(sim_cfg_load_string("oracle.yml", text, c, &b), 0);
	buf_fini(&b);
	return c;
}

/* A step from 5 to 40 req/s at 600 s, back to 5 at 1200 s: 1, then 8
 * instances from 540 s (one lead ahead), 1 again at 1200 s. */
static void test_plan_step(void **state)
{
	struct lat_model m = { 10, 1, 10 };
	struct load_rate r;
	struct oracle_plan p;
	struct err e;

	(void)state;
	assert_int_equal(load_rate_profile(&r, "0:5,600:5,600:40,1200:40,1200:5,1800:5", 0, &e),
	    0);
	assert_int_equal(oracle_plan(&p, &r, &m, 0.5, 1, 10, 60000, 1800000), 0);
	assert_int_equal(p.n, 3);
	assert_int_equal(oracle_at(&p, -5000), 1);
	assert_int_equal(oracle_at(&p, 539999), 1);
	assert_int_equal(oracle_at(&p, 540000), 8);
	assert_int_equal(oracle_at(&p, 1199999), 8);
	assert_int_equal(oracle_at(&p, 1200000), 1);
	assert_int_equal(oracle_next(&p, -1), 0);
	assert_int_equal(oracle_next(&p, 0), 540000);
	assert_int_equal(oracle_next(&p, 540000), 1200000);
	assert_true(oracle_next(&p, 1200000) == INT64_MAX);
	oracle_fini(&p);
	load_rate_fini(&r);
}

/* A dip shorter than the lead keeps the instances (restarting would cost
 * more); a longer one stops them at once. [min, max] hold. */
static void test_plan_gaps_and_bounds(void **state)
{
	struct lat_model m = { 10, 1, 10 };
	struct load_rate r;
	struct oracle_plan p;
	struct err e;

	(void)state;
	assert_int_equal(load_rate_profile(&r, "0:20,100:20,100:5,130:5,130:20,300:20,"
	    "300:5,500:5,500:200,600:200", 0, &e), 0);
	assert_int_equal(oracle_plan(&p, &r, &m, 0.5, 2, 10, 60000, 600000), 0);
	/* 4 through the 30 s dip at 100 s */
	assert_int_equal(oracle_at(&p, 0), 4);
	assert_int_equal(oracle_at(&p, 120000), 4);
	/* the 200 s dip at 300 s: down to min at once, up 60 s before 500 s */
	assert_int_equal(oracle_at(&p, 300000), 2);
	assert_int_equal(oracle_at(&p, 439999), 2);
	/* 200 req/s needs 40: capped at max */
	assert_int_equal(oracle_at(&p, 440000), 10);
	oracle_fini(&p);
	load_rate_fini(&r);
}

/* Through the simulator: the first start is exactly one boot ahead of the
 * step, the pool is ready for the load in every interval, so the only
 * violations are the M/M/1 tail at half load (e^-5 of the requests at
 * most), none fail, and the pool is back at 1 after the step. */
static void test_run_step_one_boot_ahead(void **state)
{
	struct sim_cfg *c = cfg_of(yaml);
	struct lat_model m = sim_cfg_lat(c);
	struct load_rate r;
	struct sim_result a;
	struct err e;

	(void)state;
	assert_int_equal(load_rate_profile(&r, "0:5,600:5,600:40,1200:40,1200:5,1800:5", 0, &e),
	    0);
	assert_int_equal(sim_run(c, SIM_ORACLE, &r, 0, &a, &e), 0);
	assert_int_equal(a.ndec, 2);
	assert_true(a.dec[0].t_s == 540 && a.dec[0].from == 1 && a.dec[0].to == 8);
	assert_true(a.dec[1].t_s == 1200 && a.dec[1].to == 1);
	/* every interval's worst p95 within the SLO: never short of capacity */
	for (size_t i = 0; i < a.nrows; i++)
		assert_true(a.rows[i].p95_ms <= 1000 * m.slo_s);
	assert_true(a.failed == 0);
	assert_true(a.violations <= a.arrivals * exp(-5) + 1e-9);
	/* 1 instance for 1800 s, 7 more from 540 s to 1200 s plus the drain */
	assert_true(fabs(a.instance_s - (1800 + 7 * (660 + 1))) < 1e-6);
	sim_result_fini(&a);
	load_rate_fini(&r);
	sim_cfg_fini(c);
	free(c);
}

/* A constant load: the plan never changes and nothing is decided. */
static void test_run_constant_never_changes(void **state)
{
	struct sim_cfg *c = cfg_of(yaml);
	struct load_rate r;
	struct oracle_plan p;
	struct lat_model m = sim_cfg_lat(c);
	struct sim_result a;
	struct err e;

	(void)state;
	assert_int_equal(load_rate_constant(&r, 23, 3600, &e), 0);
	assert_int_equal(oracle_plan(&p, &r, &m, 0.5, 1, 10, 60000, 3600000), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.desired[0], 5);
	oracle_fini(&p);
	assert_int_equal(sim_run(c, SIM_ORACLE, &r, 0, &a, &e), 0);
	assert_int_equal(a.ndec, 0);
	assert_int_equal(a.ups + a.downs, 0);
	assert_int_equal(a.max_supply, 5);
	assert_true(a.failed == 0);
	sim_result_fini(&a);
	load_rate_fini(&r);
	sim_cfg_fini(c);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_step),
		cmocka_unit_test(test_plan_gaps_and_bounds),
		cmocka_unit_test(test_run_step_one_boot_ahead),
		cmocka_unit_test(test_run_constant_never_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
