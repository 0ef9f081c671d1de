/* promql/query.h: strict parsing of Prometheus's /api/v1/query answer
 * (vector, scalar and error envelopes). Pure. A malformed answer is an
 * error, never a value; NaN and ±Inf samples are kept as such (the caller
 * treats them as missing). Not here: HTTP (controller/prom.c). */
#ifndef POOLSCALE_PROMQL_QUERY_H
#define POOLSCALE_PROMQL_QUERY_H

#include <stddef.h>

#include "common/err.h"

struct prom_sample {
	char instance[128];	/* the "instance" label, "" when absent */
	double value;
};

struct prom_result {
	int is_scalar;
	double scalar;
	struct prom_sample *v;	/* vector samples (malloc'd) */
	size_t n;
};

/* status is the HTTP status of the answer. 0, or -1 with e saying why
 * (Prometheus's own errorType and error when it sent them). */
int prom_parse_query(const char *body, size_t len, int status, struct prom_result *out,
    struct err *e);
void prom_result_free(struct prom_result *r);
/* The envelope every answer shares (promql/range.c too): *root is the
 * parsed answer (a json_t *; json_decref() it) when it says success, with
 * *type its data.resultType and *result its data.result (a json_t *), both
 * inside root. -1 with Prometheus's own errorType and error when it sent
 * them, or the HTTP status, or why it is not JSON or lacks them. */
int prom_answer_open(const char *body, size_t len, int status, void **root, const char **type,
    void **result, struct err *e);
/* The host part of an "instance" label: "127.0.1.1:9100" -> "127.0.1.1",
 * "[::1]:9100" -> "::1". Writes dst; returns dst. */
char *prom_instance_host(const char *instance, char *dst, size_t cap);

#endif
