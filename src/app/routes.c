/* What `poolscale app` answers: /load, /health, /metrics and /. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "app/app.h"
#include "app/burn.h"
#include "common/clock.h"
#include "common/parse.h"

#define TEXT "text/plain; charset=utf-8"
#define PROM_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define ALLOW_GET "Allow: GET, HEAD\r\n"

struct load_job {
	struct app *app;
	struct http_conn *conn;
	int64_t cpu_ns;
	int64_t queued_ns;	/* when it was submitted */
	int64_t started_ns;
	struct burn_result res;
};

enum app_path app_path_of(struct slice path)
{
	if (slice_eq(path, "/load"))
		return APP_PATH_LOAD;
	if (slice_eq(path, "/health"))
		return APP_PATH_HEALTH;
	if (slice_eq(path, "/metrics"))
		return APP_PATH_METRICS;
	if (slice_eq(path, "/"))
		return APP_PATH_ROOT;
	return APP_PATH_OTHER;
}

bool app_is_booting(const struct app *a)
{
	return clock_mono_ms() - a->start_mono_ms < a->cfg.boot_delay_ms;
}

static void load_work(void *arg)
{
	struct load_job *j = arg;

	atomic_fetch_sub(&j->app->stats.queued, 1);
	j->started_ns = clock_mono_ns();
	burn_cpu(j->cpu_ns, &j->res);
}

/* On the loop that took the request, once a worker burned the CPU. */
static void load_done(struct loop *l, void *arg)
{
	struct load_job *j = arg;
	char body[256];
	int n;

	(void)l;
	atomic_fetch_add(&j->app->stats.load_cpu_ns, (uint64_t)j->res.cpu_ns);
	n = snprintf(body, sizeof(body),
	    "burned %.1f ms of CPU in %.1f ms, after %.1f ms in the queue, on %s\n",
	    (double)j->res.cpu_ns / 1e6, (double)j->res.wall_ns / 1e6,
	    (double)(j->started_ns - j->queued_ns) / 1e6, j->app->addr);
	http_respond(j->conn, 200, TEXT, NULL, body, (size_t)n);
	atomic_fetch_sub(&j->app->stats.in_flight, 1);
	free(j);
}

static enum http_handled load(struct app *a, struct http_conn *c,
    const struct http_request *req)
{
	struct load_job *j;
	struct slice v;
	double ms = a->cfg.work_ms;

	/* Demand, counted before anything can refuse it: a request that
	 * queues or gets a 503 was wanted all the same, and a pool-total
	 * target (docs/policies.md) sizes the pool on it. */
	atomic_fetch_add(&a->stats.received, 1);
	if (app_is_booting(a)) {
		http_respond(c, 503, TEXT, NULL, "booting\n", 8);
		return HTTP_HANDLED_DONE;
	}
	if (http_query_param(req->query, "ms", &v)) {
		char tmp[32];
		struct err e;

		snprintf(tmp, sizeof(tmp), "%.*s", (int)(v.len < 31 ? v.len : 31), v.p);
		if (v.len > 31 || parse_double(tmp, 0, a->cfg.max_work_ms, &ms, &e) == -1) {
			char msg[128];
			int n = snprintf(msg, sizeof(msg),
			    "ms must be a number from 0 to %g (the --max-work-ms cap)\n",
			    a->cfg.max_work_ms);

			http_respond(c, 400, TEXT, NULL, msg, (size_t)n);
			return HTTP_HANDLED_DONE;
		}
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		http_respond(c, 503, TEXT, NULL, "out of memory\n", 14);
		return HTTP_HANDLED_DONE;
	}
	j->app = a;
	j->conn = c;
	j->cpu_ns = llround(ms * 1e6);
	j->queued_ns = clock_mono_ns();
	atomic_fetch_add(&a->stats.in_flight, 1);
	atomic_fetch_add(&a->stats.queued, 1);
	if (workpool_submit(a->pool, load_work, http_conn_loop(c), load_done, j) == -1) {
		atomic_fetch_sub(&a->stats.queued, 1);
		atomic_fetch_sub(&a->stats.in_flight, 1);
		atomic_fetch_add(&a->stats.overloaded, 1);
		free(j);
		http_respond(c, 503, TEXT, NULL, "overloaded: the work queue is full\n", 35);
		return HTTP_HANDLED_DONE;
	}
	return HTTP_HANDLED_PENDING;
}

static void health(struct app *a, struct http_conn *c)
{
	if (atomic_load(&a->draining))
		http_respond(c, 503, TEXT, NULL, "draining\n", 9);
	else if (app_is_booting(a))
		http_respond(c, 503, TEXT, NULL, "booting\n", 8);
	else
		http_respond(c, 200, TEXT, NULL, "OK\n", 3);
}

static void metrics(struct app *a, struct http_conn *c)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	app_render_metrics(a, &b, http_conn_tag(c) == APP_TAG_METRICS);
	http_respond(c, 200, PROM_TEXT, NULL, b.p, b.len);
	buf_fini(&b);
}

static void root(struct http_conn *c, int tag)
{
	static const char app_page[] =
	    "poolscale app\n"
	    "GET /load      burn CPU for the configured cost (?ms=N overrides)\n"
	    "GET /health    200 when serving, 503 while booting or draining\n"
	    "GET /metrics   Prometheus metrics\n";
	static const char metrics_page[] =
	    "poolscale app metrics\nGET /metrics   Prometheus metrics, with node_cpu_seconds_total\n";

	if (tag == APP_TAG_METRICS)
		http_respond(c, 200, TEXT, NULL, metrics_page, sizeof(metrics_page) - 1);
	else
		http_respond(c, 200, TEXT, NULL, app_page, sizeof(app_page) - 1);
}

enum http_handled app_handle(void *ctx, struct http_conn *c,
    const struct http_request *req, struct slice body)
{
	struct app *a = ctx;
	enum app_path p = app_path_of(req->path);
	int tag = http_conn_tag(c);

	(void)body;
	if (p == APP_PATH_OTHER || (tag == APP_TAG_METRICS && p != APP_PATH_METRICS &&
	    p != APP_PATH_ROOT)) {
		http_respond_error(c, 404, "not found");
		return HTTP_HANDLED_DONE;
	}
	if (!slice_eq(req->method, "GET") && !slice_eq(req->method, "HEAD")) {
		static const char msg[] = "{\"error\":\"method not allowed\"}\n";

		http_respond(c, 405, "application/json", ALLOW_GET, msg, sizeof(msg) - 1);
		return HTTP_HANDLED_DONE;
	}
	switch (p) {
	case APP_PATH_LOAD:
		return load(a, c, req);
	case APP_PATH_HEALTH:
		health(a, c);
		break;
	case APP_PATH_METRICS:
		metrics(a, c);
		break;
	default:
		root(c, tag);
	}
	return HTTP_HANDLED_DONE;
}
