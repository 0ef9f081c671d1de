/* A controller config with pools: (controller/config_pools.c): each
 * pool's own keys and the shared ones, what each pool derives (dirs,
 * discovery file names, local addresses), the flags that override the
 * file, the one-pool view (ctl_cfg_load), and every error as exact
 * "FILE:LINE: " text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller/config.h"

#define FILE_NAME "/etc/p/poolscale.yml"

static int load(const char *text, const struct ctl_overrides *o, struct ctl_pools *p,
    struct buf *errs)
{
	int n;

	buf_init(errs, 1 << 16);
	n = ctl_pools_load(FILE_NAME, text, o, p, errs);
	buf_append(errs, "", 1);
	return n;
}

static void test_two_pools(void **state)
{
	static const char text[] =
	    "state_dir: state\n"
	    "log_level: debug\n"
	    "dry_run: true\n"
	    "api:\n"
	    "  listen: 127.0.0.1:9901\n"
	    "prometheus:\n"
	    "  url: http://127.0.0.1:9091\n"
	    "webhook:\n"
	    "  action_label: act\n"
	    "pools:\n"
	    "  - name: web\n"
	    "    min: 2\n"
	    "    max: 6\n"
	    "    policy:\n"
	    "      kind: target\n"
	    "      target: {value: 0.6, query: 'cpu{pool=\"{pool}\"}'}\n"
	    "  - name: batch_2\n"
	    "    min: 0\n"
	    "    max: 3\n"
	    "    interval: 5s\n"
	    "    discovery:\n"
	    "      sets: {node: 9200}\n"
	    "    provider:\n"
	    "      local: {vcpu: 0.5, command: [/bin/app, x]}\n";
	struct ctl_pools p;
	struct buf errs;
	char path[1200];

	(void)state;
	unsetenv("POOLSCALE_API_TOKEN");
	if (load(text, NULL, &p, &errs) != 0)
		fail_msg("%s", errs.p);
	assert_true(p.listed);
	assert_int_equal(p.n, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct ctl_cfg *c = p.pool[i];

		assert_int_equal(c->index, (int)i);
		assert_string_equal(c->file, FILE_NAME);
		assert_string_equal(c->api_listen, "127.0.0.1:9901");
		assert_string_equal(c->prom_url, "http://127.0.0.1:9091");
		assert_string_equal(c->action_label, "act");
		assert_int_equal(c->log_level, LOG_DEBUG);
		assert_true(c->dry_run);
		assert_string_equal(c->sd_dir, "/etc/p/state");	/* shared: one dir */
	}
	assert_string_equal(p.pool[0]->pool, "web");
	assert_int_equal(p.pool[0]->min, 2);
	assert_int_equal(p.pool[0]->max, 6);
	assert_int_equal(p.pool[0]->policy, CTL_POLICY_TARGET);
	assert_string_equal(p.pool[0]->query, "cpu{pool=\"web\"}");
	assert_int_equal(p.pool[0]->interval_ms, 60000);
	assert_int_equal(p.pool[0]->nsets, 2);
	assert_string_equal(p.pool[1]->pool, "batch_2");
	assert_int_equal(p.pool[1]->min, 0);
	assert_int_equal(p.pool[1]->max, 3);
	assert_int_equal(p.pool[1]->interval_ms, 5000);
	assert_int_equal(p.pool[1]->policy, CTL_POLICY_NONE);
	assert_int_equal(p.pool[1]->nsets, 1);
	assert_true(p.pool[1]->local.vcpu == 0.5);
	assert_int_equal(p.pool[1]->local.ncommand, 2);
	assert_true(p.pool[0]->local.vcpu == 0.25);
	/* derived: dirs, prefixes, addresses, discovery files */
	assert_string_equal(p.pool[0]->sd_prefix, "web-");
	assert_string_equal(p.pool[1]->sd_prefix, "batch_2-");
	assert_string_equal(p.pool[0]->state_dir, "/etc/p/state/web");
	assert_string_equal(p.pool[1]->state_dir, "/etc/p/state/batch_2");
	assert_string_equal(p.pool[1]->local.state_dir, "/etc/p/state/batch_2");
	assert_string_equal(p.pool[0]->local.address_base, "127.0.1.1");
	assert_string_equal(p.pool[1]->local.address_base, "127.0.2.1");
	ctl_sd_path(p.pool[0], 1, path, sizeof(path));
	assert_string_equal(path, "/etc/p/state/targets-web-web.json");
	ctl_sd_path(p.pool[1], 0, path, sizeof(path));
	assert_string_equal(path, "/etc/p/state/targets-batch_2-node.json");
	assert_ptr_equal(ctl_pools_find(&p, "batch_2"), p.pool[1]);
	assert_ptr_equal(ctl_pools_find(&p, "web"), p.pool[0]);
	assert_null(ctl_pools_find(&p, "batch"));
	ctl_pools_fini(&p);
	assert_int_equal(p.n, 0);
	buf_fini(&errs);
}

/* Without pools: nothing derived changes: no prefix, the dir itself. An
 * explicit discovery.dir and address_base are kept in both layouts. */
static void test_derived(void **state)
{
	struct ctl_pools p;
	struct buf errs;
	char path[1200];

	(void)state;
	if (load("pool: api\nstate_dir: /var/ps\n", NULL, &p, &errs) != 0)
		fail_msg("%s", errs.p);
	assert_false(p.listed);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.pool[0]->index, 0);
	assert_string_equal(p.pool[0]->pool, "api");
	assert_string_equal(p.pool[0]->sd_prefix, "");
	assert_string_equal(p.pool[0]->state_dir, "/var/ps");
	assert_string_equal(p.pool[0]->local.state_dir, "/var/ps");
	assert_string_equal(p.pool[0]->sd_dir, "/var/ps");
	assert_string_equal(p.pool[0]->local.address_base, "127.0.1.1");
	ctl_sd_path(p.pool[0], 0, path, sizeof(path));
	assert_string_equal(path, "/var/ps/targets-metrics.json");
	ctl_pools_fini(&p);
	buf_fini(&errs);
	if (load("pools:\n  - name: a\n    discovery: {dir: sd}\n"
	    "  - name: b\n    provider: {local: {address_base: 127.0.9.1}}\n"
	    "  - name: c\n", NULL, &p, &errs) != 0)
		fail_msg("%s", errs.p);
	assert_string_equal(p.pool[0]->sd_dir, "/etc/p/sd");	/* beside the file */
	assert_string_equal(p.pool[0]->state_dir, "/etc/p/poolscale-state/a");
	assert_string_equal(p.pool[1]->sd_dir, "/etc/p/poolscale-state");
	assert_string_equal(p.pool[1]->local.address_base, "127.0.9.1");
	assert_string_equal(p.pool[2]->local.address_base, "127.0.3.1");
	ctl_pools_fini(&p);
	buf_fini(&errs);
}

/* The flags replace the shared values before the pools derive theirs. */
static void test_overrides(void **state)
{
	const struct ctl_overrides o = { "127.0.0.1:9999", "/run/ps", "warn", true };
	struct ctl_pools p;
	struct buf errs;

	(void)state;
	setenv("POOLSCALE_API_TOKEN", "s3cret", 1);
	if (load("state_dir: st\nlog_level: debug\npools:\n  - name: a\n"
	    "  - name: b\n    discovery: {dir: st}\n  - name: c\n    discovery: {dir: other}\n",
	    &o, &p, &errs) != 0)
		fail_msg("%s", errs.p);
	assert_int_equal(p.n, 3);
	for (size_t i = 0; i < p.n; i++) {
		char want[64];

		snprintf(want, sizeof(want), "/run/ps/%c", (char)('a' + i));
		assert_string_equal(p.pool[i]->api_listen, "127.0.0.1:9999");
		assert_string_equal(p.pool[i]->state_dir, want);
		assert_string_equal(p.pool[i]->local.state_dir, want);
		assert_int_equal(p.pool[i]->log_level, LOG_WARN);
		assert_true(p.pool[i]->dry_run);
		assert_string_equal(p.pool[i]->token, "s3cret");	/* read once, every pool's */
	}
	unsetenv("POOLSCALE_API_TOKEN");
	assert_string_equal(p.pool[0]->sd_dir, "/run/ps");
	assert_string_equal(p.pool[1]->sd_dir, "/run/ps");	/* was state_dir: follows */
	assert_string_equal(p.pool[2]->sd_dir, "/etc/p/other");
	ctl_pools_fini(&p);
	buf_fini(&errs);
	/* without pools:, as cmd.c did before */
	if (load("min: 1\n", &o, &p, &errs) != 0)
		fail_msg("%s", errs.p);
	assert_string_equal(p.pool[0]->state_dir, "/run/ps");
	assert_string_equal(p.pool[0]->local.state_dir, "/run/ps");
	assert_string_equal(p.pool[0]->sd_dir, "/run/ps");
	assert_string_equal(p.pool[0]->api_listen, "127.0.0.1:9999");
	ctl_pools_fini(&p);
	buf_fini(&errs);
	/* the flags' errors; nothing is kept */
	{
		const struct ctl_overrides bad = { "nowhere", NULL, "loud", false };

		assert_int_equal(load("pools:\n  - name: a\n", &bad, &p, &errs), 2);
		assert_int_equal(p.n, 0);
		assert_non_null(strstr(errs.p, "--listen: "));
		assert_non_null(strstr(errs.p, "--log-level: \"loud\" is not error, warn, info or "
		    "debug\n"));
		buf_fini(&errs);
	}
}

static const struct {
	const char *name, *text, *want;
} bad[] = {
	{ "pool_key_at_top", "pools:\n  - name: a\nmin: 1\n",
	  FILE_NAME ":3: min: give it in each pool (the file has pools:)\n" },
	{ "section_at_top", "provider:\n  kind: local\npools:\n  - name: a\n",
	  FILE_NAME ":1: provider: give it in each pool (the file has pools:)\n" },
	{ "pool_at_top", "pool: x\npools:\n  - name: a\n",
	  FILE_NAME ":1: pool: give each pool's name as name: in pools: (the file has pools:)\n" },
	{ "empty_list", "pools: []\n", FILE_NAME ":1: pools: empty (give at least one pool)\n" },
	{ "empty_value", "pools:\n", FILE_NAME ":1: pools: empty (give at least one pool)\n" },
	{ "not_a_list", "pools: web\n", FILE_NAME ":1: pools: expected a list of pools" },
	{ "value_in_pool", "pools:\n  - name: web\n    policy:\n      target:\n        value: -1\n",
	  FILE_NAME ":5: pools[web].policy.target.value: " },
	{ "unknown_in_pool", "pools:\n  - name: web\n    mni: 1\n",
	  FILE_NAME ":3: pools[web].mni: unknown key\n" },
	{ "duplicate_in_pool", "pools:\n  - name: web\n    min: 1\n    min: 2\n",
	  FILE_NAME ":4: pools[web].min: duplicate key (first at line 3)\n" },
	{ "check_in_pool", "pools:\n  - name: web\n    min: 4\n    max: 2\n",
	  FILE_NAME ":2: pools[web].min (4) is above max (2)\n" },
	{ "schedule_in_pool", "pools:\n  - name: web\n    schedule:\n      - name: a\n"
	  "        duration: 1h\n        min: 2\n",
	  FILE_NAME ":4: pools[web].schedule[0].cron: missing (" },
	{ "name_missing", "pools:\n  - name: a\n  - name: b\n  - min: 1\n",
	  FILE_NAME ":4: pools[2].name: missing\n" },
	{ "name_bad", "pools:\n  - name: \"a b\"\n",
	  FILE_NAME ":2: pools[0].name: \"a b\" is not a name (letters, digits, - and _, "
	  "under 64 characters)\n" },
	{ "name_too_long", "pools:\n  - name: "
	  "a123456789b123456789c123456789d123456789e123456789f123456789g123\n",
	  FILE_NAME ":2: pools[0].name: \"a123456789" },
	{ "name_not_scalar", "pools:\n  - name: [a]\n",
	  FILE_NAME ":2: pools[0].name: expected a single value\n" },
	{ "error_unnamed", "pools:\n  - max: x\n", FILE_NAME ":2: pools[0].max: " },
	{ "entry_empty", "pools:\n  - name: a\n  -\n", FILE_NAME ":3: pools[1].name: missing\n" },
	{ "entry_not_map", "pools:\n  - 5\n", FILE_NAME ":2: pools[0]: expected a mapping of keys\n" },
	{ "shared_in_pool", "pools:\n  - name: web\n    state_dir: x\n",
	  FILE_NAME ":3: pools[web].state_dir: give it at the top level (every pool shares it)\n" },
	{ "pool_in_pool", "pools:\n  - name: web\n    pool: x\n",
	  FILE_NAME ":3: pools[web].pool: a pool of pools: takes its name as name:\n" },
	{ "duplicate_name", "pools:\n  - name: web\n  - name: web\n    mni: 1\n",
	  FILE_NAME ":3: pools[1].name: \"web\" is already pools[0]'s name\n" },
	{ "same_sd_file", "pools:\n  - name: a-b\n    discovery:\n      sets: {c: 9100}\n"
	  "  - name: a\n    discovery:\n      sets:\n        b-c: 9100\n",
	  FILE_NAME ":8: pools[a].discovery: set b-c's file /etc/p/poolscale-state/"
	  "targets-a-b-c.json is also pools[a-b]'s (set c)\n" },
	{ "same_sd_file_dirs", "pools:\n  - name: a-b\n    discovery: {dir: /srv/sd/, sets: {c: 1}}\n"
	  "  - name: a\n    discovery: {dir: /srv//sd, sets: {b-c: 1}}\n",
	  FILE_NAME ":5: pools[a].discovery: set b-c's file /srv/sd/targets-a-b-c.json is also "
	  "pools[a-b]'s (set c)\n" },
	{ "same_sd_file_default_sets", "pools:\n  - name: a\n    discovery: {sets: {web-metrics: 1}}\n"
	  "  - name: a-web\n",
	  FILE_NAME ":4: pools[a-web].discovery: set metrics's file /etc/p/poolscale-state/"
	  "targets-a-web-metrics.json is also pools[a]'s (set web-metrics)\n" },
	{ "addresses_overlap", "pools:\n  - name: a\n  - name: b\n    provider:\n      local:\n"
	  "        address_base: 127.0.1.10\n",
	  FILE_NAME ":6: pools[b].provider.local: addresses 127.0.1.10-127.0.1.73 overlap "
	  "pools[a]'s 127.0.1.1-127.0.1.64 (address_base and max_instances)\n" },
	{ "addresses_overlap_max", "pools:\n  - name: a\n    provider:\n"
	  "      local: {max_instances: 300}\n  - name: b\n",
	  FILE_NAME ":5: pools[b].provider.local: addresses 127.0.2.1-127.0.2.64 overlap "
	  "pools[a]'s 127.0.1.1-127.0.2.44 (address_base and max_instances)\n" },
	{ "ha_two_local_pools", "ha:\n  etcd_endpoints: [http://e:2379]\npools:\n  - name: a\n"
	  "  - name: b\n",
	  FILE_NAME ":2: ha: pools[a].provider is local: its instances are processes of this "
	  "machine, which no other controller sees; HA needs a pool every controller reaches "
	  "(provider exoscale, aws, linode or exec)\n"
	  FILE_NAME ":2: ha: pools[b].provider is local: its instances are processes of this "
	  "machine, which no other controller sees; HA needs a pool every controller reaches "
	  "(provider exoscale, aws, linode or exec)\n" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ctl_pools p;
		struct buf errs;
		int n = load(bad[i].text, NULL, &p, &errs);

		print_message("%s\n", bad[i].name);
		assert_true(n >= 1);
		assert_int_equal(p.n, 0);	/* nothing half-kept */
		if (strstr(errs.p, bad[i].want) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].name, errs.p, bad[i].want);
		buf_fini(&errs);
	}
}

/* CTL_MAX_POOLS pools are fine; one more is the error, at its line. */
static void test_too_many(void **state)
{
	struct buf text, errs;
	struct ctl_pools p;
	char line[64];

	(void)state;
	buf_init(&text, 1 << 16);
	buf_appendf(&text, "pools:\n");
	for (int i = 0; i < CTL_MAX_POOLS; i++) {
		snprintf(line, sizeof(line), "  - name: p%d\n", i);
		buf_append(&text, line, strlen(line));
	}
	buf_append(&text, "", 1);
	if (load(text.p, NULL, &p, &errs) != 0)
		fail_msg("%s", errs.p);
	assert_int_equal(p.n, CTL_MAX_POOLS);
	assert_string_equal(p.pool[CTL_MAX_POOLS - 1]->local.address_base, "127.0.64.1");
	ctl_pools_fini(&p);
	buf_fini(&errs);
	text.len--;
	buf_appendf(&text, "  - name: one_more\n");
	buf_append(&text, "", 1);
	assert_int_equal(load(text.p, NULL, &p, &errs), 1);
	assert_non_null(strstr(errs.p, FILE_NAME ":66: pools: more than 64 pools\n"));
	buf_fini(&errs);
	buf_fini(&text);
}

#define HA_CLOUD "    provider:\n      kind: exoscale\n      exoscale:\n" \
	"        pool_id: 5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b\n"

/* ha: with one pool reads as without pools:, its checks on that pool. */
static void test_ha_one_pool(void **state)
{
	struct ctl_pools p;
	struct buf errs;

	(void)state;
	if (load("ha:\n  etcd_endpoints: [http://e:2379]\n  lease: 12s\n  name: m1\n"
	    "pools:\n  - name: web\n" HA_CLOUD, NULL, &p, &errs) != 0)
		fail_msg("%s", errs.p);
	assert_true(p.pool[0]->ha.enabled);
	assert_int_equal(p.pool[0]->exoscale.http.timeout_ms, 6000);
	assert_non_null(strstr(p.pool[0]->exoscale.http.user_agent, "(controller m1)"));
	ctl_pools_fini(&p);
	buf_fini(&errs);
	assert_int_equal(load("ha:\n  etcd_endpoints: [http://e:2379]\npools:\n  - name: web\n",
	    NULL, &p, &errs), 1);
	assert_non_null(strstr(errs.p, FILE_NAME ":2: ha: the local provider's instances"));
	buf_fini(&errs);
}

/* ha: with several pools: one block, checked against each pool's provider. */
static void test_ha_two_pools(void **state)
{
	struct ctl_pools p;
	struct buf errs;

	(void)state;
	if (load("ha:\n  etcd_endpoints: [http://e:2379]\n  lease: 12s\n  name: m1\n"
	    "pools:\n  - name: web\n" HA_CLOUD "  - name: api\n" HA_CLOUD, NULL, &p, &errs) != 0)
		fail_msg("%s", errs.p);
	assert_int_equal(p.n, 2);
	for (size_t i = 0; i < p.n; i++) {
		assert_true(p.pool[i]->ha.enabled);
		assert_string_equal(p.pool[i]->ha.name, "m1");
		assert_int_equal(p.pool[i]->ha.lease_ms, 12000);
		assert_int_equal(p.pool[i]->exoscale.http.timeout_ms, 6000);
		assert_non_null(strstr(p.pool[i]->exoscale.http.user_agent, "(controller m1)"));
	}
	ctl_pools_fini(&p);
	buf_fini(&errs);
	/* A timeout given that does not fit half the lease: said for that pool. */
	assert_int_equal(load("ha:\n  etcd_endpoints: [http://e:2379]\n  lease: 6s\n"
	    "pools:\n  - name: web\n" HA_CLOUD "  - name: api\n" HA_CLOUD
	    "      timeout: 4s\n", NULL, &p, &errs), 1);
	assert_non_null(strstr(errs.p, FILE_NAME ":2: ha.lease (6000 ms) must be at least twice "
	    "pools[api].provider.timeout (4000 ms)"));
	buf_fini(&errs);
}

/* ctl_cfg_load: the one pool, listed or not; more is one error naming them. */
static void test_load_one(void **state)
{
	char file[] = "/tmp/test_config_pools_XXXXXX";
	struct ctl_cfg c;
	struct buf errs;
	int fd;

	(void)state;
	buf_init(&errs, 1 << 16);
	assert_int_equal(ctl_cfg_load_string(FILE_NAME, "pools:\n  - name: a\n    max: 4\n"
	    "    provider: {local: {command: [/bin/app, x]}}\n", &c, &errs), 0);
	assert_string_equal(c.pool, "a");
	assert_int_equal(c.max, 4);
	assert_string_equal(c.sd_prefix, "a-");
	assert_string_equal(c.state_dir, "/etc/p/poolscale-state/a");
	assert_int_equal(c.local.ncommand, 2);
	assert_string_equal(c.local.command[0], "/bin/app");	/* moved, still owned */
	ctl_cfg_fini(&c);
	buf_reset(&errs);
	assert_int_equal(ctl_cfg_load_string(FILE_NAME, "dry_run: true\npools:\n  - name: a\n"
	    "    provider: {local: {command: [/bin/app]}}\n  - name: b\n", &c, &errs), 1);
	buf_append(&errs, "", 1);
	assert_string_equal(errs.p, FILE_NAME ":2: pools: this command takes one pool; the file "
	    "has 2 (a, b)\n");
	ctl_cfg_fini(&c);
	buf_reset(&errs);
	/* a broken list still leaves a cfg to fini */
	assert_int_equal(ctl_cfg_load_string(FILE_NAME, "pools: 3\n", &c, &errs), 1);
	ctl_cfg_fini(&c);
	buf_reset(&errs);
	/* and from a file */
	fd = mkstemp(file);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "pools:\n  - name: f\n    min: 2\n", 30), 30);
	close(fd);
	assert_int_equal(ctl_cfg_load(file, &c, &errs), 0);
	assert_string_equal(c.pool, "f");
	assert_int_equal(c.min, 2);
	assert_string_equal(c.state_dir, "/tmp/poolscale-state/f");
	ctl_cfg_fini(&c);
	unlink(file);
	buf_fini(&errs);
}

/* Every line of keys, indented for a pools: entry. */
static void indent(struct buf *b, const char *keys)
{
	for (const char *s = keys; *s; ) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) + 1 : strlen(s);

		buf_appendf(b, "    ");
		buf_append(b, s, len);
		s += len;
	}
}

/* A pools: file with one pool reads as the same pool without pools:, but
 * for what a list derives. */
static void test_one_pool_equals_flat(void **state)
{
	static const char shared[] =
	    "state_dir: st\n"
	    "log_level: warn\n"
	    "api: {listen: 127.0.0.1:9905}\n"
	    "prometheus: {url: http://127.0.0.1:9092, timeout: 2s}\n";
	static const char keys[] =
	    "min: 2\n"
	    "max: 7\n"
	    "initial: 3\n"
	    "interval: 10s\n"
	    "health: {path: /up, interval: 3s, fails: 2}\n"
	    "drain: {timeout: 5s}\n"
	    "provider:\n"
	    "  kind: local\n"
	    "  app_port: 8081\n"
	    "  local: {vcpu: 0.5, max_instances: 20}\n"
	    "discovery:\n"
	    "  sets: {metrics: 9100, app: 8081}\n"
	    "policy:\n"
	    "  kind: target\n"
	    "  target:\n"
	    "    metrics:\n"
	    "      - {query: 'rps{pool=\"{pool}\"}', type: total, value: 40}\n"
	    "    backlog: {query: 'q{pool=\"{pool}\"}'}\n"
	    "    warmup: 30s\n"
	    "schedule:\n"
	    "  - {name: day, cron: '0 8 * * *', duration: 10h, min: 3}\n";
	struct buf flat, listed, errs;
	struct ctl_cfg *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	buf_init(&flat, 1 << 16);
	buf_init(&listed, 1 << 16);
	buf_init(&errs, 1 << 16);
	buf_appendf(&flat, "%spool: api\n%s", shared, keys);
	buf_append(&flat, "", 1);
	buf_appendf(&listed, "%spools:\n  - name: api\n", shared);
	indent(&listed, keys);
	buf_append(&listed, "", 1);
	if (ctl_cfg_load_string(FILE_NAME, flat.p, a, &errs) != 0 ||
	    ctl_cfg_load_string(FILE_NAME, listed.p, b, &errs) != 0) {
		buf_append(&errs, "", 1);
		fail_msg("%s", errs.p);
	}
	assert_string_equal(b->sd_prefix, "api-");
	assert_string_equal(b->state_dir, "/etc/p/st/api");
	assert_string_equal(b->local.state_dir, "/etc/p/st/api");
	assert_string_equal(a->metric_query[0], "rps{pool=\"api\"}");
	/* the derived fields set alike, every other byte must match */
	memcpy(b->sd_prefix, a->sd_prefix, sizeof(a->sd_prefix));
	memcpy(b->state_dir, a->state_dir, sizeof(a->state_dir));
	memcpy(b->local.state_dir, a->local.state_dir, sizeof(a->local.state_dir));
	for (size_t i = 0; i < sizeof(*a); i++)
		if (((const unsigned char *)a)[i] != ((const unsigned char *)b)[i])
			fail_msg("byte %zu of struct ctl_cfg differs", i);
	ctl_cfg_fini(a);
	ctl_cfg_fini(b);
	free(a);
	free(b);
	buf_fini(&flat);
	buf_fini(&listed);
	buf_fini(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_pools),
		cmocka_unit_test(test_derived),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_ha_one_pool),
		cmocka_unit_test(test_ha_two_pools),
		cmocka_unit_test(test_load_one),
		cmocka_unit_test(test_one_pool_equals_flat),
	};

	return cmocka_run_group_tests_name("config_pools", tests, NULL, NULL);
}
