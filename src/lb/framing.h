/* lb/framing.h: where an HTTP/1.1 message body ends, found without
 * changing a byte, so the HTTP mode forwards bodies as they arrive through
 * fixed buffers: a Content-Length count, a chunked-coding scanner (sizes,
 * extensions, data, trailers), or "until the connection closes". Pure.
 * Not here: heads (common/http_parse.h, lb/hmsg.h), sockets. */
#ifndef POOLSCALE_LB_FRAMING_H
#define POOLSCALE_LB_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lb_body {
	LB_BODY_NONE = 0,	/* no body: GET without length, HEAD answers, 204, 304 */
	LB_BODY_LENGTH,		/* Content-Length bytes */
	LB_BODY_CHUNKED,	/* chunked transfer coding */
	LB_BODY_CLOSE,		/* a response delimited by the connection's end */
};

struct lb_framing {
	enum lb_body kind;
	bool done;		/* the body ended */
	int state;		/* chunked scanner */
	unsigned nhex;
	uint64_t left;		/* LENGTH: bytes to go; CHUNKED: of the chunk */
	uint64_t payload;	/* data bytes seen (chunk data, not the framing) */
	size_t trailer_bytes;
};

void lb_framing_init(struct lb_framing *f, enum lb_body kind, uint64_t length);
/* Scans buf[0..len), the next bytes of the stream: returns how many of
 * them belong to the body (the rest is the next message), or -1 when the
 * chunked coding is malformed (a chunk size over 15 hex digits included).
 * Sets f->done at the body's end; LB_BODY_CLOSE never ends here. */
long lb_framing_scan(struct lb_framing *f, const char *buf, size_t len);

#endif
