/* lb/hmsg.h: the heads the HTTP mode sends on: a client's request head as
 * it goes to a backend and a backend's response head as it goes back, with
 * the hop-by-hop fields of RFC 9110 7.6.1 removed (Connection and the
 * fields it names, Keep-Alive, Proxy-Connection, TE, Upgrade; framing fields
 * are kept since bodies pass through unchanged), X-Forwarded-For and
 * X-Forwarded-Proto set; and the balancer's own small error responses.
 * Pure: heads in, bytes out.
 * Not here: parsing (common/http_parse.h), body framing (lb/framing.h). */
#ifndef POOLSCALE_LB_HMSG_H
#define POOLSCALE_LB_HMSG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/http_parse.h"

/* Whether a field named `name` is hop-by-hop in a message with these
 * headers: one of the fixed set, or named by a Connection header. Never
 * Content-Length, Transfer-Encoding or Host: naming those in Connection is
 * a way to change a message's framing behind a proxy. */
bool lb_hmsg_is_hop(struct slice name, const struct http_header *h, size_t n);

/* RFC 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE. */
bool lb_hmsg_idempotent(struct slice method);

/* Appends the request head for a backend to out: the request line as
 * HTTP/1.1, end-to-end headers, Host when the client sent none (HTTP/1.0),
 * X-Forwarded-For with client_ip appended to what the client sent, and
 * X-Forwarded-Proto: http in place of the client's. -1 when out is full. */
int lb_hmsg_request(const struct http_request *r, const char *client_ip,
    const char *host_fallback, struct buf *out);

/* Appends the response head for the client: the status line (head is the
 * raw head the response parser read), end-to-end headers (Content-Length
 * dropped when the body is chunked), and "Connection: close" when the
 * balancer closes the client's connection after it, "Connection:
 * keep-alive" for an HTTP/1.0 client it keeps. -1 when out is full. */
int lb_hmsg_response(const char *head, const struct http_response_head *r,
    bool close_client, bool client_http10, struct buf *out);

/* Whether a backend keeps its connection open after this response: an
 * HTTP/1.1 answer without "Connection: close". */
bool lb_hmsg_backend_keeps(const char *head, const struct http_response_head *r);

/* The balancer's own response: status line, text/plain body naming the
 * status, Connection: close. */
int lb_hmsg_error(int status, struct buf *out);

#endif
