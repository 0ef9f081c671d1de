/* common/http_server.h: an HTTP/1.1 server on one event loop: accepting,
 * keep-alive and pipelining, size limits (413/414/431), timeouts for idle,
 * slow and stuck clients, graceful draining and lingering close, and a
 * reserve of file descriptors that clients cannot take (a quarter of
 * RLIMIT_NOFILE, 32 to 256: past it new connections are closed). Several
 * servers (one per loop thread) may share listening sockets.
 * Not here: routing and what a response says (the handler's), parsing
 * (common/http_parse.h). All functions run on the server's loop thread
 * unless marked thread-safe. */
#ifndef POOLSCALE_HTTP_SERVER_H
#define POOLSCALE_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/http_parse.h"
#include "common/loop.h"

#define HTTP_SERVER_MAX_TAGS 4

struct http_server;
struct http_conn;

enum http_handled {
	HTTP_HANDLED_DONE = 0,	/* the handler called http_respond() */
	HTTP_HANDLED_PENDING,	/* it will, later, on this loop's thread */
};

/* req and body stay valid until http_respond() is called for them. */
typedef enum http_handled (*http_handler_fn)(void *ctx, struct http_conn *c,
    const struct http_request *req, struct slice body);
/* After each response is queued: req is NULL when the request was rejected
 * before it could be parsed. dur_ns counts from the complete request head. */
typedef void (*http_done_fn)(void *ctx, int tag, const struct http_request *req,
    int status, int64_t dur_ns);

struct http_server_cfg {
	size_t head_max_bytes;		/* request line + headers; beyond: 431 or 414 */
	size_t body_max_bytes;		/* beyond: 413 */
	size_t out_max_bytes;		/* a response must fit */
	int64_t read_timeout_ms;	/* a request must arrive whole within this of its first byte */
	int64_t idle_timeout_ms;	/* keep-alive wait for the next request */
	int64_t write_timeout_ms;	/* without write progress for this long, close */
	int64_t linger_ms;		/* lingering close: how long to drain a closing peer */
	unsigned max_requests_per_conn;	/* 0: no limit; then "Connection: close" */
	unsigned max_conns;		/* per server; beyond, new connections are closed */
	const char *server_header;
	http_handler_fn handler;
	http_done_fn done;		/* optional */
	void *ctx;
};

/* The defaults named in docs: 8 KiB head, 64 KiB body, 10 s read and write,
 * 60 s idle, 2 s linger, 100 requests per connection, 10000 connections. */
void http_server_cfg_defaults(struct http_server_cfg *cfg);

struct http_server *http_server_new(struct loop *l, const struct http_server_cfg *cfg,
    struct err *e);
/* Closes every connection. Call only when no handler holds one (none pending). */
void http_server_free(struct http_server *s);

/* Starts accepting on a listening socket (non-blocking; the caller owns it and
 * closes it after every server stopped using it; give it TCP_NODELAY, as
 * net_listen does, for the connections to inherit). tag < HTTP_SERVER_MAX_TAGS
 * tells the handler which listener a request came through. */
int http_server_listen(struct http_server *s, int fd, int tag, struct err *e);
/* Serves an already connected non-blocking socket as if accepted on a
 * listener of tag (its options are left as they are); the server owns fd
 * from then on (closes it when done).
 * -1 (fd untouched, still the caller's) when over max_conns or out of memory. */
int http_server_add_conn(struct http_server *s, int fd, int tag, struct err *e);
/* Stops accepting on tag's listeners; idle keep-alive connections of tag
 * close now, busy ones after their current response ("Connection: close"),
 * and ones that have not sent a request yet get the read timeout to send
 * one (closing those would reset a request already on its way). */
void http_server_drain(struct http_server *s, int tag);
/* Thread-safe: connections of tag still open. */
int http_server_open_conns(const struct http_server *s, int tag);

/* Queues the response to the current request of c. extra_headers is
 * preformatted ("Allow: GET\r\n") or NULL. A HEAD request gets no body.
 * 0, or -1 when the response exceeds out_max_bytes (c then gets a 500). */
int http_respond(struct http_conn *c, int status, const char *content_type,
    const char *extra_headers, const void *body, size_t len);
/* A JSON error body {"error": msg}; msg must need no JSON escaping. */
int http_respond_error(struct http_conn *c, int status, const char *msg);

int http_conn_tag(const struct http_conn *c);
struct loop *http_conn_loop(const struct http_conn *c);

#endif
