/* common/promset.h: one Prometheus text page from several sources (the
 * pools of one controller): every family's samples together under a
 * single HELP/TYPE, as the format requires, in the order families were
 * first declared; each source's samples carry its own labels first
 * (pool="web"). Not here: the format's details (common/prom.h). */
#ifndef POOLSCALE_PROMSET_H
#define POOLSCALE_PROMSET_H

#include <stdint.h>

#include "common/buf.h"

struct prom_set;

struct prom_set *prom_set_new(void);
void prom_set_free(struct prom_set *s);
/* Labels put first on every sample from now on (`pool="web"`; NULL or
 * "": none). Kept by copy. */
void prom_set_labels(struct prom_set *s, const char *labels);
/* Declares family name (once per page however often it is called) and
 * makes it the one the next samples belong to. */
void prom_set_header(struct prom_set *s, const char *name, const char *type, const char *help);
/* A sample of the current family (name may add _sum, _count ...). */
void prom_set_sample(struct prom_set *s, const char *name, const char *labels, double v);
void prom_set_sample_u64(struct prom_set *s, const char *name, const char *labels, uint64_t v);
/* Appends the page to out. 0, or -1 when memory ran out while it was
 * built (out then holds nothing of it). */
int prom_set_write(const struct prom_set *s, struct buf *out);

#endif
