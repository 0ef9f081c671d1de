/* common/prom.h: writing the Prometheus text exposition format (0.0.4)
 * into a buffer: HELP/TYPE lines, samples, histograms, label escaping.
 * Not here: what is measured (each component's stats module). */
#ifndef POOLSCALE_PROM_H
#define POOLSCALE_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* "# HELP name help\n# TYPE name type\n" */
void prom_header(struct buf *b, const char *name, const char *type, const char *help);
/* "name{labels} value\n"; labels preformatted (`path="/load",code="200"`)
 * or NULL. Values print as Go's strconv does for Prometheus: NaN, +Inf. */
void prom_sample(struct buf *b, const char *name, const char *labels, double v);
void prom_sample_u64(struct buf *b, const char *name, const char *labels, uint64_t v);
/* A histogram: n upper bounds, counts[n + 1] per bucket (not cumulative; the
 * last is +Inf), the sum. Writes _bucket, _sum and _count. labels may be NULL. */
void prom_histogram(struct buf *b, const char *name, const char *labels,
    const double *bounds, const uint64_t *counts, size_t n, double sum);
/* Appends v escaped for a label value (\\, \", \n) to dst[0..cap); returns dst. */
char *prom_escape(const char *v, char *dst, size_t cap);

#endif
