/* The demo's processes: configs written from the deploy/ files, ports
 * checked before anything starts, start in dependency order, readiness
 * waited for with deadlines, stop by pid, and the HTTP probes of a sample. */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fetch.h"
#include "common/fileio.h"
#include "common/net.h"
#include "demo/demo.h"
#include "promql/query.h"

#define RULES_WINDOW "10s"	/* the rules' rate window and `for:` here, for 1m */
#define AM_REPEAT "10s"		/* Alertmanager's group/repeat interval here, for 1m */
#define PROBE_TIMEOUT_MS 800	/* each HTTP read of a sample */
#define CPU_QUERY "avg(poolscale:instance_cpu_utilisation:ratio{pool=\"web\"})"
#define TARGET_QUERY \
	"sum by (instance) (rate(node_cpu_seconds_total{pool=\"{pool}\",mode!=\"idle\"}[" \
	RULES_WINDOW "])) / sum by (instance) (rate(node_cpu_seconds_total{pool=\"{pool}\"}[" \
	RULES_WINDOW "]))"
/* The demand that does not saturate: every /load an instance received
 * (served, queued or refused), as a pool total; and the queued ones. */
#define REQUESTS_QUERY \
	"sum by (instance) (rate(poolscale_app_requests_received_total{pool=\"{pool}\"}[" \
	RULES_WINDOW "]))"
#define BACKLOG_QUERY "sum(poolscale_app_queue_length{pool=\"{pool}\"})"
/* The utilisation the pool is sized for, on requests and on CPU. */
#define TARGET_UTIL 0.7

static void path_in(char *dst, size_t cap, const char *dir, const char *name)
{
	snprintf(dst, cap, "%s/%s", dir, name);
}

static int write_buf(const char *path, struct buf *b, struct err *e)
{
	int rc = file_write_atomic(path, b->p, b->len, e);

	buf_fini(b);
	return rc;
}

/* Reads a deploy file and swaps each from[i] for to[i]; every from[i] must
 * be there, so an edited deploy file fails loudly instead of silently. */
static int deploy_copy(const struct demo_plan *p, const char *rel, const char *dst,
    const char *const *from, const char *const *to, size_t n, struct err *e)
{
	char src[PATH_MAX + 64];
	struct buf in, out;
	int rc = -1;

	snprintf(src, sizeof(src), "%s/%s", p->deploy_dir, rel);
	buf_init(&in, 1 << 20);
	buf_init(&out, 1 << 20);
	if (file_read_all(src, &in, NULL, e) == -1 || buf_append(&in, "", 1) == -1)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (strstr(in.p, from[i]) == NULL) {
			err_set(e, "%s: expected \"%s\" in it", src, from[i]);
			goto done;
		}
	for (const char *s = in.p; *s; ) {
		size_t i;

		for (i = 0; i < n; i++)
			if (strncmp(s, from[i], strlen(from[i])) == 0)
				break;
		if (i < n) {
			buf_appends(&out, to[i]);
			s += strlen(from[i]);
		} else {
			buf_append(&out, s, 1);
			s++;
		}
	}
	rc = file_write_atomic(dst, out.p, out.len, e);
done:
	buf_fini(&in);
	buf_fini(&out);
	return rc;
}

static int write_controller_cfg(const struct demo_plan *p, struct err *e)
{
	char path[PATH_MAX + 32];
	char policy[2048];
	struct buf b;

	buf_init(&b, 1 << 20);
	if (p->policy == DEMO_TARGET)
		snprintf(policy, sizeof(policy),
		    "policy:\n"
		    "  kind: target\n"
		    "  target:\n"
		    "    tolerance: 0.1\n"
		    "    warmup: 5s\n"
		    "    stabilization: 20s\n"
		    "    scale_in_limit: 0\n"
		    "    # requests received as a pool total at %.0f%% of an instance's\n"
		    "    # %.1f req/s, the CPU as a second opinion, and what queues\n"
		    "    # drained within 5 s, and the forecast (docs/policies.md)\n"
		    "    metrics:\n"
		    "      - query: '%s'\n"
		    "        type: total\n"
		    "        value: %.3f\n"
		    "      - query: '%s'\n"
		    "        type: average\n"
		    "        value: %.2f\n"
		    "    backlog:\n"
		    "      query: '%s'\n"
		    "      drain: 5s\n"
		    "    forecast:\n"
		    "      enabled: true\n"
		    "      # from a decision to new capacity serving (a 3 s boot, a 1 s\n"
		    "      # check) plus the metric's lag (half the 10 s rate window, a\n"
		    "      # 2 s scrape, a 2 s interval): about 15 s\n"
		    "      horizon: 15s\n"
		    "prometheus:\n"
		    "  url: http://127.0.0.1:%d\n"
		    "  timeout: 1500ms\n", TARGET_UTIL * 100, p->capacity_rps, REQUESTS_QUERY,
		    TARGET_UTIL * p->capacity_rps, TARGET_QUERY, TARGET_UTIL, BACKLOG_QUERY,
		    p->prom_port);
	else
		snprintf(policy, sizeof(policy),
		    "policy:\n"
		    "  kind: step\n"
		    "  step:\n"
		    "    size: 1\n");
	buf_appendf(&b,
	    "# Written by `poolscale demo`; see docs/configuration.md.\n"
	    "pool: web\n"
	    "min: %d\n"
	    "max: %d\n"
	    "initial: %d\n"
	    "interval: %ds\n"
	    "state_dir: %s/state\n"
	    "health:\n"
	    "  interval: 1s\n"
	    "  timeout: 800ms\n"
	    "  fails: 3\n"
	    "drain:\n"
	    "  timeout: 15s\n"
	    "  kill_grace: 5s\n"
	    "provider:\n"
	    "  kind: local\n"
	    "  local:\n"
	    "    address_base: %s\n"
	    "    app_port: 8080\n"
	    "    metrics_port: 9100\n"
	    "    vcpu: %.2f\n"
	    "    work_ms: %g\n"
	    "    boot_delay: 3s\n"
	    "discovery:\n"
	    "  sets:\n"
	    "    metrics: 9100\n"
	    "    web: 8080\n"
	    "api:\n"
	    "  listen: 127.0.0.1:%d\n"
	    "%s"
	    "# This demo's world, for `poolscale simulate --config` (docs/simulate.md):\n"
	    "# capacity and boot follow from provider.local, the rate window from\n"
	    "# the query; Prometheus and Alertmanager as written beside this file.\n"
	    "simulate:\n"
	    "  scrape_interval: 2s\n"
	    "  score_interval: 1s\n"
	    "  health_check: 500ms\n"
	    "  alerts:\n"
	    "    rule_interval: 2s\n"
	    "    for: " RULES_WINDOW "\n"
	    "    group_wait: 0s\n"
	    "    group_interval: " AM_REPEAT "\n"
	    "    repeat_interval: " AM_REPEAT "\n",
	    p->min, p->max, p->min, p->interval_s, p->work_dir, p->address_base, p->vcpu,
	    p->work_ms, p->api_port, policy);
	path_in(path, sizeof(path), p->work_dir, "controller.yml");
	return write_buf(path, &b, e);
}

static int write_prometheus_cfg(const struct demo_plan *p, struct err *e)
{
	char path[PATH_MAX + 32], alerting[256] = "";
	struct buf b;
	static const char *const from[] = { "[1m]", "for: 1m" };
	static const char *const to[] = { "[" RULES_WINDOW "]", "for: " RULES_WINDOW };

	path_in(path, sizeof(path), p->work_dir, "rules.yml");
	if (deploy_copy(p, "prometheus/rules/poolscale.yml", path, from, to, 2, e) == -1)
		return -1;
	if (p->policy == DEMO_STEP)
		snprintf(alerting, sizeof(alerting),
		    "alerting:\n"
		    "  alertmanagers:\n"
		    "    - static_configs:\n"
		    "        - targets: [\"127.0.0.1:%d\"]\n", p->am_port);
	buf_init(&b, 1 << 20);
	buf_appendf(&b,
	    "# Written by `poolscale demo` from deploy/prometheus, with 2 s scrapes.\n"
	    "global:\n"
	    "  scrape_interval: 2s\n"
	    "  scrape_timeout: 1500ms\n"
	    "  evaluation_interval: 2s\n"
	    "rule_files: [\"%s/rules.yml\"]\n"
	    "%s"
	    "scrape_configs:\n"
	    "  - job_name: pool\n"
	    "    file_sd_configs:\n"
	    "      - files: [\"%s/state/targets-metrics.json\"]\n",
	    p->work_dir, alerting, p->work_dir);
	path_in(path, sizeof(path), p->work_dir, "prometheus.yml");
	return write_buf(path, &b, e);
}

static int write_alertmanager_cfg(const struct demo_plan *p, struct err *e)
{
	char path[PATH_MAX + 32], url[128];
	const char *from[] = { "http://127.0.0.1:9900/api/v1/alerts", "group_interval: 1m",
		"repeat_interval: 1m" };
	const char *to[] = { url, "group_interval: " AM_REPEAT, "repeat_interval: " AM_REPEAT };

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/alerts", p->api_port);
	path_in(path, sizeof(path), p->work_dir, "alertmanager.yml");
	return deploy_copy(p, "alertmanager/alertmanager.yml", path, from, to, 3, e);
}

/* Free when a listener could bind it now (with SO_REUSEADDR, as the
 * servers do, so an earlier run's TIME_WAIT connections don't count). */
static int port_free(const char *addr, struct err *e)
{
	struct net_addr a;
	struct err le = { "" };
	int fd;

	if (net_addr_parse(addr, &a, e) == -1)
		return -1;
	fd = net_listen(&a, 1, &le);
	if (fd == -1)
		return err_set(e, "%s is not free: %s", addr, le.msg);
	close(fd);
	return 0;
}

/* The ports of the demo's own services, before anything starts: a demo
 * still running holds them. */
static int check_service_ports(const struct demo_plan *p, struct err *e)
{
	const struct {
		int port;
		const char *flag;
		bool used;
	} own[] = {
		{ p->prom_port, "--prometheus-port", true },
		{ p->am_port, "--alertmanager-port", p->policy == DEMO_STEP },
		{ p->api_port, "--api-port", true },
		{ p->lb_metrics_port, "--lb-metrics-port", true },
	};
	char addr[64];
	struct err pe = { "" };

	if (port_free(p->lb_listen, &pe) == -1)
		return err_set(e, "%s (another demo running? choose --lb-listen or --free-ports)",
		    pe.msg);
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		if (!own[i].used)
			continue;
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", own[i].port);
		if (port_free(addr, &pe) == -1)
			return err_set(e, "%s (another demo running? choose %s or --free-ports)",
			    pe.msg, own[i].flag);
	}
	return 0;
}

/* The instances' ports, once an earlier run's pool is gone. */
static int check_instance_ports(const struct demo_plan *p, struct err *e)
{
	char addr[64];
	struct err pe = { "" };
	struct in_addr base;

	inet_pton(AF_INET, p->address_base, &base);
	for (int i = 0; i < p->max; i++) {
		struct in_addr a = { htonl(ntohl(base.s_addr) + (uint32_t)i) };
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		for (int k = 0; k < 2; k++) {
			snprintf(addr, sizeof(addr), "%s:%d", ip, k ? 9100 : 8080);
			if (port_free(addr, &pe) == -1)
				return err_set(e, "%s: an instance address is taken (choose "
				    "--address-base)", pe.msg);
		}
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* What an earlier run left in the work dir: its pool, by pid, then the data. */
static int clean_work_dir(const struct demo_plan *p, struct err *e)
{
	char cfg[PATH_MAX + 32], log[PATH_MAX + 32], dir[PATH_MAX + 32];
	const char *data[] = { "prom-data", "am-data", "state" };

	path_in(cfg, sizeof(cfg), p->work_dir, "controller.yml");
	path_in(log, sizeof(log), p->work_dir, "pool-destroy.log");
	if (access(cfg, R_OK) == 0) {
		char *argv[] = { (char *)p->exe, "pool", "destroy", "--config", cfg, NULL };
		struct err re = { "" };
		int rc = child_run("pool destroy", argv, log, 60000, &re);

		if (rc != 0)
			return err_set(e, "destroying the pool an earlier demo left in %s failed "
			    "(%s); see %s", p->work_dir, rc == -1 ? re.msg : "exit status", log);
	}
	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		path_in(dir, sizeof(dir), p->work_dir, data[i]);
		if (access(dir, F_OK) == 0 && nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
			return err_set(e, "cannot clear %s: %s", dir, strerror(errno));
	}
	return 0;
}

/* GET url into b (emptied first); 0 when it answered 200. */
static int get(const char *url, long timeout_ms, struct buf *b)
{
	struct fetch_req r = { .url = url, .timeout_ms = timeout_ms };
	struct err e;
	long status = 0;

	buf_reset(b);
	return fetch(&r, &status, b, &e) == 0 && status == 200 ? 0 : -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Waits for url to answer 200 while child c runs. */
static int wait_ready(struct child *c, const char *url, int timeout_ms, struct err *e)
{
	int64_t end = clock_mono_ms() + timeout_ms;

	for (;;) {
		if (!child_running(c))
			return err_set(e, "%s exited during start-up; see %s", c->name, c->log);
		if (fetch_ok(url, 500))
			return 0;
		if (clock_mono_ms() >= end)
			return err_set(e, "%s not ready after %d s (%s); see %s", c->name,
			    timeout_ms / 1000, url, c->log);
		sleep_ms(100);
	}
}

static int start_one(const struct demo_plan *p, struct demo_procs *procs, int which,
    const char *name, char *const argv[], const char *ready_url, struct err *e)
{
	char log[PATH_MAX + 64];
	struct err se = { "" };

	snprintf(log, sizeof(log), "%s/logs/%s.log", p->report_dir, name);
	if (child_start(&procs->c[which], name, argv, log, &se) == -1) {
		if (strstr(se.msg, "No such file") != NULL && argv[0][0] != '/')
			return err_set(e, "%s is not installed (Debian package %s; `make deps` "
			    "installs it)", argv[0], argv[0]);
		return err_set(e, "%s: %s", name, se.msg);
	}
	return wait_ready(&procs->c[which], ready_url, 60000, e);
}

int demo_start(const struct demo_plan *p, struct demo_procs *procs, struct err *e)
{
	char cfg[PATH_MAX + 64], data[PATH_MAX + 64], listen[64], url[128], targets[PATH_MAX + 64];
	char logs[PATH_MAX + 16], lbm[64];
	struct err le = { "" };

	memset(procs, 0, sizeof(*procs));
	snprintf(logs, sizeof(logs), "%s/logs", p->report_dir);
	if (file_mkdirs(p->work_dir, e) == -1 || file_mkdirs(logs, e) == -1)
		return -1;
	/* One demo per work dir: the lock lives as long as the process. */
	snprintf(cfg, sizeof(cfg), "%s/demo.lock", p->work_dir);
	if (file_lock(cfg, &le) == -1)
		return err_set(e, "another demo is using %s (%s); give it its own --work-dir",
		    p->work_dir, le.msg);
	if (check_service_ports(p, e) == -1 || clean_work_dir(p, e) == -1 ||
	    check_instance_ports(p, e) == -1)
		return -1;
	if (write_controller_cfg(p, e) == -1 || write_prometheus_cfg(p, e) == -1 ||
	    (p->policy == DEMO_STEP && write_alertmanager_cfg(p, e) == -1))
		return -1;

	/* The controller first: it makes the file_sd files Prometheus watches. */
	path_in(cfg, sizeof(cfg), p->work_dir, "controller.yml");
	{
		char *argv[] = { (char *)p->exe, "controller", "--config", cfg, NULL };

		snprintf(url, sizeof(url), "http://127.0.0.1:%d/-/ready", p->api_port);
		procs->pool_made = true;
		if (start_one(p, procs, DEMO_CONTROLLER, "controller", argv, url, e) == -1)
			return -1;
	}
	if (p->policy == DEMO_STEP) {
		char cfgf[PATH_MAX + 80], store[PATH_MAX + 80];
		char *argv[] = { "prometheus-alertmanager", cfgf, store, listen,
			"--cluster.listen-address=", NULL };

		snprintf(cfgf, sizeof(cfgf), "--config.file=%s/alertmanager.yml", p->work_dir);
		snprintf(store, sizeof(store), "--storage.path=%s/am-data", p->work_dir);
		snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", p->am_port);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/-/ready", p->am_port);
		if (start_one(p, procs, DEMO_ALERTMANAGER, "alertmanager", argv, url, e) == -1)
			return -1;
	}
	{
		char cfgf[PATH_MAX + 80];
		char *argv[] = { "prometheus", cfgf, data, listen, NULL };

		snprintf(cfgf, sizeof(cfgf), "--config.file=%s/prometheus.yml", p->work_dir);
		snprintf(data, sizeof(data), "--storage.tsdb.path=%s/prom-data", p->work_dir);
		snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", p->prom_port);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/-/ready", p->prom_port);
		if (start_one(p, procs, DEMO_PROMETHEUS, "prometheus", argv, url, e) == -1)
			return -1;
	}
	{
		/* HTTP mode: every request goes where there is room, so a new
		 * instance takes load at once, not only on new connections. */
		char *argv[] = { (char *)p->exe, "lb", "--mode", "http", "--listen",
			(char *)p->lb_listen,
			"--targets-file", targets, "--check", "http:/health", "--check-interval",
			"1s", "--check-timeout", "800ms", "--rise", "1", "--fall", "2",
			"--drain-timeout", "20s", "--metrics-listen", lbm, "--threads", "1", NULL };

		snprintf(targets, sizeof(targets), "%s/state/targets-web.json", p->work_dir);
		snprintf(lbm, sizeof(lbm), "127.0.0.1:%d", p->lb_metrics_port);
		snprintf(url, sizeof(url), "http://%s/metrics", lbm);
		if (start_one(p, procs, DEMO_LB, "lb", argv, url, e) == -1)
			return -1;
	}
	/* Ready to show: the pool at its minimum, serving through the lb. */
	{
		int64_t end = clock_mono_ms() + 60000;
		struct demo_sample s;

		for (;;) {
			demo_probe(p, &s);
			if (s.ready >= p->min && s.serving >= p->min)
				return 0;
			for (int i = 0; i < DEMO_NCHILD; i++)
				if (procs->c[i].pid != 0 && !child_running(&procs->c[i]))
					return err_set(e, "%s exited; see %s", procs->c[i].name,
					    procs->c[i].log);
			if (clock_mono_ms() >= end)
				return err_set(e, "the pool did not reach %d serving instance(s) "
				    "in 60 s; see %s/logs", p->min, p->report_dir);
			sleep_ms(200);
		}
	}
}

/* The next sample of `family` in the lb's /metrics text (NUL-ended) after
 * at: its backend label into backend (cap 64) and its value; NULL at the
 * end. Lines of other families, or without a backend label, are skipped. */
static const char *lb_sample(const char *at, const char *family, char *backend, double *v)
{
	size_t flen = strlen(family);

	for (; at != NULL && *at; at = strchr(at, '\n'), at = at ? at + 1 : NULL) {
		const char *lab, *end, *sp;

		if (strncmp(at, family, flen) != 0 || strncmp(at + flen, "{backend=\"", 10) != 0)
			continue;
		lab = at + flen + 10;
		end = strchr(lab, '"');
		sp = end ? strchr(end, ' ') : NULL;
		if (sp == NULL || end - lab >= 64)
			continue;
		memcpy(backend, lab, (size_t)(end - lab));
		backend[end - lab] = '\0';
		*v = strtod(sp + 1, NULL);
		return sp;
	}
	return NULL;
}

void demo_probe(const struct demo_plan *p, struct demo_sample *s)
{
	char url[512];
	struct buf b;

	s->desired = s->ready = s->serving = -1;
	s->cpu = s->forecast = NAN;
	for (int k = 0; k < DEMO_BACKENDS; k++)
		s->sent[k] = NAN;
	buf_init(&b, 4 << 20);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/status", p->api_port);
	if (get(url, PROBE_TIMEOUT_MS, &b) == 0) {
		json_t *v = json_loadb(b.p, b.len, 0, NULL), *m;
		size_t i;

		if (json_is_integer(json_object_get(v, "desired"))) {
			s->desired = (int)json_integer_value(json_object_get(v, "desired"));
			s->ready = 0;
			json_array_foreach(json_object_get(v, "members"), i, m)
				if (json_is_string(json_object_get(m, "state")) && strcmp(
				    json_string_value(json_object_get(m, "state")), "running") == 0)
					s->ready++;
		}
		m = json_object_get(json_object_get(json_object_get(v, "policy"), "forecast"),
		    "need");
		if (json_is_number(m))
			s->forecast = json_number_value(m);
		json_decref(v);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/query?query=", p->prom_port);
	for (const char *q = CPU_QUERY; *q; q++) {
		size_t at = strlen(url);
		unsigned char ch = (unsigned char)*q;

		if (at + 4 >= sizeof(url))
			break;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-') {
			url[at] = (char)ch;
			url[at + 1] = '\0';
		} else {
			snprintf(url + at, 4, "%%%02X", ch);
		}
	}
	if (get(url, PROBE_TIMEOUT_MS, &b) == 0) {
		struct prom_result r;
		struct err e;

		if (prom_parse_query(b.p, b.len, 200, &r, &e) == 0) {
			if (r.n == 1 && isfinite(r.v[0].value))
				s->cpu = r.v[0].value;
			prom_result_free(&r);
		}
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", p->lb_metrics_port);
	if (get(url, PROBE_TIMEOUT_MS, &b) == 0 && buf_append(&b, "", 1) == 0) {
		const char *at = b.p;
		char backend[64];
		double v;
		struct in_addr base, a;

		s->serving = 0;
		while ((at = lb_sample(at, "poolscale_lb_backend_up", backend, &v)) != NULL)
			s->serving += v >= 1;
		inet_pton(AF_INET, p->address_base, &base);
		at = b.p;
		while ((at = lb_sample(at, "poolscale_lb_backend_connections_total", backend,
		    &v)) != NULL) {
			char *colon = strrchr(backend, ':');
			uint32_t k;

			if (colon != NULL)
				*colon = '\0';
			if (inet_pton(AF_INET, backend, &a) != 1)
				continue;
			k = ntohl(a.s_addr) - ntohl(base.s_addr);
			if (k < DEMO_BACKENDS)
				s->sent[k] = v;
		}
	}
	buf_fini(&b);
}

void demo_stop(const struct demo_plan *p, struct demo_procs *procs, struct demo_run *run)
{
	char url[128], cfg[PATH_MAX + 32], log[PATH_MAX + 64];
	struct buf b;
	struct err e = { "" };

	if (procs->c[DEMO_CONTROLLER].pid != 0 && run != NULL) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/events", p->api_port);
		buf_init(&b, 16 << 20);
		if (get(url, PROBE_TIMEOUT_MS, &b) == 0) {
			snprintf(run->events_json_path, sizeof(run->events_json_path),
			    "%s/events.json", p->report_dir);
			if (file_write_atomic(run->events_json_path, b.p, b.len, &e) == -1)
				run->events_json_path[0] = '\0';
		}
		buf_fini(&b);
	}
	/* The lb and the controller first, so nothing restarts what goes next. */
	child_stop(&procs->c[DEMO_LB], 25000);
	child_stop(&procs->c[DEMO_CONTROLLER], 20000);
	if (procs->pool_made) {
		char *argv[] = { (char *)p->exe, "pool", "destroy", "--config", cfg, NULL };

		path_in(cfg, sizeof(cfg), p->work_dir, "controller.yml");
		snprintf(log, sizeof(log), "%s/logs/pool-destroy.log", p->report_dir);
		if (child_run("pool destroy", argv, log, 60000, &e) != 0)
			fprintf(stderr, "poolscale demo: pool destroy failed (%s); see %s\n",
			    e.msg[0] ? e.msg : "exit status", log);
	}
	child_stop(&procs->c[DEMO_PROMETHEUS], 15000);
	child_stop(&procs->c[DEMO_ALERTMANAGER], 15000);
}
