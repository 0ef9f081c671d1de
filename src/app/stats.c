/* What `poolscale app` counts, and its /metrics page. */
#include <stdio.h>

#include "app/app.h"
#include "common/clock.h"
#include "common/procstat.h"
#include "common/prom.h"

static const double dur_bounds[APP_DUR_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static const char *const path_label[APP_PATH_N] = {
	[APP_PATH_LOAD] = "/load",
	[APP_PATH_HEALTH] = "/health",
	[APP_PATH_METRICS] = "/metrics",
	[APP_PATH_ROOT] = "/",
	[APP_PATH_OTHER] = "other",
};

void app_stats_done(void *ctx, int tag, const struct http_request *req, int status,
    int64_t dur_ns)
{
	struct app_stats *s = &((struct app *)ctx)->stats;
	enum app_path p = req ? app_path_of(req->path) : APP_PATH_OTHER;
	double secs = (double)dur_ns / 1e9;
	size_t b = 0;

	(void)tag;
	if (status < 0 || status >= APP_STATUS_MAX)
		status = 0;
	atomic_fetch_add_explicit(&s->requests[p][status], 1, memory_order_relaxed);
	while (b < APP_DUR_BUCKETS && secs > dur_bounds[b])
		b++;
	atomic_fetch_add_explicit(&s->dur_buckets[p][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->dur_sum_ns[p], (uint64_t)dur_ns, memory_order_relaxed);
}

static void render_requests(const struct app_stats *s, struct buf *b)
{
	char labels[64];

	prom_header(b, "poolscale_app_http_requests_total", "counter",
	    "HTTP requests answered, by path and status code.");
	for (int p = 0; p < APP_PATH_N; p++) {
		for (int code = 0; code < APP_STATUS_MAX; code++) {
			uint64_t n = atomic_load_explicit(&s->requests[p][code],
			    memory_order_relaxed);

			if (n == 0 && !(code == 200 && p != APP_PATH_OTHER))
				continue;
			snprintf(labels, sizeof(labels), "path=\"%s\",code=\"%d\"",
			    path_label[p], code);
			prom_sample_u64(b, "poolscale_app_http_requests_total", labels, n);
		}
	}
	prom_header(b, "poolscale_app_http_request_duration_seconds", "histogram",
	    "Time from a complete request head to its response being queued.");
	for (int p = 0; p < APP_PATH_N; p++) {
		uint64_t counts[APP_DUR_BUCKETS + 1];

		for (int i = 0; i <= APP_DUR_BUCKETS; i++)
			counts[i] = atomic_load_explicit(&s->dur_buckets[p][i],
			    memory_order_relaxed);
		snprintf(labels, sizeof(labels), "path=\"%s\"", path_label[p]);
		prom_histogram(b, "poolscale_app_http_request_duration_seconds", labels,
		    dur_bounds, counts, APP_DUR_BUCKETS,
		    (double)atomic_load(&s->dur_sum_ns[p]) / 1e9);
	}
}

static void render_node_cpu(struct app *a, const struct procstat *ps, struct buf *b)
{
	static const char *const zero_modes[] = { "iowait", "irq", "nice", "softirq", "steal" };
	double elapsed = (double)(clock_mono_ms() - a->start_mono_ms) / 1000.0;
	struct nodecpu nc;
	char labels[64];

	pthread_mutex_lock(&a->nodecpu_mu);
	nodecpu_compute(a->cfg.vcpu, elapsed, ps->user_s, ps->system_s, &a->nodecpu, &nc);
	pthread_mutex_unlock(&a->nodecpu_mu);
	prom_header(b, "node_cpu_seconds_total", "counter",
	    "Seconds the CPUs spent in each mode.");
	for (int cpu = 0; cpu < nc.ncpu; cpu++) {
		snprintf(labels, sizeof(labels), "cpu=\"%d\",mode=\"idle\"", cpu);
		prom_sample(b, "node_cpu_seconds_total", labels, nc.idle_s);
		for (size_t m = 0; m < sizeof(zero_modes) / sizeof(zero_modes[0]); m++) {
			snprintf(labels, sizeof(labels), "cpu=\"%d\",mode=\"%s\"", cpu,
			    zero_modes[m]);
			prom_sample(b, "node_cpu_seconds_total", labels, 0);
		}
		snprintf(labels, sizeof(labels), "cpu=\"%d\",mode=\"system\"", cpu);
		prom_sample(b, "node_cpu_seconds_total", labels, nc.system_s);
		snprintf(labels, sizeof(labels), "cpu=\"%d\",mode=\"user\"", cpu);
		prom_sample(b, "node_cpu_seconds_total", labels, nc.user_s);
	}
}

void app_render_metrics(struct app *a, struct buf *b, bool node_cpu)
{
	const struct app_stats *s = &a->stats;
	bool draining = atomic_load(&a->draining), booting = app_is_booting(a);
	struct procstat ps;

	procstat_read(&ps);
	render_requests(s, b);
	prom_header(b, "poolscale_app_requests_received_total", "counter",
	    "/load requests received, counted on arrival: served, queued or refused.");
	prom_sample_u64(b, "poolscale_app_requests_received_total", NULL,
	    atomic_load(&s->received));
	prom_header(b, "poolscale_app_queue_length", "gauge",
	    "/load requests waiting for a worker (not yet running).");
	prom_sample(b, "poolscale_app_queue_length", NULL, (double)atomic_load(&s->queued));
	prom_header(b, "poolscale_app_requests_in_flight", "gauge",
	    "/load requests accepted and not yet answered (queued or running).");
	prom_sample(b, "poolscale_app_requests_in_flight", NULL,
	    (double)atomic_load(&s->in_flight));
	prom_header(b, "poolscale_app_load_cpu_seconds_total", "counter",
	    "CPU time burned for /load requests.");
	prom_sample(b, "poolscale_app_load_cpu_seconds_total", NULL,
	    (double)atomic_load(&s->load_cpu_ns) / 1e9);
	prom_header(b, "poolscale_app_overloaded_total", "counter",
	    "/load requests refused with 503 because the work queue was full.");
	prom_sample_u64(b, "poolscale_app_overloaded_total", NULL, atomic_load(&s->overloaded));
	prom_header(b, "poolscale_app_state", "gauge",
	    "1 for the state the app is in: booting, serving or draining.");
	prom_sample(b, "poolscale_app_state", "state=\"booting\"", !draining && booting);
	prom_sample(b, "poolscale_app_state", "state=\"serving\"", !draining && !booting);
	prom_sample(b, "poolscale_app_state", "state=\"draining\"", draining);
	prom_header(b, "poolscale_app_vcpu", "gauge",
	    "CPU allotment the app reports against (--vcpu).");
	prom_sample(b, "poolscale_app_vcpu", NULL, a->cfg.vcpu);
	prom_header(b, "poolscale_app_work_seconds", "gauge",
	    "CPU cost of one /load request (--work-ms).");
	prom_sample(b, "poolscale_app_work_seconds", NULL, a->cfg.work_ms / 1000.0);
	procstat_prom(b, &ps, a->start_unix_s);
	if (node_cpu)
		render_node_cpu(a, &ps, b);
}
