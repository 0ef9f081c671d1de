/* promql/range.h: strict parsing of Prometheus's /api/v1/query_range answer
 * (a matrix: series of [time, "value"] pairs, or the error envelope). Pure.
 * A malformed answer is an error, never a value; NaN and ±Inf values are
 * kept (the caller skips them). Bounded: PROM_RANGE_MAX_POINTS over all
 * series. Not here: HTTP (controller/prom.c), the instant answer
 * (promql/query.h). */
#ifndef POOLSCALE_PROMQL_RANGE_H
#define POOLSCALE_PROMQL_RANGE_H

#include <stddef.h>

#include "common/err.h"

#define PROM_RANGE_MAX_POINTS 200000	/* 14 days at 1 min is 20160 a series */

struct prom_point {
	double t_s;		/* unix seconds */
	double value;
};

struct prom_series {
	char instance[128];	/* the "instance" label, "" when absent */
	struct prom_point *p;	/* oldest first, as Prometheus sends them */
	size_t n;
};

struct prom_matrix {
	struct prom_series *s;	/* malloc'd, each p too: prom_matrix_free() */
	size_t n;
};

/* status is the HTTP status of the answer. 0, or -1 with e saying why. */
int prom_parse_range(const char *body, size_t len, int status, struct prom_matrix *out,
    struct err *e);
void prom_matrix_free(struct prom_matrix *m);

#endif
