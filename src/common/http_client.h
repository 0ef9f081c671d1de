/* common/http_client.h: small HTTP/1.1 GETs on an event loop, for health
 * checks and metric reads of the pool's own members (plain HTTP, numeric
 * addresses, one request per connection). A client owns its requests:
 * freeing it cancels them, calling each back with HTTP_CLIENT_CANCELLED so
 * the owner can free its context (and must do nothing else).
 * Not here: cloud APIs and Prometheus (TLS, retries: libcurl). */
#ifndef POOLSCALE_HTTP_CLIENT_H
#define POOLSCALE_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/loop.h"
#include "common/net.h"

struct http_client;

#define HTTP_CLIENT_CANCELLED (-2)

/* status is the HTTP status, -1 with err set (connect refused, timeout,
 * malformed response), or HTTP_CLIENT_CANCELLED. body is valid during the
 * call only. */
typedef void (*http_client_cb)(void *ctx, int status, const char *body, size_t len,
    const char *err);

struct http_client *http_client_new(struct loop *l);
/* Cancels every request still running (see HTTP_CLIENT_CANCELLED). */
void http_client_free(struct http_client *c);
/* Starts GET path on addr; cb runs exactly once, later, on the loop (never
 * inside this call). 0, or -1 when out of memory or sockets. */
int http_client_get(struct http_client *c, const struct net_addr *addr, const char *path,
    int64_t timeout_ms, size_t max_bytes, http_client_cb cb, void *ctx);
/* Requests running. */
unsigned http_client_pending(const struct http_client *c);

#endif
