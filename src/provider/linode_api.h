/* provider/linode_api.h: one Linode API v4 call: the bearer token, the
 * X-Filter header, which answers are worth a retry (429 with its
 * Retry-After, 5xx, "Linode busy."), and the error message a failed call
 * leaves (the API's reasons; a hint on 401/403; never the token), and the
 * paginated instance list. Retries, timeouts and counters are
 * cloudhttp.h's. Not here: what to call. */
#ifndef POOLSCALE_PROVIDER_LINODE_API_H
#define POOLSCALE_PROVIDER_LINODE_API_H

#include <stdbool.h>

#include "common/buf.h"
#include "provider/cloudhttp.h"
#include "provider/linode_json.h"

#define LIN_PAGE_SIZE 500	/* the API's largest: most pools fit one page */
#define LIN_LIST_TRIES 4	/* readings of a list; one of several pages takes two */

struct lin_api {
	char base[300];			/* endpoint, no trailing slash */
	char token[256];
	struct cloud_http http;
};

struct lin_call {
	const char *method;
	const char *path;		/* after the base: "/linode/instances" */
	const char *query;		/* NULL: none */
	const char *filter;		/* X-Filter JSON; NULL: none */
	const char *body;		/* JSON; NULL: none */
	bool create;			/* a POST that must not be repeated blindly */
};

/* Sends c. The final HTTP status (the body in resp), or -1 with e set when
 * no answer came. A create is retried on 429 only. */
long lin_api_do(struct lin_api *a, const struct lin_call *c, struct buf *resp,
    struct err *e);
/* lin_api_do, 0 on a 2xx; else -1 with e saying which call failed and why. */
int lin_api_call(struct lin_api *a, const struct lin_call *c, struct buf *resp,
    struct err *e);
/* Sets e for a failed answer of c (status, body in resp). Returns -1. */
int lin_api_error(const struct lin_call *c, long status, const struct buf *resp,
    struct err *e);

/* Every instance whose KEY is VALUE (X-Filter {"KEY": "VALUE"}), all
 * pages in id order, into out (the caller finis it). Pages that disagree
 * (an instance went between two of them) are read again, and a list of
 * several pages is read twice (linode_api.c says why), up to
 * LIN_LIST_TRIES readings, then it fails. value must need no JSON escape
 * (checked labels and tags). */
int lin_list_instances(struct lin_api *a, const char *key, const char *value,
    struct lin_instances *out, struct err *e);

#endif
