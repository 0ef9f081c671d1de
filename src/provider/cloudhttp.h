/* provider/cloudhttp.h: the one HTTP client every cloud provider calls
 * through (libcurl, blocking; the provider runner keeps it off the loop).
 * It owns what all clouds share: a timeout on every attempt, retries with
 * jittered exponential backoff on 429, 5xx and connection errors (never on
 * other 4xx), a fresh signature per attempt, a cap on response size, and the
 * counters behind poolscale_provider_api_calls_total and _retries_total.
 * Not here: signing (the caller's sign hook), what a response means. */
#ifndef POOLSCALE_PROVIDER_CLOUDHTTP_H
#define POOLSCALE_PROVIDER_CLOUDHTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

struct cloud_http_cfg {
	int64_t timeout_ms;		/* per attempt, connect included */
	int retries;			/* attempts after the first */
	int64_t backoff_ms;		/* first backoff cap; doubles per retry */
	int64_t backoff_max_ms;
};

void cloud_http_cfg_default(struct cloud_http_cfg *c);

struct cloud_http_stats {
	_Atomic uint64_t calls;		/* attempts sent */
	_Atomic uint64_t retries;	/* attempts that were retries */
	_Atomic uint64_t failures;	/* calls that failed after their retries */
};

struct cloud_header {
	char name[48];
	char value[4608];
};

#define CLOUD_MAX_HEADERS 8

/* A request to sign: the hook fills headers (Authorization, dates...). */
struct cloud_req {
	const char *method;
	const char *url;
	const char *body;		/* NULL: none */
	size_t body_len;
	const char *content_type;	/* NULL: none */
	int (*sign)(void *ctx, const struct cloud_req *r, struct cloud_header *h, size_t *nh,
	    struct err *e);
	void *sign_ctx;
};

struct cloud_http {
	struct cloud_http_cfg cfg;
	struct cloud_http_stats stats;
	atomic_bool cancelled;		/* stops sleeps and transfers: cloud_http_cancel() */
	unsigned seed;			/* backoff jitter */
};

void cloud_http_init(struct cloud_http *h, const struct cloud_http_cfg *cfg);
/* Thread-safe: the call running returns soon ("cancelled"), and so does
 * every later one. For shutdown. */
void cloud_http_cancel(struct cloud_http *h);
bool cloud_http_cancelled(struct cloud_http *h);
/* Sleeps ms, in slices, returning early once cancelled. */
void cloud_http_nap(struct cloud_http *h, int64_t ms);
/* The counters, for provider_ops.api_stats. */
void cloud_http_read_stats(struct cloud_http *h, uint64_t *calls, uint64_t *retries,
    uint64_t *failures);

/* Sends r, retrying as above. Returns the final HTTP status (any, 4xx
 * included: the caller reads the error body in resp), or -1 with e set when
 * no answer came (connection, timeout, cancelled, too large). resp is reset
 * first. */
long cloud_http_do(struct cloud_http *h, const struct cloud_req *r, struct buf *resp,
    struct err *e);

/* Whether a status is worth retrying (429, 5xx). */
bool cloud_http_retryable(long status);

/* The first line of an error body, printable ASCII only (others become
 * '?'), for a message; "(empty body)" when there is none. */
void cloud_body_line(const char *body, size_t len, char *dst, size_t cap);

/* Reads a secret from a file: the first line, trimmed; never echoes it. */
int cloud_read_secret(const char *path, char *dst, size_t cap, struct err *e);

#endif
