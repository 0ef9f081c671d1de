/* The controller's YAML config: values, defaults, and every error as
 * FILE:LINE: key: message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/config.h"

static int load(const char *text, struct ctl_cfg *c, struct buf *errs)
{
	buf_init(errs, 1 << 16);
	int n = ctl_cfg_load_string("/etc/p/poolscale.yml", text, c, errs);

	buf_append(errs, "", 1);
	return n;
}

static void test_full_config(void **state)
{
	static const char text[] =
	    "pool: api\n"
	    "min: 2\n"
	    "max: 6\n"
	    "initial: 3\n"
	    "interval: 5s\n"
	    "state_dir: state\n"
	    "health:\n"
	    "  interval: 1s\n"
	    "  timeout: 500ms\n"
	    "  fails: 2\n"
	    "drain:\n"
	    "  timeout: 20s\n"
	    "provider:\n"
	    "  kind: local\n"
	    "  local:\n"
	    "    address_base: 127.0.9.1\n"
	    "    vcpu: 0.5\n"
	    "    boot_delay: 3s\n"
	    "    command: [/bin/app, \"--listen={address}:{port}\"]\n"
	    "discovery:\n"
	    "  sets:\n"
	    "    node: 9100\n"
	    "api:\n"
	    "  listen: 127.0.0.1:9901\n";
	struct ctl_cfg c;
	struct buf errs;

	(void)state;
	assert_int_equal(load(text, &c, &errs), 0);
	assert_string_equal(c.pool, "api");
	assert_int_equal(c.min, 2);
	assert_int_equal(c.max, 6);
	assert_int_equal(c.initial, 3);
	assert_int_equal(c.interval_ms, 5000);
	assert_string_equal(c.state_dir, "/etc/p/state");	/* relative to the file */
	assert_string_equal(c.sd_dir, "/etc/p/state");
	assert_int_equal(c.health_fails, 2);
	assert_int_equal(c.drain_timeout_ms, 20000);
	assert_string_equal(c.local.address_base, "127.0.9.1");
	assert_true(c.local.vcpu == 0.5);
	assert_int_equal(c.local.boot_delay_ms, 3000);
	assert_int_equal(c.local.ncommand, 2);
	assert_string_equal(c.local.command[1], "--listen={address}:{port}");
	assert_int_equal(c.nsets, 1);
	assert_string_equal(c.sets[0].name, "node");
	assert_int_equal(c.sets[0].port, 9100);
	assert_string_equal(c.api_listen, "127.0.0.1:9901");
	ctl_cfg_fini(&c);
	buf_fini(&errs);
}

static void test_defaults(void **state)
{
	struct ctl_cfg c;
	struct buf errs;

	(void)state;
	assert_int_equal(load("min: 1\nmax: 3\n", &c, &errs), 0);
	assert_int_equal(c.initial, 1);			/* min */
	assert_int_equal(c.interval_ms, 60000);		/* the seeds' interval */
	assert_int_equal(c.nsets, 2);
	assert_string_equal(c.sets[0].name, "metrics");
	assert_int_equal(c.sets[0].port, 9100);
	assert_string_equal(c.sets[1].name, "web");
	assert_int_equal(c.sets[1].port, 8080);
	assert_string_equal(c.api_listen, "127.0.0.1:9900");
	assert_int_equal(c.list_interval_ms, 1000);	/* half of health's 2 s, at most 1 s */
	assert_string_equal(c.drain_metric, "poolscale_app_requests_in_flight");
	assert_false(c.drain_on_metrics_port);
	ctl_cfg_fini(&c);
	buf_fini(&errs);

	assert_int_equal(load("drain:\n  metric: poolscale_lb_requests_in_flight\n"
	    "  port: metrics\n", &c, &errs), 0);
	assert_string_equal(c.drain_metric, "poolscale_lb_requests_in_flight");
	assert_true(c.drain_on_metrics_port);
	ctl_cfg_fini(&c);
	buf_fini(&errs);
}

/* A local pool lists at half its health interval, within [250 ms, 1 s];
 * a list_interval given wins. */
static void test_local_list_interval(void **state)
{
	static const struct {
		const char *text;
		int64_t want;
	} cases[] = {
		{ "health:\n  interval: 300ms\n  timeout: 200ms\n", 250 },
		{ "health:\n  interval: 1200ms\n", 600 },
		{ "health:\n  interval: 5s\n", 1000 },
		{ "health:\n  interval: 5s\nprovider:\n  list_interval: 100ms\n", 100 },
	};
	struct ctl_cfg c;
	struct buf errs;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load(cases[i].text, &c, &errs), 0);
		assert_int_equal(c.list_interval_ms, cases[i].want);
		ctl_cfg_fini(&c);
		buf_fini(&errs);
	}
}

static const struct {
	const char *name, *text, *want;
} bad[] = {
	{ "unknown_key", "min: 1\nmxa: 3\n", "/etc/p/poolscale.yml:2: mxa: unknown key" },
	{ "nested_unknown", "health:\n  interval: 1s\n  fials: 3\n",
	  "/etc/p/poolscale.yml:3: health.fials: unknown key" },
	{ "bad_duration", "interval: 5x\n",
	  "/etc/p/poolscale.yml:1: interval: \"5x\" is not a duration (try 30s or 250ms)" },
	{ "not_a_number", "max: lots\n", "/etc/p/poolscale.yml:1: max: \"lots\" is not a whole number" },
	{ "min_above_max", "min: 4\nmax: 2\n", "min (4) is above max (2)" },
	{ "initial_outside", "min: 1\nmax: 2\ninitial: 5\n", "initial (5) is outside [min, max]" },
	{ "not_loopback", "provider:\n  local:\n    address_base: 10.0.0.1\n",
	  "/etc/p/poolscale.yml:3: provider.local.address_base: \"10.0.0.1\" is not a loopback" },
	{ "unknown_provider", "provider:\n  kind: gcp\n",
	  "/etc/p/poolscale.yml:2: provider.kind: \"gcp\" is not local, exoscale, aws, linode or exec" },
	{ "bad_listen", "api:\n  listen: nowhere\n", "/etc/p/poolscale.yml:2: api.listen:" },
	{ "section_not_map", "health: 3\n", "/etc/p/poolscale.yml:1: health: expected a mapping" },
	{ "list_for_scalar", "min: [1, 2]\n", "/etc/p/poolscale.yml:1: min: expected a single value" },
	{ "bad_set_port", "discovery:\n  sets:\n    web: 99999\n",
	  "/etc/p/poolscale.yml:3: discovery.sets.web: \"99999\" is not a port" },
	{ "syntax_error", "min: 1\n  max: [\n", "/etc/p/poolscale.yml:2:" },
	{ "duplicate_key", "min: 1\nmax: 3\nmin: 2\n",
	  "/etc/p/poolscale.yml:3: min: duplicate key (first at line 1)" },
	{ "nested_duplicate_key", "health:\n  fails: 2\n  fails: 3\n",
	  "/etc/p/poolscale.yml:3: health.fails: duplicate key (first at line 2)" },
	{ "second_document", "min: 1\n---\nbogus: 1\nmax: -5\n",
	  "/etc/p/poolscale.yml:2: a second YAML document (\"---\"): a config file holds one" },
	{ "nested_too_deep", "min: 1\nmax: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	  "/etc/p/poolscale.yml:2: nested deeper than 32 levels" },
	{ "metrics_and_value", "policy:\n  target:\n    value: 0.5\n    metrics:\n"
	  "      - {query: q, type: total, value: 40}\n",
	  "/etc/p/poolscale.yml:5: policy.target.metrics: give metrics or value and query" },
	{ "metric_bad_type", "policy:\n  target:\n    metrics:\n      - query: q\n"
	  "        type: sum\n        value: 1\n",
	  "/etc/p/poolscale.yml:5: policy.target.metrics[0].type: \"sum\" is not average or total" },
	{ "metric_no_value", "policy:\n  target:\n    metrics:\n      - {query: a, value: 1}\n"
	  "      - {query: q, type: total}\n",
	  "/etc/p/poolscale.yml:5: policy.target.metrics[1].value: missing" },
	{ "metric_no_query", "policy:\n  target:\n    metrics:\n      - {type: total, value: 3}\n",
	  "/etc/p/poolscale.yml:4: policy.target.metrics[0].query: missing" },
	{ "metric_bad_value", "policy:\n  target:\n    metrics:\n      - {query: q, value: -4}\n",
	  "/etc/p/poolscale.yml:4: policy.target.metrics[0].value:" },
	{ "metric_unknown_key", "policy:\n  target:\n    metrics:\n      - {query: q, value: 4, "
	  "kind: total}\n",
	  "/etc/p/poolscale.yml:4: policy.target.metrics[0].kind: unknown key" },
	{ "metrics_too_many", "policy:\n  target:\n    metrics:\n      - {query: q, value: 1}\n"
	  "      - {query: q, value: 1}\n      - {query: q, value: 1}\n      - {query: q, value: 1}\n"
	  "      - {query: q, value: 1}\n",
	  "/etc/p/poolscale.yml:8: policy.target.metrics: more than 4 metrics" },
	{ "metrics_empty", "policy:\n  target:\n    metrics: []\n",
	  "/etc/p/poolscale.yml:3: policy.target.metrics: empty" },
	{ "metrics_not_list", "policy:\n  target:\n    metrics: cpu\n",
	  "/etc/p/poolscale.yml:3: policy.target.metrics: expected a list" },
	{ "backlog_without_total", "policy:\n  target:\n    backlog: {query: q}\n",
	  "/etc/p/poolscale.yml:3: policy.target.backlog: needs a metric of type total" },
	{ "backlog_no_query", "policy:\n  target:\n    metrics: [{query: q, type: total, value: 9}]\n"
	  "    backlog:\n      drain: 5s\n",
	  "/etc/p/poolscale.yml:5: policy.target.backlog.query: missing" },
	{ "backlog_bad_drain", "policy:\n  target:\n    metrics: [{query: q, type: total, value: 9}]\n"
	  "    backlog:\n      query: q\n      drain: 0s\n",
	  "/etc/p/poolscale.yml:6: policy.target.backlog.drain:" },
	{ "health_timeout_vs_interval", "health:\n  interval: 1s\n  timeout: 2s\n",
	  "health.timeout must be below health.interval" },
	{ "drain_bad_metric", "drain:\n  metric: lb-in-flight\n",
	  "/etc/p/poolscale.yml:2: drain.metric: \"lb-in-flight\" is not a Prometheus metric name" },
	{ "drain_bad_port", "drain:\n  timeout: 5s\n  port: 9101\n",
	  "/etc/p/poolscale.yml:3: drain.port: \"9101\" is not app or metrics" },
};

static void test_errors(void **state)
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

/* policy.target.metrics and backlog, {pool} replaced in every query; the
 * shorthand is one average metric with the CPU query. */
static void test_target_metrics(void **state)
{
	static const char text[] =
	    "pool: api\n"
	    "policy:\n"
	    "  kind: target\n"
	    "  target:\n"
	    "    metrics:\n"
	    "      - query: sum by (instance) (rate(x{pool=\"{pool}\"}[1m]))\n"
	    "        type: total\n"
	    "        value: 40\n"
	    "      - query: cpu{pool=\"{pool}\"}\n"
	    "        value: 0.6\n"
	    "    backlog:\n"
	    "      query: sum(q{pool=\"{pool}\"})\n"
	    "      drain: 20s\n";
	struct ctl_cfg c;
	struct buf errs;

	(void)state;
	if (load(text, &c, &errs) != 0)
		fail_msg("%s", errs.p);
	assert_int_equal(c.target.nmetrics, 2);
	assert_int_equal(c.target.metrics[0].kind, POLICY_METRIC_TOTAL);
	assert_true(c.target.metrics[0].value == 40);
	assert_int_equal(c.target.metrics[1].kind, POLICY_METRIC_AVERAGE);
	assert_true(c.target.metrics[1].value == 0.6);
	assert_true(c.target.target == 40);	/* metric 0's, for the peers */
	assert_string_equal(c.metric_query[0], "sum by (instance) (rate(x{pool=\"api\"}[1m]))");
	assert_string_equal(c.query, c.metric_query[0]);
	assert_string_equal(c.metric_query[1], "cpu{pool=\"api\"}");
	assert_string_equal(c.backlog_query, "sum(q{pool=\"api\"})");
	assert_int_equal(c.target.backlog_drain_ms, 20000);
	ctl_cfg_fini(&c);
	buf_fini(&errs);
	/* the shorthand, and the default drain */
	assert_int_equal(load("policy:\n  target:\n    value: 0.7\n", &c, &errs), 0);
	assert_int_equal(c.target.nmetrics, 1);
	assert_int_equal(c.target.metrics[0].kind, POLICY_METRIC_AVERAGE);
	assert_true(c.target.metrics[0].value == 0.7);
	assert_non_null(strstr(c.metric_query[0], "node_cpu_seconds_total{pool=\"web\""));
	assert_string_equal(c.backlog_query, "");
	assert_int_equal(c.target.backlog_drain_ms, 0);
	ctl_cfg_fini(&c);
	buf_fini(&errs);
	assert_int_equal(load("policy:\n  target:\n    metrics: [{query: q, type: total, value: 5}]\n"
	    "    backlog: {query: b}\n", &c, &errs), 0);
	assert_int_equal(c.target.backlog_drain_ms, 10000);
	ctl_cfg_fini(&c);
	buf_fini(&errs);
}

/* Every error is reported, not only the first. */
static void test_all_errors_reported(void **state)
{
	struct ctl_cfg c;
	struct buf errs;

	(void)state;
	assert_int_equal(load("min: x\nmax: y\nbogus: 1\n", &c, &errs), 3);
	assert_non_null(strstr(errs.p, ":1: min:"));
	assert_non_null(strstr(errs.p, ":2: max:"));
	assert_non_null(strstr(errs.p, ":3: bogus: unknown key"));
	ctl_cfg_fini(&c);
	buf_fini(&errs);
}

/* A repeat is one error, "duplicate key", not also an unknown key; an
 * explicit start of the one document is fine. */
static void test_duplicate_is_one_error(void **state)
{
	struct ctl_cfg c;
	struct buf errs;

	(void)state;
	assert_int_equal(load("---\nmin: 1\nmin: 1\n", &c, &errs), 1);
	assert_null(strstr(errs.p, "unknown"));
	ctl_cfg_fini(&c);
	buf_fini(&errs);
	assert_int_equal(load("---\nmin: 1\n...\n", &c, &errs), 0);
	ctl_cfg_fini(&c);
	buf_fini(&errs);
}

/* libyaml's loader is quadratic in nesting: 100 KB of "[" took 12 s. The
 * depth cap must stop 1 MB of it at once, with the line. */
static void test_deep_nesting_fails_fast(void **state)
{
	size_t n = 1000 * 1000;
	char *text = malloc(n + 32);
	struct ctl_cfg c;
	struct buf errs;
	struct timespec t0, t1;

	(void)state;
	assert_non_null(text);
	strcpy(text, "min: 1\n\nmax: ");
	memset(text + strlen(text), '[', n);
	text[strlen("min: 1\n\nmax: ") + n] = '\0';
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	assert_int_equal(load(text, &c, &errs), 1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	assert_non_null(strstr(errs.p, "/etc/p/poolscale.yml:3: nested deeper than 32 levels"));
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 500);
	ctl_cfg_fini(&c);
	buf_fini(&errs);
	free(text);
}

/* 40,000 anchors and their aliases (780 KB, under the file cap): libyaml
 * looks up every alias among all anchors, 4 s of CPU before any error. The
 * pre-pass stops at the 33rd anchor, at once. A few are still fine. */
static void test_many_anchors_fail_fast(void **state)
{
	enum { N = 40000 };
	struct buf text;
	struct ctl_cfg c;
	struct buf errs;
	struct timespec t0, t1;
	char line[64];

	(void)state;
	buf_init(&text, 1 << 20);
	buf_append(&text, "x:\n", 3);
	for (int i = 0; i < N; i++) {
		int n = snprintf(line, sizeof(line), "  - &a%d v\n  - *a%d\n", i, i);

		buf_append(&text, line, (size_t)n);
	}
	buf_append(&text, "", 1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	assert_int_equal(load(text.p, &c, &errs), 1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	/* Anchor 33 is on line 1 + 2 * 32 + 1 = 66. */
	assert_non_null(strstr(errs.p, "/etc/p/poolscale.yml:66: more than 32 anchors"));
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 500);
	ctl_cfg_fini(&c);
	buf_fini(&errs);
	buf_fini(&text);
	assert_int_equal(load("min: &m 2\nmax: 4\ninitial: *m\n", &c, &errs), 0);
	assert_int_equal(c.initial, 2);
	ctl_cfg_fini(&c);
	buf_fini(&errs);
}

static void test_beyond_loopback_needs_token(void **state)
{
	struct ctl_cfg c;
	struct buf errs;

	(void)state;
	unsetenv("POOLSCALE_API_TOKEN");
	assert_int_equal(load("api:\n  listen: 0.0.0.0:9900\n", &c, &errs), 0);
	buf_reset(&errs);
	assert_int_equal(ctl_cfg_finish(&c, &errs), 1);
	buf_append(&errs, "", 1);
	assert_non_null(strstr(errs.p, "beyond loopback"));
	setenv("POOLSCALE_API_TOKEN", "s3cret", 1);
	buf_reset(&errs);
	assert_int_equal(ctl_cfg_finish(&c, &errs), 0);
	assert_string_equal(c.token, "s3cret");
	unsetenv("POOLSCALE_API_TOKEN");
	ctl_cfg_fini(&c);
	buf_fini(&errs);
}

#define HA_CLOUD "provider:\n  kind: exoscale\n  exoscale:\n    pool_id: 5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b\n"

/* ha: the keys, the defaults a cloud timeout gets under a lease, and
 * every refusal with the key it names. */
static void test_ha(void **state)
{
	static const struct { const char *text, *want; } ha_bad[] = {
		{ HA_CLOUD "ha:\n  lease: 10s\n", "ha.etcd_endpoints: missing" },
		{ HA_CLOUD "ha:\n  etcd_endpoints: [127.0.0.1:2379]\n", "is not http://HOST:PORT" },
		{ HA_CLOUD "ha:\n  etcd_endpoints: [http://e:2379/v3]\n", "is not http://HOST:PORT" },
		{ HA_CLOUD "ha:\n  etcd_endpoints: http://e:2379\n", "expected a list of URLs" },
		{ HA_CLOUD "ha:\n  etcd_endpoints: [http://e:2379]\n  lease: 1s\n", "ha.lease" },
		{ HA_CLOUD "ha:\n  etcd_endpoints: [http://e:2379]\n  lease: 6s\n  timeout: 3s\n",
		  "at most a third of ha.lease" },
		{ HA_CLOUD "ha:\n  etcd_endpoints: [http://e:2379]\n  name: a b\n", "ha.name" },
		{ HA_CLOUD "ha:\n  etcd_endpoints: [http://e:2379]\n  cert_file: c.pem\n",
		  "cert_file and key_file together" },
		{ HA_CLOUD "ha:\n  etcd_endpoints: [http://e:2379]\n  password_file: p\n",
		  "ha.username is not" },
		{ HA_CLOUD "ha:\n  etcd_endpoints: [http://e:2379]\n  bogus: 1\n", "ha.bogus" },
		{ "ha:\n  etcd_endpoints: [http://e:2379]\n", "local provider" },
		{ "provider:\n  kind: exoscale\n  timeout: 8s\n  exoscale:\n    pool_id: 5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b\n"
		  "ha:\n  etcd_endpoints: [http://e:2379]\n", "at least twice provider.timeout" },
	};
	struct ctl_cfg c;
	struct buf errs;

	(void)state;
	assert_int_equal(load(HA_CLOUD "ha:\n  etcd_endpoints: [http://10.0.0.1:2379, "
	    "https://etcd-b:2379]\n  lease: 12s\n  name: mgmt-a\n  prefix: /web/\n"
	    "  timeout: 1s\n  ca_file: ca.pem\n  username: ps\n", &c, &errs), 0);
	assert_true(c.ha.enabled);
	assert_int_equal(c.ha.etcd.nendpoints, 2);
	assert_string_equal(c.ha.etcd.endpoints[1], "https://etcd-b:2379");
	assert_int_equal(c.ha.lease_ms, 12000);
	assert_string_equal(c.ha.name, "mgmt-a");
	assert_string_equal(c.ha.prefix, "/web/");
	assert_int_equal(c.ha.etcd.timeout_ms, 1000);
	assert_string_equal(c.ha.etcd.ca_file, "/etc/p/ca.pem");	/* beside the config */
	/* The cloud's default 10 s timeout fits in half the lease. */
	assert_int_equal(c.exoscale.http.timeout_ms, 6000);
	assert_non_null(strstr(c.exoscale.http.user_agent, "(controller mgmt-a)"));
	/* A user needs a password, from the environment here; never printed. */
	unsetenv("POOLSCALE_ETCD_PASSWORD");
	buf_reset(&errs);
	assert_int_equal(ctl_cfg_finish(&c, &errs), 1);
	setenv("POOLSCALE_ETCD_PASSWORD", "pw-never-shown", 1);
	buf_reset(&errs);
	assert_int_equal(ctl_cfg_finish(&c, &errs), 0);
	assert_string_equal(c.ha.etcd.password, "pw-never-shown");
	unsetenv("POOLSCALE_ETCD_PASSWORD");
	ctl_cfg_fini(&c);
	buf_fini(&errs);
	/* Without the block: nothing changes. */
	assert_int_equal(load(HA_CLOUD, &c, &errs), 0);
	assert_false(c.ha.enabled);
	assert_int_equal(c.exoscale.http.timeout_ms, 10000);
	assert_string_equal(c.exoscale.http.user_agent, "");
	ctl_cfg_fini(&c);
	buf_fini(&errs);
	for (size_t i = 0; i < sizeof(ha_bad) / sizeof(ha_bad[0]); i++) {
		int n = load(ha_bad[i].text, &c, &errs);

		if (n < 1 || strstr(errs.p, ha_bad[i].want) == NULL)
			fail_msg("case %zu: %d errors, \"%s\" lacks \"%s\"", i, n, errs.p,
			    ha_bad[i].want);
		ctl_cfg_fini(&c);
		buf_fini(&errs);
	}
}

static void test_schedule(void **state)
{
	static const char ok[] =
	    "min: 1\nmax: 5\n"
	    "schedule:\n"
	    "  - name: office\n"
	    "    cron: \"0 8 * * mon-fri\"\n"
	    "    duration: 10h\n"
	    "    min: 3\n"
	    "    timezone: Europe/Zurich\n"
	    "  - name: weekend\n"
	    "    cron: \"0 18 * * fri\"\n"
	    "    end: \"0 6 * * mon\"\n"
	    "    max: 2\n"
	    "  - name: sale\n"
	    "    cron: \"@daily\"\n"
	    "    duration: 1h\n"
	    "    min: 6\n"
	    "    max: 8\n";
	/* Each: the config, then what the error says (FILE:LINE: key: why). */
	static const char *const wrong[][2] = {
		{ "schedule:\n  - name: a\n    cron: \"61 * * * *\"\n    duration: 1h\n    min: 2\n",
		  ":3: schedule[0].cron: minute: 61 is outside 0-59" },
		{ "schedule:\n  - name: a\n    cron: \"0 9 * *\"\n    duration: 1h\n    min: 2\n",
		  ":3: schedule[0].cron: 4 fields, expected 5" },
		{ "schedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    end: \"0 9 * * xyz\"\n"
		  "    min: 2\n", ":4: schedule[0].end: day of week: \"xyz\"" },
		{ "schedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    duration: 1h\n    min: 2\n"
		  "    timezone: Europe/Zurch\n",
		  ":6: schedule[0].timezone: unknown time zone \"Europe/Zurch\"" },
		{ "schedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    duration: 1h\n    min: 2\n"
		  "    timezone: ../../etc/passwd\n",
		  ":6: schedule[0].timezone: \"../../etc/passwd\" is not an IANA time zone name" },
		{ "max: 10\nschedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    duration: 1h\n"
		  "    min: 5\n    max: 3\n", ":3: schedule[0]: min (5) is above max (3)" },
		{ "schedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    duration: 1h\n"
		  "    end: \"0 10 * * *\"\n    min: 2\n",
		  ":5: schedule[0]: give duration or end, not both" },
		{ "schedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    min: 2\n",
		  ":2: schedule[0]: give duration (how long each window lasts) or end" },
		{ "schedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    end: \"0 9 * * *\"\n"
		  "    min: 2\n", ":4: schedule[0].end: the same as cron" },
		{ "schedule:\n  - cron: \"0 9 * * *\"\n    duration: 1h\n    min: 2\n",
		  ":2: schedule[0].name: missing" },
		{ "schedule:\n  - name: a\n    duration: 1h\n    min: 2\n",
		  ":2: schedule[0].cron: missing" },
		{ "schedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    duration: 1h\n",
		  ":2: schedule[0]: give min, max or both" },
		{ "schedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    duration: 1h\n    min: 2\n"
		  "  - name: a\n    cron: \"0 10 * * *\"\n    duration: 1h\n    min: 2\n",
		  ":6: schedule[1].name: \"a\" is also schedule[0]'s" },
		{ "schedule:\n  - name: \"a b\"\n    cron: \"0 9 * * *\"\n    duration: 1h\n"
		  "    min: 2\n", ":2: schedule[0].name: \"a b\" is not a name" },
		{ "min: 2\nschedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    duration: 1h\n"
		  "    max: 1\n", ":3: schedule[0].max (1) is below min (2)" },
		{ "schedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    duration: 1h\n    max: 80\n",
		  ":2: schedule[0]: max (80) is above provider.local.max_instances (64)" },
		{ "schedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    duration: 800h\n    min: 2\n",
		  ":4: schedule[0].duration: " },
		{ "schedule:\n  - name: a\n    cron: \"0 9 * * *\"\n    duration: 1h\n    min: 2\n"
		  "    mni: 3\n", ":6: schedule[0].mni: unknown key" },
		{ "schedule:\n  name: a\n", ":2: schedule: expected a list of windows" },
		{ "schedule:\n  - 5\n", ":2: schedule[0]: expected a mapping" },
	};
	struct ctl_cfg c;
	struct buf errs;

	(void)state;
	if (load(ok, &c, &errs) != 0)
		fail_msg("%s", errs.p);
	assert_int_equal(c.nschedule, 3);
	assert_string_equal(c.schedule[0].name, "office");
	assert_string_equal(c.schedule[0].zone, "Europe/Zurich");
	assert_int_equal(c.schedule[0].duration_s, 36000);
	assert_int_equal(c.schedule[0].min, 3);
	assert_int_equal(c.schedule[0].max, -1);
	assert_false(c.schedule[0].has_end);
	assert_true(c.schedule[0].start.dow == 0x3e);
	assert_true(c.schedule[1].has_end);
	assert_int_equal(c.schedule[1].min, -1);
	assert_int_equal(c.schedule[1].max, 2);
	assert_string_equal(c.schedule[1].zone, "");
	/* A window may lift max above the config's, as an AWS scheduled
	 * action sets the group's MaxSize. */
	assert_int_equal(c.schedule[2].max, 8);
	ctl_cfg_fini(&c);
	buf_fini(&errs);
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		char want[256];

		snprintf(want, sizeof(want), "/etc/p/poolscale.yml%s", wrong[i][1]);
		if (load(wrong[i][0], &c, &errs) == 0 || strstr(errs.p, want) == NULL)
			fail_msg("case %zu: want \"%s\", got \"%s\"", i, want, errs.p);
		ctl_cfg_fini(&c);
		buf_fini(&errs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_local_list_interval),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_target_metrics),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_duplicate_is_one_error),
		cmocka_unit_test(test_deep_nesting_fails_fast),
		cmocka_unit_test(test_many_anchors_fail_fast),
		cmocka_unit_test(test_beyond_loopback_needs_token),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_ha),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
