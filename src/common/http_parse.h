/* common/http_parse.h: pure HTTP/1.x request parsing over a caller's buffer,
 * in the manner of picohttpparser: nothing is allocated, every string is a
 * slice into the buffer, and a call answers "done, N bytes", "need more" or
 * "bad input, answer with this status". Also the chunked body decoder.
 * Not here: sockets, timeouts, responses (common/http_server.h). */
#ifndef POOLSCALE_HTTP_PARSE_H
#define POOLSCALE_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/slice.h"

#define HTTP_MAX_HEADERS 64

enum {
	HTTP_PARSE_BAD = -1,	/* malformed; *status says what to answer */
	HTTP_PARSE_MORE = -2,	/* valid so far, incomplete */
};

struct http_header {
	struct slice name;
	struct slice value;
};

struct http_request {
	struct slice method;
	struct slice target;	/* as sent */
	struct slice path;	/* target without query; "/" for absolute-form without one */
	struct slice query;	/* after '?', empty when none */
	int minor_version;	/* HTTP/1.0 or HTTP/1.1 */
	size_t nheaders;
	struct http_header headers[HTTP_MAX_HEADERS];
	int64_t content_length;	/* -1 when absent */
	bool chunked;
	bool keep_alive;	/* what the client asked for, by version and Connection */
	bool expect_continue;
	size_t head_len;	/* bytes of the request line and headers */
};

/* Offset just past the blank line that ends a head in buf[0..len), or 0 when
 * there is none yet. *scanned (start at 0) remembers how far it looked, so a
 * head arriving a byte at a time costs O(n) overall. */
size_t http_find_head_end(const char *buf, size_t len, size_t *scanned);

/* Parses the head at the start of buf[0..len). Returns head_len (> 0),
 * HTTP_PARSE_MORE while incomplete and under max_head bytes, or
 * HTTP_PARSE_BAD with *status 400, 414, 431, 501 or 505. */
int http_parse_request(const char *buf, size_t len, size_t max_head,
    struct http_request *req, int *status);

/* The first header named name (case-insensitive), or NULL. */
const struct http_header *http_header_find(const struct http_request *req, const char *name);

/* Value of `name` in a query string ("a=1&b=2"); true and *out when present.
 * No percent-decoding: callers use it for plain numbers and words. */
bool http_query_param(struct slice query, const char *name, struct slice *out);

/* Chunked transfer coding, decoded in place as bytes arrive. */
struct http_chunked {
	int state;
	uint64_t size;		/* of the chunk being read */
	unsigned nhex;
	size_t in_pos;		/* bytes of the region consumed */
	size_t out_len;		/* decoded bytes, at the region's start */
	size_t trailer_bytes;
};

enum {
	HTTP_CHUNKED_TOO_BIG = -3,	/* decoded body would exceed max_body */
};

/* buf[0..len) is the body region received so far; call again with the same
 * d and a longer len as bytes arrive. Returns the bytes of buf the body took
 * (>= 0, the decoded body is buf[0..d->out_len)), HTTP_PARSE_MORE,
 * HTTP_PARSE_BAD or HTTP_CHUNKED_TOO_BIG. */
int64_t http_chunked_decode(struct http_chunked *d, char *buf, size_t len, size_t max_body);

struct http_response_head {
	int status;
	int64_t content_length;	/* -1 when absent */
	bool chunked;
	size_t head_len;
	size_t nheaders;
	struct http_header headers[HTTP_MAX_HEADERS];
};

/* Parses a response head at the start of buf[0..len): head_len (> 0),
 * HTTP_PARSE_MORE, or HTTP_PARSE_BAD. */
int http_parse_response(const char *buf, size_t len, size_t max_head,
    struct http_response_head *resp);

/* "OK", "Not Found", ...; "Unknown" for codes it does not know. */
const char *http_status_text(int status);

#endif
