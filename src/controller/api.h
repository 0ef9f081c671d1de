/* controller/api.h: the controller's HTTP API on its event loop: the
 * pools (GET /api/v1/pools), each pool's status, size, events, history,
 * http_sd and webhooks under /api/v1/pools/NAME/ (and at the old
 * single-pool paths when there is one pool), metrics, health and
 * readiness, behind an optional bearer token, and the status page at /
 * (which holds no data, so it is served without the token). Bad input is
 * a 4xx with a JSON error and changes nothing. Not here: what a pool
 * does (controller/controller.h), the page's content
 * (controller/statuspage.c). */
#ifndef POOLSCALE_CONTROLLER_API_H
#define POOLSCALE_CONTROLLER_API_H

#include <jansson.h>

#include "common/http_server.h"
#include "common/promset.h"
#include "controller/controller.h"
#include "controller/fleet.h"

/* The handler for http_server; ctx is the struct fleet. */
enum http_handled ctl_api_handle(void *ctx, struct http_conn *conn,
    const struct http_request *req, struct slice body);
/* Request counters by status (http_server's done hook); ctx the fleet. */
void ctl_api_done(void *ctx, int tag, const struct http_request *req, int status,
    int64_t dur_ns);
/* With HA: answers the requests that waited for etcd to hold their change
 * (or 503 when leadership went first). Called when a write lands or
 * leadership ends. */
void ctl_api_durable(struct controller *c);
/* Answers every waiting request of every pool 503: before the server is
 * freed. */
void ctl_api_abort(struct fleet *f);
/* One pool's series for the /metrics page (controller/metrics.c). */
void ctl_metrics_render(struct controller *c, struct prom_set *s);
/* One pool's status document (controller/status_json.c). */
json_t *ctl_status_json(struct controller *c);

#endif
