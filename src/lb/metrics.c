#include "lb/metrics.h"

#include <stddef.h>
#include <stdio.h>

#include "common/procstat.h"
#include "common/prom.h"

/* The HTTP mode's request metrics: the listener's, then per backend, each
 * family whole before the next, as the text format wants. */
enum { F_CLASSES, F_RETRIES, F_DURATION };

static void render_family(struct buf *b, int fam, const char *name, const char *lab,
    const struct lb_req_stats *st)
{
	static const char *const cls[6] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx" };
	uint64_t counts[LB_DURATION_BUCKETS + 1];
	char l2[192];

	switch (fam) {
	case F_CLASSES:
		for (int k = 0; k < 6; k++) {
			snprintf(l2, sizeof(l2), "%s%scode=\"%s\"", lab ? lab : "", lab ? "," : "",
			    cls[k]);
			prom_sample_u64(b, name, l2, atomic_load(&st->by_class[k]));
		}
		break;
	case F_RETRIES:
		prom_sample_u64(b, name, lab, atomic_load(&st->retries));
		break;
	case F_DURATION:
		for (size_t k = 0; k <= LB_DURATION_BUCKETS; k++)
			counts[k] = atomic_load(&st->duration[k]);
		prom_histogram(b, name, lab, lb_duration_bounds_s, counts, LB_DURATION_BUCKETS,
		    (double)atomic_load(&st->duration_sum_us) / 1e6);
		break;
	}
}

static void render_http(const struct lb_metrics_src *lc, struct buf *b)
{
	static const struct { const char *suffix, *type, *help; } fams[] = {
		{ "requests_total", "counter", "HTTP requests by the status class the client "
		  "got (none: the connection broke before a status)." },
		{ "request_retries_total", "counter", "Requests sent again to another backend "
		  "after a failure (never sent, or idempotent and reset before any response byte)." },
		{ "request_duration_seconds", "histogram", "Time from the request head to the "
		  "response's last byte." },
	};
	struct lb_pool *p = lc->pool;
	char name[128], lab[128];

	for (int f = 0; f < 3; f++) {
		snprintf(name, sizeof(name), "poolscale_lb_%s", fams[f].suffix);
		prom_header(b, name, fams[f].type, fams[f].help);
		render_family(b, f, name, NULL, &lc->counters->req);
		snprintf(name, sizeof(name), "poolscale_lb_backend_%s", fams[f].suffix);
		prom_header(b, name, fams[f].type, fams[f].help);
		for (size_t i = 0; i < p->n; i++) {
			snprintf(lab, sizeof(lab), "backend=\"%s\"", p->b[i]->name);
			render_family(b, f, name, lab, &p->b[i]->req);
		}
	}
	prom_header(b, "poolscale_lb_requests_in_flight", "gauge",
	    "HTTP requests received and not yet answered.");
	prom_sample(b, "poolscale_lb_requests_in_flight", NULL, atomic_load(&lc->counters->in_flight));
	prom_header(b, "poolscale_lb_requests_held", "gauge",
	    "HTTP requests waiting for a healthy backend (--hold-when-empty): demand at zero.");
	prom_sample(b, "poolscale_lb_requests_held", NULL, atomic_load(&lc->counters->held));
	prom_header(b, "poolscale_lb_requests_held_total", "counter",
	    "HTTP requests that had to wait for a healthy backend.");
	prom_sample_u64(b, "poolscale_lb_requests_held_total", NULL,
	    atomic_load(&lc->counters->held_total));
	prom_header(b, "poolscale_lb_backend_requests_in_flight", "gauge",
	    "HTTP requests sent to the backend and not yet answered.");
	for (size_t i = 0; i < p->n; i++) {
		snprintf(lab, sizeof(lab), "backend=\"%s\"", p->b[i]->name);
		prom_sample(b, "poolscale_lb_backend_requests_in_flight", lab,
		    atomic_load(&p->b[i]->active));
	}
}

void lb_metrics_render(const struct lb_metrics_src *lc, struct buf *b)
{
	struct lb_pool *p = lc->pool;
	struct procstat ps;
	char lab[128];

	prom_header(b, "poolscale_lb_connections_accepted_total", "counter",
	    "Client connections accepted.");
	prom_sample_u64(b, "poolscale_lb_connections_accepted_total", NULL,
	    atomic_load(&lc->counters->accepted));
	prom_header(b, "poolscale_lb_connections_refused_total", "counter",
	    "Client connections closed at once: no healthy backend or --max-conns.");
	prom_sample_u64(b, "poolscale_lb_connections_refused_total", NULL,
	    atomic_load(&lc->counters->refused));
	prom_header(b, "poolscale_lb_connections_failed_total", "counter",
	    "Connections that ended with an error after a backend was chosen.");
	prom_sample_u64(b, "poolscale_lb_connections_failed_total", NULL,
	    atomic_load(&lc->counters->failed));
	prom_header(b, "poolscale_lb_connections_open", "gauge", "Client connections open.");
	prom_sample(b, "poolscale_lb_connections_open", NULL, atomic_load(&lc->counters->open));
	pthread_mutex_lock(&p->mu);
	prom_header(b, "poolscale_lb_backend_up", "gauge",
	    "1 when the backend takes new connections (listed and healthy).");
	for (size_t i = 0; i < p->n; i++) {
		snprintf(lab, sizeof(lab), "backend=\"%s\"", p->b[i]->name);
		prom_sample(b, "poolscale_lb_backend_up", lab, lb_backend_eligible(p->b[i]));
	}
	prom_header(b, "poolscale_lb_backend_active_connections", "gauge",
	    "Connections open to the backend.");
	for (size_t i = 0; i < p->n; i++) {
		snprintf(lab, sizeof(lab), "backend=\"%s\"", p->b[i]->name);
		prom_sample(b, "poolscale_lb_backend_active_connections", lab,
		    atomic_load(&p->b[i]->active));
	}
	{
		static const struct { const char *name, *help; size_t off; } ctrs[] = {
			{ "poolscale_lb_backend_connections_total", "Connections sent to the backend "
			  "(http mode: requests sent, retries included).",
			  offsetof(struct lb_backend, total) },
			{ "poolscale_lb_backend_connections_opened_total", "HTTP mode: keep-alive "
			  "connections opened to the backend.", offsetof(struct lb_backend, conns_opened) },
			{ "poolscale_lb_backend_sent_bytes_total", "Bytes from clients to the backend.",
			  offsetof(struct lb_backend, bytes_in) },
			{ "poolscale_lb_backend_received_bytes_total", "Bytes from the backend to clients.",
			  offsetof(struct lb_backend, bytes_out) },
			{ "poolscale_lb_backend_connect_failures_total", "Failed connects to the backend.",
			  offsetof(struct lb_backend, connect_failures) },
			{ "poolscale_lb_backend_health_transitions_total", "Health state changes.",
			  offsetof(struct lb_backend, transitions) },
		};

		for (size_t k = 0; k < sizeof(ctrs) / sizeof(ctrs[0]); k++) {
			prom_header(b, ctrs[k].name, "counter", ctrs[k].help);
			for (size_t i = 0; i < p->n; i++) {
				atomic_uint_fast64_t *v = (atomic_uint_fast64_t *)
				    ((char *)p->b[i] + ctrs[k].off);

				snprintf(lab, sizeof(lab), "backend=\"%s\"", p->b[i]->name);
				prom_sample_u64(b, ctrs[k].name, lab, atomic_load(v));
			}
		}
	}
	if (lc->http)
		render_http(lc, b);
	pthread_mutex_unlock(&p->mu);
	procstat_read(&ps);
	procstat_prom(b, &ps, lc->start_unix_s);
}

