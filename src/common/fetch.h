/* common/fetch.h: one blocking HTTP request through libcurl, for commands
 * that talk to a server and wait (the CLI, the demo's sampler). Not here:
 * anything on an event loop (common/http_client.h) or retries. */
#ifndef POOLSCALE_FETCH_H
#define POOLSCALE_FETCH_H

#include <stdbool.h>

#include "common/buf.h"
#include "common/err.h"

struct fetch_req {
	const char *method;	/* NULL: GET */
	const char *url;
	const char *token;	/* bearer token, or NULL; never logged */
	const char *json_body;	/* sent as application/json, or NULL */
	long timeout_ms;
};

/* Appends the answer's body to out (up to out->max). 0 with *status the
 * HTTP status, or -1 with e saying why no answer came. */
int fetch(const struct fetch_req *r, long *status, struct buf *out, struct err *e);
/* true when a GET of url answered 200 within timeout_ms (the body is
 * dropped): for waiting until a server is ready. */
bool fetch_ok(const char *url, long timeout_ms);

#endif
