/* common/parse.h: pure parsers for the values users type in flags and
 * config: integers, decimals and durations, each range-checked. The error
 * names what was wrong; the caller adds which flag or key it was. */
#ifndef POOLSCALE_PARSE_H
#define POOLSCALE_PARSE_H

#include <stdint.h>

#include "common/err.h"

int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out, struct err *e);
int parse_double(const char *s, double min, double max, double *out, struct err *e);
/* "1.5" (seconds), "1.5s", "250ms", "2m", "1h"; result in ms, within [min, max]. */
int parse_duration_ms(const char *s, int64_t min_ms, int64_t max_ms, int64_t *out_ms,
    struct err *e);

#endif
