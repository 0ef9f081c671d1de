/* controller/webhook.h: reading scale signals out of webhook bodies. Pure.
 * POST /up and /down take no body, a Grafana legacy payload (state
 * "alerting" counts, others do not), or a Grafana unified / Alertmanager
 * payload (a firing alert counts, resolved ones do not). POST
 * /api/v1/alerts takes an Alertmanager webhook (version 4): every firing
 * alert whose action label is "up" or "down" is a signal, counted for the
 * pool its WEBHOOK_POOL_LABEL names (a controller may run several). */
#ifndef POOLSCALE_WEBHOOK_H
#define POOLSCALE_WEBHOOK_H

#include <stddef.h>

enum webhook_source {
	WEBHOOK_PLAIN = 0,	/* no body */
	WEBHOOK_GRAFANA_LEGACY,
	WEBHOOK_GRAFANA_UNIFIED,
	WEBHOOK_ALERTMANAGER,
	WEBHOOK_NSOURCES,
};

const char *webhook_source_name(enum webhook_source s);

#define WEBHOOK_POOL_LABEL "poolscale_pool"
#define WEBHOOK_MAX_POOLS 16	/* distinct pools one body may name */

/* The signals of the alerts that name one pool ("" : no pool label). */
struct webhook_pool_signal {
	char pool[64];
	int up, down;
};

struct webhook_signal {
	enum webhook_source source;
	int up, down;		/* signals found (0 or more each), all pools */
	/* /api/v1/alerts only: the same, by the pool each alert names. */
	struct webhook_pool_signal by_pool[WEBHOOK_MAX_POOLS];
	size_t npools;
	char error[160];	/* why the body was rejected */
};

/* route: +1 for /up, -1 for /down, 0 for /api/v1/alerts. 0, or -1 with
 * out->error set when the body is malformed (the caller answers 400). */
int webhook_parse(const char *body, size_t len, int route, const char *action_label,
    struct webhook_signal *out);

#endif
