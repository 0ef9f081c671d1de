/* The pools of one controller. */
#include "controller/fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/procstat.h"
#include "common/prom.h"
#include "common/promset.h"
#include "controller/api.h"

int fleet_init(struct fleet *f, struct ctl_pools *cfg, struct loop *l, double start_unix_s,
    struct err *e)
{
	memset(f, 0, sizeof(*f));
	f->cfg = cfg;
	f->token = cfg->n > 0 ? cfg->pool[0]->token : "";
	for (size_t i = 0; i < cfg->n; i++) {
		struct controller *c = calloc(1, sizeof(*c));

		if (c == NULL) {
			fleet_fini(f);
			return err_set(e, "out of memory");
		}
		f->pool[f->n++] = c;
		c->start_unix_s = start_unix_s;
		c->start_lenient = cfg->n > 1;
		if (ctl_init(c, cfg->pool[i], l, e) == -1) {
			char msg[sizeof(e->msg)];

			if (cfg->listed) {
				snprintf(msg, sizeof(msg), "%s", e->msg);
				err_set(e, "pool %s: %s", cfg->pool[i]->pool, msg);
			}
			fleet_fini(f);
			return -1;
		}
	}
	return 0;
}

void fleet_fini(struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		ctl_fini(f->pool[i]);
		free(f->pool[i]);
		f->pool[i] = NULL;
	}
	f->n = 0;
}

struct controller *fleet_find(const struct fleet *f, const char *name, size_t len)
{
	for (size_t i = 0; i < f->n; i++) {
		const char *p = f->pool[i]->cfg->pool;

		if (strlen(p) == len && memcmp(p, name, len) == 0)
			return f->pool[i];
	}
	return NULL;
}

struct controller *fleet_only(const struct fleet *f)
{
	return f->n == 1 ? f->pool[0] : NULL;
}

bool fleet_ready(const struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (!f->pool[i]->ready)
			return false;
	return true;
}

const char *fleet_names(const struct fleet *f, char *dst, size_t cap)
{
	size_t len = 0;

	dst[0] = '\0';
	for (size_t i = 0; i < f->n && len < cap; i++)
		len += (size_t)snprintf(dst + len, cap - len, "%s%s", i ? ", " : "",
		    f->pool[i]->cfg->pool);
	return dst;
}

void fleet_metrics(struct fleet *f, struct buf *b)
{
	struct prom_set *s = prom_set_new();
	struct procstat ps;
	char labels[160], name[140];

	if (s != NULL) {
		for (size_t i = 0; i < f->n; i++) {
			snprintf(labels, sizeof(labels), "pool=\"%s\"",
			    prom_escape(f->pool[i]->cfg->pool, name, sizeof(name)));
			prom_set_labels(s, labels);
			ctl_metrics_render(f->pool[i], s);
		}
		if (prom_set_write(s, b) == -1)
			buf_appends(b, "# poolscale: out of memory while rendering the pools\n");
		prom_set_free(s);
	}
	prom_header(b, "poolscale_api_requests_total", "counter",
	    "API requests answered, by status code.");
	for (int code = 0; code < 600; code++) {
		if (f->api_requests[code] == 0 && code != 200)
			continue;
		snprintf(labels, sizeof(labels), "code=\"%d\"", code);
		prom_sample_u64(b, "poolscale_api_requests_total", labels, f->api_requests[code]);
	}
	prom_header(b, "poolscale_webhooks_unrouted_total", "counter",
	    "Alertmanager webhooks refused because an alert named no pool of this controller.");
	prom_sample_u64(b, "poolscale_webhooks_unrouted_total", NULL, f->alerts_unrouted);
	procstat_read(&ps);
	procstat_prom(b, &ps, f->n > 0 ? f->pool[0]->start_unix_s : 0);
}
