/* lb/targets.h: the backend addresses of a Prometheus file_sd file (as the
 * controller writes it). Pure: parses text; the caller reads the file. */
#ifndef POOLSCALE_LB_TARGETS_H
#define POOLSCALE_LB_TARGETS_H

#include <stddef.h>

#include "common/err.h"

#define LB_ADDR_MAX 64

struct lb_targets {
	char (*addr)[LB_ADDR_MAX];	/* "127.0.1.1:8080", deduplicated */
	size_t n;
};

/* 0, or -1 with e when the text is not a file_sd list of numeric
 * ADDR:PORT targets (nothing is kept then). */
int lb_targets_parse(const char *text, size_t len, struct lb_targets *out, struct err *e);
void lb_targets_free(struct lb_targets *t);

#endif
