#include "controller/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/net.h"
#include "common/promtext.h"
#include "common/yamlcfg.h"
#include "provider/endpoint.h"
#include "provider/exo_json.h"
#include "provider/exo_zone.h"

#define DAY_MS 86400000

static void read_int(struct ymap *m, const char *key, int64_t min, int64_t max, int *out)
{
	int64_t v = *out;

	if (ycfg_int(m, key, min, max, &v))
		*out = (int)v;
}

#define DEFAULT_QUERY \
	"sum by (instance) (rate(node_cpu_seconds_total{pool=\"{pool}\",mode!=\"idle\"}[1m])) / " \
	"sum by (instance) (rate(node_cpu_seconds_total{pool=\"{pool}\"}[1m]))"

const char *ctl_policy_name(enum ctl_policy p)
{
	switch (p) {
	case CTL_POLICY_STEP: return "step";
	case CTL_POLICY_TARGET: return "target";
	default: return "none";
	}
}

void ctl_cfg_defaults(struct ctl_cfg *c)
{
	memset(c, 0, sizeof(*c));
	ha_cfg_defaults(&c->ha);
	snprintf(c->pool, sizeof(c->pool), "web");
	c->min = 1;
	c->max = 5;
	c->initial = -1;		/* min */
	c->interval_ms = 60000;		/* the seeds' webhook interval */
	snprintf(c->state_dir, sizeof(c->state_dir), "poolscale-state");
	c->log_level = LOG_INFO;
	snprintf(c->health_path, sizeof(c->health_path), "/health");
	c->health_interval_ms = 2000;
	c->health_timeout_ms = 1000;
	c->boot_timeout_ms = 300000;
	c->health_fails = 3;
	c->drain_timeout_ms = 30000;
	snprintf(c->drain_metric, sizeof(c->drain_metric), "poolscale_app_requests_in_flight");
	c->kill_grace_ms = 10000;
	snprintf(c->provider, sizeof(c->provider), "local");
	c->app_port = c->metrics_port = -1;	/* from provider.local unless set */
	c->list_interval_ms = -1;		/* by kind, in finish_load() */
	exo_cfg_default(&c->exoscale);
	asg_cfg_default(&c->aws);
	linode_cfg_default(&c->linode);
	exec_cfg_default(&c->exec);
	snprintf(c->local.address_base, sizeof(c->local.address_base), "127.0.1.1");
	c->local.max_instances = 64;
	c->local.app_port = 8080;
	c->local.metrics_port = 9100;
	c->local.vcpu = 0.25;
	c->local.work_ms = 50;
	snprintf(c->api_listen, sizeof(c->api_listen), "127.0.0.1:9900");
	c->step.step = 1;
	c->target.target = 0.5;
	c->target.tolerance = 0.1;
	c->target.stabilization_ms = 300000;
	c->target.up_period_ms = 60000;
	c->target.down_period_ms = 60000;
	snprintf(c->metric_query[0], sizeof(c->metric_query[0]), "%s", DEFAULT_QUERY);
	c->target.nmetrics = 1;
	c->target.metrics[0] = (struct target_metric){ POLICY_METRIC_AVERAGE, 0.5 };
	ctl_cfg_forecast_defaults(c);
	c->warmup_ms = 60000;
	snprintf(c->prom_url, sizeof(c->prom_url), "http://127.0.0.1:9090");
	c->prom_timeout_ms = 5000;
	snprintf(c->action_label, sizeof(c->action_label), "poolscale_action");
}

/* One entry of policy.target.metrics: {query, type, value}. */
static void read_metric(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c, size_t i)
{
	struct target_metric *t = &c->target.metrics[i];
	char path[64], key[96];
	struct ymap m;
	yaml_node_t *type;

	snprintf(path, sizeof(path), "policy.target.metrics[%zu]", i);
	if (!ymap_init(&m, y, n, path))
		return;
	*t = (struct target_metric){ POLICY_METRIC_AVERAGE, NAN };
	if (ymap_get(&m, "query") == NULL)
		ycfg_error(y, n, "%s: missing", ymap_key_path(&m, "query", key, sizeof(key)));
	ycfg_string(&m, "query", c->metric_query[i], sizeof(c->metric_query[i]));
	if ((type = ymap_get(&m, "type")) != NULL) {
		const char *k = ycfg_scalar(y, type, ymap_key_path(&m, "type", key, sizeof(key)));

		if (k && strcmp(k, "total") == 0)
			t->kind = POLICY_METRIC_TOTAL;
		else if (k && strcmp(k, "average") != 0)
			ycfg_error(y, type, "%s: \"%s\" is not average or total", key, k);
	}
	if (ymap_get(&m, "value") == NULL)
		ycfg_error(y, n, "%s: missing", ymap_key_path(&m, "value", key, sizeof(key)));
	ycfg_double(&m, "value", 1e-9, 1e12, &t->value);
	ymap_done(&m);
}

/* policy.target.metrics: a list of 1 to POLICY_MAX_METRICS entries. */
static void read_metrics(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	yaml_node_item_t *it;
	size_t i = 0;

	if (n->type != YAML_SEQUENCE_NODE) {
		ycfg_error(y, n, "policy.target.metrics: expected a list of {query, type, value}");
		return;
	}
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, i++) {
		if (i == POLICY_MAX_METRICS) {
			ycfg_error(y, yaml_document_get_node(&y->doc, *it),
			    "policy.target.metrics: more than %d metrics", POLICY_MAX_METRICS);
			return;
		}
		read_metric(y, yaml_document_get_node(&y->doc, *it), c, i);
	}
	if (i == 0)
		ycfg_error(y, n, "policy.target.metrics: empty");
	c->target.nmetrics = i;
}

/* policy.target.backlog: {query, drain}. */
static void read_backlog(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct ymap m;
	char key[64];

	if (!ymap_init(&m, y, n, "policy.target.backlog"))
		return;
	if (ymap_get(&m, "query") == NULL)
		ycfg_error(y, n, "%s: missing", ymap_key_path(&m, "query", key, sizeof(key)));
	ycfg_string(&m, "query", c->backlog_query, sizeof(c->backlog_query));
	c->target.backlog_drain_ms = 10000;
	ycfg_duration(&m, "drain", 1000, DAY_MS, &c->target.backlog_drain_ms);
	ymap_done(&m);
}

static void read_target(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct target_cfg *t = &c->target;
	yaml_node_t *list, *backlog;
	struct ymap m;
	bool total = false;

	if (!ymap_init(&m, y, n, "policy.target"))
		return;
	if ((list = ymap_get(&m, "metrics")) != NULL) {
		if (ymap_get(&m, "value") != NULL || ymap_get(&m, "query") != NULL)
			ycfg_error(y, list, "policy.target.metrics: give metrics or value and "
			    "query (the one-metric shorthand), not both");
		read_metrics(y, list, c);
	} else {
		/* The shorthand: one average metric, the CPU query by default. */
		ycfg_double(&m, "value", 0.001, 1e12, &t->target);
		ycfg_string(&m, "query", c->metric_query[0], sizeof(c->metric_query[0]));
		t->nmetrics = 1;
		t->metrics[0] = (struct target_metric){ POLICY_METRIC_AVERAGE, t->target };
	}
	if ((backlog = ymap_get(&m, "backlog")) != NULL) {
		for (size_t i = 0; i < t->nmetrics; i++)
			total = total || t->metrics[i].kind == POLICY_METRIC_TOTAL;
		if (!total)
			ycfg_error(y, backlog, "policy.target.backlog: needs a metric of type total "
			    "(the backlog drains at its value per instance)");
		read_backlog(y, backlog, c);
	}
	ycfg_double(&m, "tolerance", 0, 10, &t->tolerance);
	ycfg_duration(&m, "warmup", 0, DAY_MS, &c->warmup_ms);
	ycfg_duration(&m, "stabilization", 0, DAY_MS, &t->stabilization_ms);
	read_int(&m, "scale_out_limit", 0, 10000, &t->up_limit);
	ycfg_duration(&m, "scale_out_period", 1000, DAY_MS, &t->up_period_ms);
	read_int(&m, "scale_in_limit", 0, 10000, &t->down_limit);
	ycfg_duration(&m, "scale_in_period", 1000, DAY_MS, &t->down_period_ms);
	ctl_cfg_read_forecast(y, &m, c);
	ymap_done(&m);
	/* target stays metric 0's value: the peers (aws-target, hpa) read it */
	if (t->nmetrics > 0 && isfinite(t->metrics[0].value))
		t->target = t->metrics[0].value;
}

static void read_policy(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct ymap m, sm;
	yaml_node_t *kind;

	if (!ymap_init(&m, y, n, "policy"))
		return;
	if ((kind = ymap_get(&m, "kind")) != NULL) {
		const char *k = ycfg_scalar(y, kind, "policy.kind");

		if (k && strcmp(k, "step") == 0)
			c->policy = CTL_POLICY_STEP;
		else if (k && strcmp(k, "target") == 0)
			c->policy = CTL_POLICY_TARGET;
		else if (k && strcmp(k, "none") == 0)
			c->policy = CTL_POLICY_NONE;
		else if (k)
			ycfg_error(y, kind, "policy.kind: \"%s\" is not step, target or none", k);
	}
	if (ymap_init(&sm, y, ymap_get(&m, "step"), "policy.step")) {
		read_int(&sm, "size", 1, 10000, &c->step.step);
		ymap_done(&sm);
	}
	read_target(y, ymap_get(&m, "target"), c);
	ymap_done(&m);
}

static void read_prometheus(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct ymap m;

	if (!ymap_init(&m, y, n, "prometheus"))
		return;
	if (ycfg_string(&m, "url", c->prom_url, sizeof(c->prom_url)) &&
	    strncmp(c->prom_url, "http://", 7) != 0 && strncmp(c->prom_url, "https://", 8) != 0)
		ycfg_error(y, ymap_get(&m, "url"), "prometheus.url: \"%s\" is not an http(s) URL",
		    c->prom_url);
	ycfg_duration(&m, "timeout", 100, 600000, &c->prom_timeout_ms);
	ymap_done(&m);
}

static void read_webhook(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct ymap m;

	if (!ymap_init(&m, y, n, "webhook"))
		return;
	ycfg_string(&m, "action_label", c->action_label, sizeof(c->action_label));
	ymap_done(&m);
}

/* Replaces every {pool} in q (cap bytes) with the pool's name. */
static void expand_query(struct ycfg *y, const struct ctl_cfg *c, char *q, size_t cap,
    const char *key)
{
	char out[2048];
	size_t n = 0;

	if (cap > sizeof(out))
		cap = sizeof(out);
	for (const char *p = q; *p; ) {
		if (strncmp(p, "{pool}", 6) == 0) {
			size_t pl = strlen(c->pool);

			if (n + pl >= cap)
				goto too_long;
			memcpy(out + n, c->pool, pl);
			n += pl;
			p += 6;
			continue;
		}
		if (n + 1 >= cap)
			goto too_long;
		out[n++] = *p++;
	}
	out[n] = '\0';
	memcpy(q, out, n + 1);
	return;
too_long:
	ycfg_error(y, NULL, "%s: too long once {pool} is replaced", key);
}

static void expand_queries(struct ycfg *y, struct ctl_cfg *c)
{
	char key[64];

	for (size_t i = 0; i < c->target.nmetrics; i++) {
		if (i == 0 && c->target.nmetrics == 1)
			snprintf(key, sizeof(key), "policy.target.query");
		else
			snprintf(key, sizeof(key), "policy.target.metrics[%zu].query", i);
		expand_query(y, c, c->metric_query[i], sizeof(c->metric_query[i]), key);
	}
	if (c->backlog_query[0])
		expand_query(y, c, c->backlog_query, sizeof(c->backlog_query),
		    "policy.target.backlog.query");
	snprintf(c->query, sizeof(c->query), "%s", c->metric_query[0]);
}

static void read_health(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct ymap m;

	if (!ymap_init(&m, y, n, "health"))
		return;
	ycfg_string(&m, "path", c->health_path, sizeof(c->health_path));
	if (c->health_path[0] != '/')
		ycfg_error(y, n, "health.path: must start with /");
	ycfg_duration(&m, "interval", 100, DAY_MS, &c->health_interval_ms);
	ycfg_duration(&m, "timeout", 10, DAY_MS, &c->health_timeout_ms);
	ycfg_duration(&m, "boot_timeout", 1000, DAY_MS, &c->boot_timeout_ms);
	read_int(&m, "fails", 1, 1000, &c->health_fails);
	ymap_done(&m);
}

static void read_drain(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct ymap m;
	yaml_node_t *metric, *port;
	char which[16] = "";

	if (!ymap_init(&m, y, n, "drain"))
		return;
	ycfg_duration(&m, "timeout", 0, DAY_MS, &c->drain_timeout_ms);
	ycfg_duration(&m, "kill_grace", 0, DAY_MS, &c->kill_grace_ms);
	metric = ymap_get(&m, "metric");
	if (ycfg_string(&m, "metric", c->drain_metric, sizeof(c->drain_metric)) &&
	    !prom_name_ok(c->drain_metric))
		ycfg_error(y, metric, "drain.metric: \"%s\" is not a Prometheus metric name",
		    c->drain_metric);
	port = ymap_get(&m, "port");
	if (port != NULL && ycfg_string(&m, "port", which, sizeof(which))) {
		if (strcmp(which, "metrics") == 0)
			c->drain_on_metrics_port = true;
		else if (strcmp(which, "app") != 0)
			ycfg_error(y, port, "drain.port: \"%s\" is not app or metrics", which);
	}
	ymap_done(&m);
}

/* A command as a YAML list of arguments (or, for exec with a shell, one
 * string). */
static void read_argv(struct ycfg *y, yaml_node_t *n, const char *key, char **argv,
    size_t *argc, size_t max, size_t max_len, bool scalar_ok)
{
	yaml_node_item_t *it;

	if (n->type == YAML_SCALAR_NODE && scalar_ok) {
		if (n->data.scalar.length > max_len)
			ycfg_error(y, n, "%s: longer than %zu bytes", key, max_len);
		else
			argv[(*argc)++] = strdup((const char *)n->data.scalar.value);
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		ycfg_error(y, n, "%s: expected a list of arguments", key);
		return;
	}
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *a = yaml_document_get_node(&y->doc, *it);
		const char *s = ycfg_scalar(y, a, key);

		if (s == NULL)
			continue;
		if (*argc == max) {
			ycfg_error(y, a, "%s: more than %zu arguments", key, max);
			return;
		}
		if (strlen(s) > max_len) {
			ycfg_error(y, a, "%s: an argument is longer than %zu bytes", key, max_len);
			continue;
		}
		argv[(*argc)++] = strdup(s);
	}
	if (*argc == 0)
		ycfg_error(y, n, "%s: empty", key);
}

static void read_local(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct local_cfg *l = &c->local;
	struct ymap m;
	yaml_node_t *cmd;
	struct in_addr a;

	if (!ymap_init(&m, y, n, "provider.local"))
		return;
	if (ycfg_string(&m, "address_base", l->address_base, sizeof(l->address_base)) &&
	    (inet_pton(AF_INET, l->address_base, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127))
		ycfg_error(y, ymap_get(&m, "address_base"),
		    "provider.local.address_base: \"%s\" is not a loopback IPv4 address (127.x.y.z)",
		    l->address_base);
	read_int(&m, "max_instances", 1, 4096, &l->max_instances);
	read_int(&m, "app_port", 1, 65535, &l->app_port);
	read_int(&m, "metrics_port", 1, 65535, &l->metrics_port);
	ycfg_double(&m, "vcpu", 0.01, 64, &l->vcpu);
	ycfg_double(&m, "work_ms", 0, 600000, &l->work_ms);
	ycfg_duration(&m, "boot_delay", 0, DAY_MS, &l->boot_delay_ms);
	if ((cmd = ymap_get(&m, "command")) != NULL)
		read_argv(y, cmd, "provider.local.command", l->command, &l->ncommand,
		    LOCAL_MAX_ARGS, LOCAL_MAX_ARG_LEN, false);
	ymap_done(&m);
}

static void read_exoscale(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct exo_cfg *x = &c->exoscale;
	struct ymap m;
	struct err e;
	char zone[64];

	if (!ymap_init(&m, y, n, "provider.exoscale"))
		return;
	/* Read wider than the field, so a too-long zone gets the zone's reason. */
	snprintf(zone, sizeof(zone), "%s", x->zone);
	if (ycfg_string(&m, "zone", zone, sizeof(zone))) {
		if (exo_zone_check(zone, &e) == -1)
			ycfg_error(y, ymap_get(&m, "zone"), "provider.exoscale.zone: %s", e.msg);
		else
			memcpy(x->zone, zone, strlen(zone) + 1);	/* checked: fits */
	}
	if (ycfg_string(&m, "pool_id", x->pool_id, sizeof(x->pool_id)) && x->pool_id[0] != '\0' &&
	    !exo_is_uuid(x->pool_id))
		ycfg_error(y, ymap_get(&m, "pool_id"),
		    "provider.exoscale.pool_id: \"%s\" is not a lower-case UUID", x->pool_id);
	if (ycfg_string(&m, "endpoint", x->endpoint, sizeof(x->endpoint)) &&
	    x->endpoint[0] != '\0' && exo_endpoint_check(x->endpoint, &e) == -1)
		ycfg_error(y, ymap_get(&m, "endpoint"), "provider.exoscale.endpoint: %s", e.msg);
	ycfg_string(&m, "key_file", x->key_file, sizeof(x->key_file));
	ycfg_string(&m, "secret_file", x->secret_file, sizeof(x->secret_file));
	if (ycfg_string(&m, "address", x->address, sizeof(x->address)) &&
	    strcmp(x->address, "public") != 0 && strcmp(x->address, "ipv6") != 0)
		ycfg_error(y, ymap_get(&m, "address"),
		    "provider.exoscale.address: \"%s\" is not public or ipv6", x->address);
	ycfg_duration(&m, "operation_timeout", 1000, DAY_MS, &x->operation_timeout_ms);
	ycfg_duration(&m, "operation_poll", 100, 600000, &x->operation_poll_ms);
	ymap_done(&m);
}

/* An optional endpoint URL ("" keeps the provider's default). */
static void read_endpoint(struct ycfg *y, struct ymap *m, const char *section,
    const char *key, char *dst, size_t cap)
{
	struct err e;

	if (ycfg_string(m, key, dst, cap) && dst[0] != '\0' &&
	    prov_endpoint_check(dst, &e) == -1)
		ycfg_error(y, ymap_get(m, key), "%s.%s: %s", section, key, e.msg);
}

static void read_aws(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct asg_cfg *a = &c->aws;
	struct ymap m;

	if (!ymap_init(&m, y, n, "provider.aws"))
		return;
	ycfg_string(&m, "region", a->region, sizeof(a->region));
	ycfg_string(&m, "group", a->group, sizeof(a->group));
	read_endpoint(y, &m, "provider.aws", "endpoint", a->endpoint, sizeof(a->endpoint));
	read_endpoint(y, &m, "provider.aws", "ec2_endpoint", a->ec2_endpoint,
	    sizeof(a->ec2_endpoint));
	ycfg_string(&m, "credentials_file", a->credentials_file, sizeof(a->credentials_file));
	ycfg_string(&m, "profile", a->profile, sizeof(a->profile));
	if (ycfg_string(&m, "address", a->address, sizeof(a->address)) &&
	    strcmp(a->address, "private") != 0 && strcmp(a->address, "public") != 0)
		ycfg_error(y, ymap_get(&m, "address"),
		    "provider.aws.address: \"%s\" is not private or public", a->address);
	ymap_done(&m);
}

static void read_exec(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct exec_cfg *x = &c->exec;
	static const char *const names[3] = { "list", "set_size", "remove" };
	struct exec_cmd *cmds[3] = { &x->list, &x->set_size, &x->remove };
	struct ymap m;
	yaml_node_t *v[3];
	char key[48];

	if (n == NULL || !ymap_init(&m, y, n, "provider.exec"))
		return;
	ycfg_bool(&m, "shell", &x->shell);
	ycfg_duration(&m, "timeout", 100, DAY_MS, &x->timeout_ms);
	ycfg_duration(&m, "kill_grace", 0, 600000, &x->kill_grace_ms);
	for (int i = 0; i < 3; i++)
		v[i] = ymap_get(&m, names[i]);
	ymap_done(&m);
	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "provider.exec.%s", names[i]);
		if (v[i] == NULL) {
			ycfg_error(y, n, "%s: missing", key);
			continue;
		}
		read_argv(y, v[i], key, cmds[i]->argv, &cmds[i]->argc, EXEC_MAX_ARGS,
		    EXEC_MAX_ARG_LEN, x->shell);
		if (x->shell && cmds[i]->argc > 1)
			ycfg_error(y, v[i], "%s: with shell: true, give one command string", key);
	}
}

static void read_provider(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct ymap m;
	struct cloud_http_cfg http;
	yaml_node_t *kind, *exec;

	if (!ymap_init(&m, y, n, "provider"))
		return;
	kind = ymap_get(&m, "kind");
	if (ycfg_string(&m, "kind", c->provider, sizeof(c->provider)) &&
	    strcmp(c->provider, "local") != 0 && strcmp(c->provider, "exoscale") != 0 &&
	    strcmp(c->provider, "aws") != 0 && strcmp(c->provider, "linode") != 0 &&
	    strcmp(c->provider, "exec") != 0)
		ycfg_error(y, kind, "provider.kind: \"%s\" is not local, exoscale, aws, linode or "
		    "exec",
		    c->provider);
	read_int(&m, "app_port", 1, 65535, &c->app_port);
	read_int(&m, "metrics_port", 1, 65535, &c->metrics_port);
	ycfg_duration(&m, "list_interval", 100, DAY_MS, &c->list_interval_ms);
	/* One client behaviour for every cloud. */
	http = c->exoscale.http;
	c->provider_timeout_given = ymap_get(&m, "timeout") != NULL;
	ycfg_duration(&m, "timeout", 100, 600000, &http.timeout_ms);
	read_int(&m, "retries", 0, 20, &http.retries);
	ycfg_duration(&m, "backoff", 10, 600000, &http.backoff_ms);
	ycfg_duration(&m, "backoff_max", 10, 3600000, &http.backoff_max_ms);
	if (http.backoff_max_ms < http.backoff_ms)
		ycfg_error(y, n, "provider.backoff_max is below provider.backoff");
	c->exoscale.http = c->aws.http = c->linode.http = http;
	read_local(y, ymap_get(&m, "local"), c);
	read_exoscale(y, ymap_get(&m, "exoscale"), c);
	read_aws(y, ymap_get(&m, "aws"), c);
	ctl_cfg_read_linode(y, ymap_get(&m, "linode"), c);
	exec = ymap_get(&m, "exec");
	read_exec(y, exec, c);
	ymap_done(&m);
	if (strcmp(c->provider, "exoscale") == 0 && c->exoscale.pool_id[0] == '\0')
		ycfg_error(y, n, "provider.exoscale.pool_id: missing");
	if (strcmp(c->provider, "aws") == 0 && c->aws.group[0] == '\0')
		ycfg_error(y, n, "provider.aws.group: missing");
	if (strcmp(c->provider, "exec") == 0 && exec == NULL)
		ycfg_error(y, n, "provider.exec: missing (list, set_size and remove commands)");
}

bool ctl_name_ok(const char *s, size_t cap)
{
	if (*s == '\0' || strlen(s) >= cap)
		return false;
	for (; *s; s++)
		if (!(*s == '-' || *s == '_' || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static void read_discovery(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct ymap m;
	yaml_node_t *sets;
	yaml_node_pair_t *p;

	if (!ymap_init(&m, y, n, "discovery"))
		return;
	ycfg_string(&m, "dir", c->sd_dir, sizeof(c->sd_dir));
	sets = ymap_get(&m, "sets");
	ymap_done(&m);
	if (sets == NULL)
		return;
	if (sets->type != YAML_MAPPING_NODE) {
		ycfg_error(y, sets, "discovery.sets: expected NAME: PORT pairs");
		return;
	}
	c->nsets = 0;
	for (p = sets->data.mapping.pairs.start; p < sets->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&y->doc, p->value);
		const char *name = ycfg_scalar(y, k, "discovery.sets");
		const char *port = ycfg_scalar(y, v, "discovery.sets");
		char *end;
		long pn;

		if (name == NULL || port == NULL)
			continue;
		if (!ctl_name_ok(name, sizeof(c->sets[0].name))) {
			ycfg_error(y, k, "discovery.sets: \"%s\" is not a name (letters, digits, - and _)",
			    name);
			continue;
		}
		pn = strtol(port, &end, 10);
		if (*port == '\0' || *end != '\0' || pn < 1 || pn > 65535) {
			ycfg_error(y, v, "discovery.sets.%s: \"%s\" is not a port (1..65535)", name, port);
			continue;
		}
		if (c->nsets == CTL_MAX_SETS) {
			ycfg_error(y, k, "discovery.sets: more than %d sets", CTL_MAX_SETS);
			return;
		}
		snprintf(c->sets[c->nsets].name, sizeof(c->sets[c->nsets].name), "%s", name);
		c->sets[c->nsets++].port = (int)pn;
	}
}

static void read_api(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct ymap m;
	struct net_addr a;
	struct err e;

	if (!ymap_init(&m, y, n, "api"))
		return;
	if (ycfg_string(&m, "listen", c->api_listen, sizeof(c->api_listen)) &&
	    net_addr_parse(c->api_listen, &a, &e) == -1)
		ycfg_error(y, ymap_get(&m, "listen"), "api.listen: %s", e.msg);
	ycfg_string(&m, "bearer_token_file", c->token_file, sizeof(c->token_file));
	ymap_done(&m);
}

void ctl_cfg_read_shared(struct ycfg *y, struct ymap *m, struct ctl_cfg *c)
{
	yaml_node_t *lvl;

	ycfg_string(m, "state_dir", c->state_dir, sizeof(c->state_dir));
	ycfg_bool(m, "dry_run", &c->dry_run);
	if ((lvl = ymap_get(m, "log_level")) != NULL) {
		const char *s = ycfg_scalar(y, lvl, "log_level");

		if (s && log_level_parse(s, &c->log_level) == -1)
			ycfg_error(y, lvl, "log_level: \"%s\" is not error, warn, info or debug", s);
	}
	read_api(y, ymap_get(m, "api"), c);
	read_prometheus(y, ymap_get(m, "prometheus"), c);
	read_webhook(y, ymap_get(m, "webhook"), c);
	/* The world around the controller, for `poolscale simulate` only
	 * (sim/config.c); the controller has no use for it. */
	(void)ymap_get(m, "simulate");
}

void ctl_cfg_read_pool(struct ycfg *y, struct ymap *m, struct ctl_cfg *c)
{
	yaml_node_t *root = m->node, *sched;
	int64_t v;

	read_int(m, "min", 0, 10000, &c->min);
	read_int(m, "max", 1, 10000, &c->max);
	v = c->initial;
	if (ycfg_int(m, "initial", 0, 10000, &v))
		c->initial = (int)v;
	ycfg_duration(m, "interval", 100, DAY_MS, &c->interval_ms);
	read_health(y, ymap_get(m, "health"), c);
	read_drain(y, ymap_get(m, "drain"), c);
	read_provider(y, ymap_get(m, "provider"), c);
	read_discovery(y, ymap_get(m, "discovery"), c);
	read_policy(y, ymap_get(m, "policy"), c);
	sched = ymap_get(m, "schedule");
	ctl_cfg_read_schedule(y, sched, c);
	if (c->min > c->max)
		ycfg_error(y, root, "min (%d) is above max (%d)", c->min, c->max);
	if (c->initial >= 0 && (c->initial < c->min || c->initial > c->max))
		ycfg_error(y, root, "initial (%d) is outside [min, max] = [%d, %d]", c->initial,
		    c->min, c->max);
	if (strcmp(c->provider, "local") == 0 && c->max > c->local.max_instances)
		ycfg_error(y, root, "max (%d) is above provider.local.max_instances (%d)", c->max,
		    c->local.max_instances);
	ctl_cfg_check_schedule(y, sched, c);
	if (c->health_timeout_ms >= c->health_interval_ms)
		ycfg_error(y, root, "health.timeout must be below health.interval");
	if (c->policy == CTL_POLICY_TARGET && c->prom_timeout_ms >= c->interval_ms)
		ycfg_error(y, root, "prometheus.timeout must be below interval");
	expand_queries(y, c);
}

void ctl_cfg_resolve(char *path, size_t cap, const char *cfgfile)
{
	char dir[1024], out[2048];

	if (path[0] == '/' || path[0] == '\0')
		return;
	snprintf(dir, sizeof(dir), "%s", cfgfile);
	snprintf(out, sizeof(out), "%s/%s", dirname(dir), path);
	if (strlen(out) < cap)
		memcpy(path, out, strlen(out) + 1);
}

#define RESOLVE(c, field) ctl_cfg_resolve((c)->field, sizeof((c)->field), (c)->file)

void ctl_cfg_derive(struct ctl_cfg *c)
{
	c->initial_given = c->initial >= 0;
	if (c->initial < 0)
		c->initial = c->min;
	/* provider.app_port wins; provider.local.app_port is the older place. */
	if (c->app_port < 0)
		c->app_port = c->local.app_port;
	c->local.app_port = c->app_port;
	if (c->metrics_port < 0)
		c->metrics_port = c->local.metrics_port;
	c->local.metrics_port = c->metrics_port;
	/* A cloud's lists count against its rate limit. A local list is
	 * cheap but not free (a /proc look per member): often enough that a
	 * dead process is found before its health checks would fail it,
	 * within [250 ms, 1 s]. */
	if (c->list_interval_ms < 0 && strcmp(c->provider, "local") == 0) {
		int64_t half = c->health_interval_ms / 2;

		c->list_interval_ms = half < 250 ? 250 : half > 1000 ? 1000 : half;
	} else if (c->list_interval_ms < 0) {
		c->list_interval_ms = 10000;
	}
	RESOLVE(c, exoscale.key_file);
	RESOLVE(c, exoscale.secret_file);
	RESOLVE(c, aws.credentials_file);
	RESOLVE(c, linode.token_file);
	RESOLVE(c, linode.user_data_file);
	if (c->linode.node_port == 0)
		c->linode.node_port = c->app_port;
	if (c->nsets == 0) {
		snprintf(c->sets[0].name, sizeof(c->sets[0].name), "metrics");
		c->sets[0].port = c->metrics_port;
		snprintf(c->sets[1].name, sizeof(c->sets[1].name), "web");
		c->sets[1].port = c->app_port;
		c->nsets = 2;
	}
	RESOLVE(c, token_file);
	RESOLVE(c, ha.etcd.ca_file);
	RESOLVE(c, ha.etcd.cert_file);
	RESOLVE(c, ha.etcd.key_file);
	RESOLVE(c, ha.password_file);
	/* Which controller of an HA group sent a request, in the cloud's
	 * own logs (and the contract server's). */
	if (c->ha.enabled)
		snprintf(c->exoscale.http.user_agent, sizeof(c->exoscale.http.user_agent),
		    "poolscale/%s (controller %s)", POOLSCALE_VERSION, c->ha.name);
	memcpy(c->aws.http.user_agent, c->exoscale.http.user_agent, sizeof(c->aws.http.user_agent));
	memcpy(c->linode.http.user_agent, c->exoscale.http.user_agent,
	    sizeof(c->linode.http.user_agent));
	c->local.kill_grace_ms = c->kill_grace_ms;
}

static bool is_loopback(const char *listen)
{
	struct net_addr a;
	struct err e;

	if (net_addr_parse(listen, &a, &e) == -1)
		return false;
	if (a.ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&a.ss)->sin_addr.s_addr) >> 24) == 127;
	return memcmp(&((struct sockaddr_in6 *)&a.ss)->sin6_addr, &in6addr_loopback,
	    sizeof(struct in6_addr)) == 0;
}

int ctl_cfg_finish(struct ctl_cfg *c, struct buf *errors)
{
	const char *env = getenv("POOLSCALE_API_TOKEN");
	int n = 0;

	if (c->token_file[0] != '\0') {
		struct buf b;
		struct err e;

		buf_init(&b, sizeof(c->token) - 1);
		if (file_read_all(c->token_file, &b, NULL, &e) == -1) {
			buf_appendf(errors, "%s: api.bearer_token_file: %s\n", c->file, e.msg);
			n++;
		} else {
			while (b.len > 0 && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r' ||
			    b.p[b.len - 1] == ' '))
				b.len--;
			if (b.len == 0) {
				buf_appendf(errors, "%s: api.bearer_token_file: %s is empty\n",
				    c->file, c->token_file);
				n++;
			}
			memcpy(c->token, b.p ? b.p : "", b.len);
			c->token[b.len] = '\0';
		}
		buf_fini(&b);
	} else if (env != NULL && *env != '\0') {
		if (strlen(env) >= sizeof(c->token)) {
			buf_appendf(errors, "POOLSCALE_API_TOKEN: longer than %zu characters\n",
			    sizeof(c->token) - 1);
			n++;
		} else {
			snprintf(c->token, sizeof(c->token), "%s", env);
		}
	}
	n += ctl_cfg_finish_ha(c, errors);
	if (c->token[0] == '\0' && !is_loopback(c->api_listen)) {
		buf_appendf(errors, "%s: api.listen %s is beyond loopback: set "
		    "api.bearer_token_file (or POOLSCALE_API_TOKEN)\n", c->file, c->api_listen);
		n++;
	}
	return n;
}

void ctl_cfg_fini(struct ctl_cfg *c)
{
	for (size_t i = 0; i < c->local.ncommand; i++)
		free(c->local.command[i]);
	c->local.ncommand = 0;
	exec_cfg_fini(&c->exec);
}

int64_t ctl_provider_timeout_ms(const struct ctl_cfg *cfg)
{
	if (strcmp(cfg->provider, "exec") == 0)
		return cfg->exec.timeout_ms;
	if (strcmp(cfg->provider, "local") == 0)
		return 1000;		/* a fork and an exec */
	return cfg->exoscale.http.timeout_ms;	/* one client for every cloud */
}

int ctl_provider_open(struct ctl_cfg *cfg, struct provider *out, struct err *e)
{
	if (strcmp(cfg->provider, "exoscale") == 0)
		return prov_exoscale_new(&cfg->exoscale, out, e);
	if (strcmp(cfg->provider, "aws") == 0)
		return prov_aws_new(&cfg->aws, out, e);
	if (strcmp(cfg->provider, "linode") == 0) {
		/* dry_run changes nothing: not even the NodeBalancer's nodes,
		 * which a list reconciles otherwise */
		cfg->linode.read_only |= cfg->dry_run;
		return prov_linode_new(&cfg->linode, out, e);
	}
	if (strcmp(cfg->provider, "exec") == 0)
		return prov_exec_new(&cfg->exec, out, e);
	return prov_local_new(&cfg->local, out, e);
}
