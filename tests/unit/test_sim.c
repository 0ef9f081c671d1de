/* The simulator's parts: the virtual clock, the alert pipeline's delays,
 * the queueing model, the pool, the config, and whole runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load/rate.h"
#include "sim/alerts.h"
#include "sim/config.h"
#include "sim/evq.h"
#include "sim/latency.h"
#include "sim/pool.h"
#include "sim/sim.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static void test_evq_order(void **state)
{
	static const int64_t at[] = { 50, 10, 30, 10, 40, 20, 10 };
	struct evq q;
	struct sim_event ev;
	int64_t last = -1;
	int n = 0, tens = 0;

	(void)state;
	evq_init(&q, 0);
	for (int i = 0; i < 7; i++)
		assert_int_equal(evq_push(&q, at[i], 0, i), 0);
	assert_int_equal(evq_next_ms(&q), 10);
	while (evq_pop(&q, &ev)) {
		assert_true(ev.at_ms >= last);
		assert_int_equal(q.now_ms, ev.at_ms);
		if (ev.at_ms == 10) {
			/* ties come out in the order they were scheduled */
			assert_int_equal(ev.arg, tens == 0 ? 1 : tens == 1 ? 3 : 6);
			tens++;
		}
		last = ev.at_ms;
		n++;
	}
	assert_int_equal(n, 7);
	/* at one time, lower kinds first, whatever the scheduling order */
	evq_push(&q, 60, 3, 0);
	evq_push(&q, 60, 1, 1);
	evq_push(&q, 60, 1, 2);
	assert_int_equal(evq_pop(&q, &ev), 1);
	assert_true(ev.kind == 1 && ev.arg == 1);
	assert_int_equal(evq_pop(&q, &ev), 1);
	assert_true(ev.kind == 1 && ev.arg == 2);
	assert_int_equal(evq_pop(&q, &ev), 1);
	assert_int_equal(ev.kind, 3);
	/* the clock never goes back: an event in the past runs now */
	evq_push(&q, 5, 0, 0);
	assert_int_equal(evq_pop(&q, &ev), 1);
	assert_int_equal(ev.at_ms, 60);
	assert_int_equal(evq_pop(&q, &ev), 0);
	assert_int_equal(evq_next_ms(&q), INT64_MAX);
	evq_fini(&q);
}

static const struct sim_alerts seed_alerts = {
	.high = 0.8, .low = 0.2, .for_ms = 60000, .rule_interval_ms = 15000,
	.group_wait_ms = 30000, .group_interval_ms = 15000, .repeat_interval_ms = 60000,
};

/* Runs rule evaluations every 15 s with mean CPU high from `from` on and
 * flushes as Alertmanager would; the times of the webhooks sent. */
static int webhooks(int64_t from, int64_t until, int64_t *sent, int cap)
{
	struct alerts_state st;
	int n = 0;

	alerts_init(&st);
	for (int64_t t = 0; t <= until; t += 5000) {
		if (t % seed_alerts.rule_interval_ms == 0)
			alerts_eval(&seed_alerts, &st, t >= from ? 0.95 : 0.5, t);
		if (st.a[ALERT_UP].next_flush_ms == t && alerts_flush(&seed_alerts, &st,
		    ALERT_UP, t) && n < cap)
			sent[n++] = t;
	}
	return n;
}

static void test_alert_never_before_for(void **state)
{
	int64_t sent[16];

	(void)state;
	/* Whatever the phase of the crossing against the rule evaluations,
	 * the first webhook leaves no earlier than for + group_wait after. */
	for (int64_t from = 0; from <= 30000; from += 5000) {
		int n = webhooks(from, 400000, sent, 16);
		int64_t first_eval = (from + 14999) / 15000 * 15000;

		assert_true(n >= 2);
		assert_true(sent[0] >= from + seed_alerts.for_ms + seed_alerts.group_wait_ms);
		assert_int_equal(sent[0], first_eval + 60000 + 30000);
		/* then once per repeat interval, not per group interval */
		for (int i = 1; i < n; i++)
			assert_int_equal(sent[i] - sent[i - 1], 60000);
	}
}

static void test_alert_pending_resets(void **state)
{
	struct alerts_state st;

	(void)state;
	alerts_init(&st);
	alerts_eval(&seed_alerts, &st, 0.9, 0);
	alerts_eval(&seed_alerts, &st, 0.9, 45000);
	assert_true(st.a[ALERT_UP].pending);
	alerts_eval(&seed_alerts, &st, 0.5, 50000);	/* dips below: inactive */
	alerts_eval(&seed_alerts, &st, 0.9, 60000);
	alerts_eval(&seed_alerts, &st, 0.9, 105000);
	assert_false(st.a[ALERT_UP].firing);		/* 45 s of a new run */
	alerts_eval(&seed_alerts, &st, 0.9, 120000);
	assert_true(st.a[ALERT_UP].firing);
	/* no data: no alert (the seeds' avg() of nothing) */
	alerts_eval(&seed_alerts, &st, NAN, 135000);
	assert_false(st.a[ALERT_UP].firing);
	assert_false(st.a[ALERT_DOWN].firing || st.a[ALERT_DOWN].pending);
	/* the group goes at its next flush, sending nothing */
	assert_false(alerts_flush(&seed_alerts, &st, ALERT_UP, st.a[ALERT_UP].next_flush_ms));
	assert_false(st.a[ALERT_UP].grouped);
}

static void test_latency_model(void **state)
{
	struct lat_model m = { 15, 0.5, 10 };
	struct lat_seg s;
	double b = 0;

	(void)state;
	NEAR(lat_rho_slo(&m), 1 - log(20) / 7.5, 1e-9);
	assert_int_equal(lat_demand(&m, 0), 1);
	assert_int_equal(lat_demand(&m, 15 * lat_rho_slo(&m)), 1);
	assert_int_equal(lat_demand(&m, 15 * lat_rho_slo(&m) + 0.01), 2);
	assert_int_equal(lat_demand(&m, 100), 12);
	/* below capacity: M/M/1 tail and p95 */
	lat_advance(&m, &b, 20, 2, 10, &s);
	NEAR(s.arrivals, 200, 1e-9);
	NEAR(s.served, 200, 1e-9);
	NEAR(s.violations, 200 * exp(-(15 - 10) * 0.5), 1e-9);
	NEAR(s.p95_s, log(20) / 5, 1e-9);
	NEAR(s.util, 10.0 / 15, 1e-9);
	assert_true(b == 0);
	/* overloaded: everything offered violates, the excess queues */
	lat_advance(&m, &b, 40, 2, 1, &s);
	NEAR(s.served, 30, 1e-9);
	NEAR(s.violations, 40, 1e-9);
	NEAR(b, 10, 1e-9);
	NEAR(s.util, 1, 1e-12);
	assert_true(s.failed == 0);
	/* the backlog drains at 30 - 20 = 10/s: gone after 1 s */
	lat_advance(&m, &b, 20, 2, 2, &s);
	NEAR(b, 0, 1e-9);
	NEAR(s.served, 40 + 10, 1e-9);
	NEAR(s.util, 0.5 * 1 + 0.5 * (10.0 / 15), 1e-9);
	assert_true(s.violations > 20 * exp(-2.5) && s.violations < 40);
	/* beyond timeout worth of backlog, requests fail */
	lat_advance(&m, &b, 1000, 1, 1, &s);
	NEAR(b, 150, 1e-9);
	NEAR(s.failed, 1000 - 15 - 150, 1e-9);
	/* a scale-in leaves fewer servers for the backlog: what now waits
	 * longer than the timeout fails at once */
	lat_advance(&m, &b, 0, 2, 0.001, &s);
	NEAR(b, 150, 0.1);
	b = 150;
	lat_advance(&m, &b, 0, 1, 0.001, &s);
	NEAR(s.failed, 0, 1e-9);
	b = 300;
	lat_advance(&m, &b, 0, 1, 0.001, &s);
	NEAR(s.failed, 150, 1e-9);
	b = 150;
	/* nobody ready: all fail */
	lat_advance(&m, &b, 10, 0, 1, &s);
	NEAR(s.failed, 10 + 150, 1e-9);
	assert_true(b == 0);
}

static struct sim_cfg *cfg_from(const char *yaml, int *nerr, char *errs, size_t cap)
{
	char path[] = "/tmp/test_sim_cfg_XXXXXX";
	struct sim_cfg *c = calloc(1, sizeof(*c));
	struct buf b;
	int fd = mkstemp(path);

	assert_non_null(c);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	buf_init(&b, 1 << 16);
	*nerr = sim_cfg_load(path, c, &b);
	snprintf(errs, cap, "%.*s", (int)b.len, b.p);
	buf_fini(&b);
	unlink(path);
	return c;
}

static void free_cfg(struct sim_cfg *c)
{
	sim_cfg_fini(c);
	free(c);
}

static void test_pool(void **state)
{
	char errs[512];
	int nerr, started[8], drained[8];
	size_t ns, nd;
	struct sim_cfg *c = cfg_from("simulate:\n  capacity: 10\n  boot: 3200ms\n  drain: 2s\n"
	    "  scrape_interval: 15s\n  rate_window: 1m\n", &nerr, errs, sizeof(errs));
	struct spool p;

	(void)state;
	assert_int_equal(nerr, 0);
	assert_int_equal(spool_init(&p, c, 2, 0), 0);
	assert_int_equal(spool_resize(&p, 4, 1000, started, &ns, drained, &nd), 0);
	assert_int_equal(ns, 2);
	/* checked every 500 ms from creation: 3.2 s of boot is ready at 3.5 s */
	assert_int_equal(spool_find(&p, started[0])->ready_ms, 1000 + 3500);
	assert_int_equal(spool_supply(&p), 4);
	spool_ready(&p, started[0]);
	/* scale-in takes the booting one first, then the youngest ready */
	assert_int_equal(spool_resize(&p, 2, 2000, started, &ns, drained, &nd), 0);
	assert_int_equal(nd, 2);
	assert_int_equal(drained[0], 4);
	assert_int_equal(drained[1], 3);
	assert_int_equal(spool_find(&p, 4)->gone_ms, 2000);	/* booting: at once */
	assert_int_equal(spool_find(&p, 3)->gone_ms, 4000);	/* ready: after the drain */
	assert_int_equal(spool_active(&p), 2);
	assert_int_equal(spool_supply(&p), 4);
	spool_gone(&p, 4);
	spool_gone(&p, 3);
	assert_null(spool_find(&p, 3));
	assert_int_equal(spool_supply(&p), 2);
	/* CPU as Prometheus sees it: rate() needs two scrapes in the window */
	/* each target at its own fixed offset within the interval */
	for (int id = 1; id <= 2; id++) {
		int64_t ph = spool_scrape_phase(&p, id);

		assert_true(ph >= 0 && ph < 15000);
		assert_int_equal(spool_next_scrape(&p, id, 0), ph);
		assert_int_equal(spool_next_scrape(&p, id, ph + 1), ph + 15000);
		assert_int_equal(spool_next_scrape(&p, id, -15000 + ph), -15000 + ph);
	}
	assert_false(spool_scrape(&p, 3, 0));	/* gone: no more scrapes */
	assert_true(spool_scrape(&p, 1, 0));
	assert_true(spool_scrape(&p, 2, 0));
	assert_true(isnan(spool_cpu(&p, 0, 60000, 0)));
	for (int64_t t = 0; t < 60000; t += 15000) {
		spool_burn(&p, 0.4, t, 15000);
		spool_scrape(&p, 1, t + 15000);
		spool_scrape(&p, 2, t + 15000);
	}
	NEAR(spool_cpu(&p, 0, 60000, 60000), 0.4, 1e-9);
	NEAR(spool_mean_cpu(&p, 60000, 60000), 0.4, 1e-9);
	spool_fini(&p);
	free_cfg(c);
}

/* The requests the load balancer sends: counted on every ready member
 * evenly, none on a booting one, read through rate() like the CPU; the
 * queue gauge is each member's share of the backlog at its scrape. */
static void test_pool_requests_and_queue(void **state)
{
	char errs[512];
	int nerr, started[2], drained[2];
	size_t ns, nd;
	struct sim_cfg *c = cfg_from("simulate:\n  capacity: 10\n  boot: 60s\n"
	    "  scrape_interval: 15s\n", &nerr, errs, sizeof(errs));
	struct spool p;

	(void)state;
	assert_int_equal(nerr, 0);
	assert_int_equal(spool_init(&p, c, 2, 60000), 0);
	assert_int_equal(spool_resize(&p, 3, 0, started, &ns, drained, &nd), 0);
	assert_true(isnan(spool_queue(&p)));
	for (int64_t t = 0; t < 60000; t += 15000) {
		spool_receive(&p, 30 * 15.0);	/* 30 req/s over the 2 ready */
		p.backlog = 40;
		spool_scrape(&p, 1, t + 15000);
		spool_scrape(&p, 2, t + 15000);
		spool_scrape(&p, 3, t + 15000);
	}
	NEAR(spool_requests(&p, 0, 60000, 60000), 15, 1e-9);
	NEAR(spool_metric(&p, SPOOL_METRIC_REQUESTS, 1, 60000, 60000), 15, 1e-9);
	assert_true(isnan(spool_requests(&p, 2, 60000, 60000)));	/* booting */
	NEAR(spool_queue(&p), 40, 1e-9);
	assert_int_equal(sim_metric_of_query("rate(poolscale_app_requests_received_total[1m])"),
	    SPOOL_METRIC_REQUESTS);
	assert_int_equal(sim_metric_of_query("rate(node_cpu_seconds_total[1m])"),
	    SPOOL_METRIC_CPU);
	spool_fini(&p);
	free_cfg(c);
}

/* The first decision after a step from 2 to 30 req/s on one instance of
 * 10 req/s, with the rate window of two 15 s scrapes fully past the step
 * (the tick at 180 s): the CPU, saturated at 1.0 against 0.5, asks for 2;
 * the received requests, 30 against 5 per instance, for 6; with a backlog
 * of 100 (the 10 s timeout's worth of one instance) to drain in 10 s,
 * 100 / (5 x 10) = 2 more: 8. */
static void test_run_total_requests_one_decision(void **state)
{
	static const char *const yaml[] = {
		"    query: rate(node_cpu_seconds_total[30s])\n",
		"    metrics:\n      - query: rate(poolscale_app_requests_received_total[30s])\n"
		"        type: total\n        value: 5\n",
		"    metrics:\n      - query: rate(poolscale_app_requests_received_total[30s])\n"
		"        type: total\n        value: 5\n"
		"    backlog: {query: sum(poolscale_app_queue_length), drain: 10s}\n",
	};
	static const int want[] = { 2, 6, 8 };

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		char text[1024], errs[512];
		int nerr;
		struct sim_cfg *c;
		struct load_rate r;
		struct sim_result a;
		struct err e;

		snprintf(text, sizeof(text), "min: 1\nmax: 20\ninterval: 60s\npolicy:\n"
		    "  kind: target\n  target:\n%s    stabilization: 0s\nsimulate:\n"
		    "  capacity: 10\n  boot: 120s\n  scrape_interval: 15s\n", yaml[k]);
		c = cfg_from(text, &nerr, errs, sizeof(errs));
		if (nerr != 0)
			fail_msg("%s", errs);
		assert_int_equal(load_rate_profile(&r, "0:2,120:2,120:30,900:30", 0, &e), 0);
		assert_int_equal(sim_run(c, SIM_TARGET, &r, 0, &a, &e), 0);
		assert_true(a.ndec >= 1);
		print_message("%s\n", a.dec[0].reason);
		assert_true(a.dec[0].t_s == 180);
		assert_int_equal(a.dec[0].from, 1);
		assert_int_equal(a.dec[0].to, want[k]);
		sim_result_fini(&a);
		load_rate_fini(&r);
		free_cfg(c);
	}
}

static void test_config_errors(void **state)
{
	char errs[1024];
	int nerr;
	struct sim_cfg *c;

	(void)state;
	c = cfg_from("min: 1\nsimulate:\n  capacity: 10\n  scrape_interval: 40s\n"
	    "  bogus: 1\n  alerts:\n    high: 0.1\n    low: 0.5\n", &nerr, errs, sizeof(errs));
	assert_int_equal(nerr, 3);
	assert_non_null(strstr(errs, ":5: simulate.bogus"));
	assert_non_null(strstr(errs, "rate_window must hold two scrapes"));
	assert_non_null(strstr(errs, "low (0.5) must be below high (0.1)"));
	free_cfg(c);
	c = cfg_from("simulate:\n  capacity: 2\n  slo: 500ms\n", &nerr, errs, sizeof(errs));
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(errs, "shorter than an idle instance's p95"));
	free_cfg(c);
	/* the controller's own checks still apply */
	c = cfg_from("min: 5\nmax: 2\nsimulate:\n  capacity: 10\n", &nerr, errs, sizeof(errs));
	assert_true(nerr >= 1);
	assert_non_null(strstr(errs, "min (5) is above max (2)"));
	free_cfg(c);
	/* scrape offsets: half the interval by default, `random`, or a duration */
	c = cfg_from("simulate:\n  capacity: 10\n  scrape_interval: 10s\n  rate_window: 30s\n",
	    &nerr, errs, sizeof(errs));
	assert_int_equal(c->scrape_offset_ms, 5000);
	free_cfg(c);
	c = cfg_from("simulate:\n  capacity: 10\n  scrape_offset: random\n", &nerr, errs,
	    sizeof(errs));
	assert_int_equal(nerr, 0);
	assert_int_equal(c->scrape_offset_ms, -1);
	free_cfg(c);
	c = cfg_from("simulate:\n  capacity: 10\n  scrape_offset: 15s\n", &nerr, errs,
	    sizeof(errs));
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(errs, ":3: simulate.scrape_offset"));
	free_cfg(c);
	/* the rate window comes from the target query by default */
	c = cfg_from("policy:\n  kind: target\n  target:\n    query: rate(x[30s])\n"
	    "simulate:\n  capacity: 10\n", &nerr, errs, sizeof(errs));
	assert_int_equal(nerr, 0);
	assert_int_equal(c->rate_window_ms, 30000);
	free_cfg(c);
}

static const char run_yaml[] =
	"min: 1\nmax: 10\ninterval: 15s\n"
	"policy:\n  kind: target\n  target:\n    value: 0.5\n    warmup: 30s\n"
	"    stabilization: 120s\n"
	"simulate:\n  capacity: 10\n  boot: 30s\n  scrape_interval: 15s\n  rate_window: 1m\n"
	"  score_interval: 15s\n";

/* A rate window of exactly two scrapes works: the query at a scrape's
 * instant sees that scrape (scrapes run first at a tie). */
static void test_run_window_of_two_scrapes(void **state)
{
	char errs[512];
	int nerr;
	struct sim_cfg *c = cfg_from("min: 1\nmax: 10\ninterval: 60s\npolicy:\n  kind: target\n"
	    "  target:\n    query: rate(x[30s])\nsimulate:\n  capacity: 10\n"
	    "  scrape_interval: 15s\n", &nerr, errs, sizeof(errs));
	struct load_rate r;
	struct sim_result a;
	struct err e;

	(void)state;
	assert_int_equal(nerr, 0);
	assert_int_equal(c->rate_window_ms, 30000);
	assert_int_equal(load_rate_profile(&r, "0:2,120:2,120:30,900:30", 0, &e), 0);
	assert_int_equal(sim_run(c, SIM_TARGET, &r, 0, &a, &e), 0);
	assert_true(a.ups >= 1);
	assert_true(a.max_supply >= 5);
	sim_result_fini(&a);
	load_rate_fini(&r);
	free_cfg(c);
}

static void test_run_step_load(void **state)
{
	char errs[512];
	int nerr;
	struct sim_cfg *c = cfg_from(run_yaml, &nerr, errs, sizeof(errs));
	struct load_rate r;
	struct err e;
	enum sim_policy pols[] = { SIM_TARGET, SIM_SEED_STEP, SIM_AWS, SIM_HPA, SIM_STEP };

	(void)state;
	assert_int_equal(nerr, 0);
	/* 3 req/s for 5 min, 30 req/s for 20 min, 3 req/s for 25 min */
	assert_int_equal(load_rate_profile(&r, "0:3,300:3,300:30,1500:30,1500:3,3000:3", 0, &e),
	    0);
	for (size_t k = 0; k < sizeof(pols) / sizeof(pols[0]); k++) {
		struct sim_result a, b;
		double first_up = -1;

		assert_int_equal(sim_run(c, pols[k], &r, 0, &a, &e), 0);
		print_message("%s: ups %u downs %u max %d viol %.2f%%\n", sim_policy_name(pols[k]),
		    a.ups, a.downs, a.max_supply, sim_violation_pct(&a));
		assert_int_equal(a.nrows, 200);
		assert_true(a.ups >= 1 && a.downs >= 1);
		assert_true(a.max_supply >= 5);
		for (size_t i = 0; i < a.ndec; i++)
			if (a.dec[i].to > a.dec[i].from) {
				first_up = a.dec[i].t_s;
				break;
			}
		/* nobody can react before the load rises and a scrape shows it */
		assert_true(first_up >= 300 + 15);
		if (pols[k] == SIM_SEED_STEP) {
			/* the alert must hold for 1m first, then ±1 per 60 s */
			assert_true(first_up >= 300 + 60);
			for (size_t i = 0; i < a.ndec; i++)
				assert_int_equal(abs(a.dec[i].to - a.dec[i].from), 1);
		}
		/* back at min by the end */
		assert_int_equal(a.rows[a.nrows - 1].desired, 1);
		/* deterministic */
		assert_int_equal(sim_run(c, pols[k], &r, 0, &b, &e), 0);
		assert_int_equal(a.ndec, b.ndec);
		assert_true(a.violations == b.violations && a.instance_s == b.instance_s);
		sim_result_fini(&a);
		sim_result_fini(&b);
	}
	load_rate_fini(&r);
	free_cfg(c);
}

/* A run is scored in whole intervals, the last one padded: 100 s of load
 * with 15 s intervals is 7 rows (100 / 15 = 6.7, rounded up), the last at
 * 105 s. */
static void test_run_partial_last_interval(void **state)
{
	char errs[512];
	int nerr;
	struct sim_cfg *c = cfg_from(run_yaml, &nerr, errs, sizeof(errs));
	struct load_rate r;
	struct sim_result a;
	struct err e;

	(void)state;
	assert_int_equal(nerr, 0);
	assert_int_equal(load_rate_constant(&r, 3, 100, &e), 0);
	assert_int_equal(sim_run(c, SIM_TARGET, &r, 0, &a, &e), 0);
	assert_int_equal(a.nrows, 7);
	assert_true(a.rows[6].t_s == 105);
	sim_result_fini(&a);
	load_rate_fini(&r);
	free_cfg(c);
}

/* AWS warm-up runs from InService, not from launch (policies.md 5: an
 * instance "is not counted" until its warm-up has expired, and scale-in is
 * blocked while any warms up). With 120 s of boot and 20 min of warm-up,
 * no scale-in comes before the last scale-out + 120 s + 20 min; counted
 * from launch, the block would end 120 s early, while the low alarm
 * (15 min of 3 req/s on 10 req/s members) has long been firing. */
static void test_run_aws_warmup_from_in_service(void **state)
{
	char errs[512];
	int nerr;
	struct sim_cfg *c = cfg_from("min: 1\nmax: 10\ninterval: 15s\npolicy:\n  kind: target\n"
	    "  target:\n    value: 0.5\nsimulate:\n  capacity: 10\n  boot: 120s\n"
	    "  scrape_interval: 15s\n  rate_window: 1m\n  score_interval: 15s\n"
	    "  aws:\n    warmup: 20m\n    scale_in_cooldown: 0s\n", &nerr, errs, sizeof(errs));
	struct load_rate r;
	struct sim_result a;
	struct err e;
	double last_up = -1, first_down = -1;

	(void)state;
	if (nerr != 0)
		fail_msg("%s", errs);
	assert_int_equal(c->aws_warmup_ms, 1200000);
	assert_int_equal(load_rate_profile(&r, "0:30,300:30,300:3,3600:3", 0, &e), 0);
	assert_int_equal(sim_run(c, SIM_AWS, &r, 0, &a, &e), 0);
	for (size_t i = 0; i < a.ndec && first_down < 0; i++) {
		print_message("%.0f s: %d -> %d\n", a.dec[i].t_s, a.dec[i].from, a.dec[i].to);
		if (a.dec[i].to > a.dec[i].from)
			last_up = a.dec[i].t_s;
		else
			first_down = a.dec[i].t_s;
	}
	assert_true(last_up > 0);
	assert_true(first_down > 0);	/* it does scale in, in the end */
	assert_true(first_down >= last_up + 120 + 1200);
	sim_result_fini(&a);
	load_rate_fini(&r);
	free_cfg(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evq_order),
		cmocka_unit_test(test_alert_never_before_for),
		cmocka_unit_test(test_alert_pending_resets),
		cmocka_unit_test(test_latency_model),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_pool_requests_and_queue),
		cmocka_unit_test(test_run_total_requests_one_decision),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_run_window_of_two_scrapes),
		cmocka_unit_test(test_run_step_load),
		cmocka_unit_test(test_run_partial_last_interval),
		cmocka_unit_test(test_run_aws_warmup_from_in_service),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
