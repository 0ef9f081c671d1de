/* controller/api.h: the controller's HTTP API on its event loop: status,
 * pool size, events, history, http_sd, metrics, health and readiness,
 * behind an optional bearer token, and the status page at / (which holds
 * no data, so it is served without the token). Bad input is a 4xx with a
 * JSON error and changes nothing. Not here: what the controller does
 * (controller/controller.h), the page's content (controller/statuspage.c). */
#ifndef POOLSCALE_CONTROLLER_API_H
#define POOLSCALE_CONTROLLER_API_H

#include "common/http_server.h"
#include "controller/controller.h"

/* The handler for http_server; ctx is the struct controller. */
enum http_handled ctl_api_handle(void *ctx, struct http_conn *conn,
    const struct http_request *req, struct slice body);
/* Request counters by route and status (http_server's done hook). */
void ctl_api_done(void *ctx, int tag, const struct http_request *req, int status,
    int64_t dur_ns);
/* With HA: answers the requests that waited for etcd to hold their change
 * (or 503 when leadership went first). Called when a write lands or
 * leadership ends. */
void ctl_api_durable(struct controller *c);
/* Answers every waiting request 503: before the server is freed. */
void ctl_api_abort(struct controller *c);
/* The controller's /metrics page. */
void ctl_metrics_render(struct controller *c, struct buf *b);

#endif
