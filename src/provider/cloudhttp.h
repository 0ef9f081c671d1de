/* provider/cloudhttp.h: the one HTTP client every cloud provider calls
 * through (libcurl, blocking; the provider runner keeps it off the loop).
 * It owns what all clouds share: a timeout on every attempt, retries with
 * jittered exponential backoff on 429, 5xx and connection errors (and on
 * what the caller's retryable hook calls retryable, such as AWS's
 * throttling 400s), a fresh signature per attempt, a cap on response size,
 * and the counters behind poolscale_provider_api_{calls,retries,failures}_total.
 * Not here: signing (the caller's sign hook), what an error body means (the
 * caller's retryable hook). */
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
	char user_agent[128];		/* "": poolscale/VERSION */
};

void cloud_http_cfg_default(struct cloud_http_cfg *c);

struct cloud_http_stats {
	_Atomic uint64_t calls;		/* attempts sent */
	_Atomic uint64_t retries;	/* attempts that were retries */
	_Atomic uint64_t failures;	/* calls whose final answer was no success */
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
	/* Whether an error answer (status >= 400, its body) is worth retrying,
	 * for APIs that say "slow down" in the body: AWS throttles with a 400
	 * and a code. NULL: cloud_http_retryable(status). */
	bool (*retryable)(long status, const char *body, size_t len);
	/* Not idempotent (a create with no idempotency key): a request that
	 * got no answer is not sent again, since it may have been done; the
	 * caller finds out. Answers the retryable hook retries (a 429: not
	 * done) still are. */
	bool once_unanswered;
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
/* Fences this thread's requests: until called again with NULL, each
 * attempt asks fn(ctx, timeout_ms) once connected, right before sending,
 * and is not sent (no retry) when it says no. The provider runner sets it
 * around mutating calls (controller/ha.h: a controller that stopped
 * leading sends nothing more). */
void cloud_http_fence(bool (*fn)(void *ctx, int64_t margin_ms), void *ctx);
/* The counters, for provider_ops.api_stats. */
void cloud_http_read_stats(struct cloud_http *h, uint64_t *calls, uint64_t *retries,
    uint64_t *failures);

/* Sends r, retrying as above. Returns the final HTTP status (any, 4xx
 * included: the caller reads the error body in resp), or -1 with e set when
 * no answer came (connection, timeout, cancelled, too large). resp is reset
 * first. A final answer other than 2xx, or none, counts as a failure
 * (cancelling does not). */
long cloud_http_do(struct cloud_http *h, const struct cloud_req *r, struct buf *resp,
    struct err *e);

/* Whether a status is worth retrying (429, 5xx). */
bool cloud_http_retryable(long status);

/* The first line of an error body, printable ASCII only (others become
 * '?'), for a message; "(empty body)" when there is none. */
void cloud_body_line(const char *body, size_t len, char *dst, size_t cap);

/* Copies text into dst (cap bytes, NUL included) whole when it fits, else
 * as the whole sentences that fit, else as the words that fit and "...",
 * so a service's message is never cut mid-word into something that reads
 * like a different one. */
void cloud_fit_text(const char *text, char *dst, size_t cap);

/* Sets e to the printf-formatted prefix, then ": " and the service's
 * message fitted by cloud_fit_text into the room left (nothing when the
 * message is empty). Returns -1, as err_set. */
int cloud_err_message(struct err *e, const char *message, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reads a secret from a file: the first line, trimmed; never echoes it. */
int cloud_read_secret(const char *path, char *dst, size_t cap, struct err *e);

#endif
