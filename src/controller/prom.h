/* controller/prom.h: instant and range queries to Prometheus without
 * blocking the loop: a worker thread does the HTTP call (libcurl, with a
 * timeout) and the answer is parsed and handed back on the loop. One query
 * at a time per client. Not here: parsing (promql/query.h, range.h), what
 * the numbers mean (the policy). */
#ifndef POOLSCALE_CONTROLLER_PROM_H
#define POOLSCALE_CONTROLLER_PROM_H

#include <stdbool.h>
#include <stdint.h>

#include "common/loop.h"
#include "promql/query.h"
#include "promql/range.h"

struct prom_client;

/* On the loop. ok: res holds the answer (freed after the call). Otherwise
 * cause is a metric label (connect, timeout, http, bad_response,
 * query_error, cancelled) and msg says more. */
typedef void (*prom_done_fn)(void *ctx, bool ok, const struct prom_result *res,
    const char *cause, const char *msg);

/* The same for a range query; m holds the series (freed after the call). */
typedef void (*prom_range_fn)(void *ctx, bool ok, const struct prom_matrix *m,
    const char *cause, const char *msg);

struct prom_client *prom_client_new(struct loop *l, const char *base_url, int64_t timeout_ms,
    struct err *e);
/* Waits for a query in flight, and calls it back as cancelled. */
void prom_client_free(struct prom_client *p);
/* -1 when one is already running or out of memory. */
int prom_client_query(struct prom_client *p, const char *expr, prom_done_fn done, void *ctx);
/* GET /api/v1/query_range from start to end (unix s) at step s. Same rules. */
int prom_client_range(struct prom_client *p, const char *expr, int64_t start_unix_s,
    int64_t end_unix_s, int64_t step_s, prom_range_fn done, void *ctx);
bool prom_client_busy(const struct prom_client *p);

#endif
