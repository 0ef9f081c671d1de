/* common/promtext.h: reading the Prometheus text exposition format
 * (0.0.4): a metric name's syntax, and the sum of one family's samples in
 * a scraped page. Not here: writing it (prom.h), PromQL (the controller's
 * prom.c). */
#ifndef POOLSCALE_PROMTEXT_H
#define POOLSCALE_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* [a-zA-Z_:][a-zA-Z0-9_:]*, as the data model says. */
bool prom_name_ok(const char *name);

/* The sum of every sample of metric name in page[0..len), labelled or
 * not, into *sum; returns how many samples were added (0: none, *sum is
 * 0), or -1 when one of its lines is malformed. */
int prom_text_sum(const char *page, size_t len, const char *name, double *sum);

#endif
