/* provider/exo_zone.h: Exoscale zone names, which become part of the API
 * host (https://api-ZONE.exoscale.com/v2), and the zone UUIDs of the v1 API
 * that the seeds' tools take (--exoscale-zone-id). Pure. Not here: the
 * endpoint URL's shape (endpoint.h). */
#ifndef POOLSCALE_PROVIDER_EXO_ZONE_H
#define POOLSCALE_PROVIDER_EXO_ZONE_H

#include <stddef.h>

#include "common/err.h"

#define EXO_ZONE_MAX 31		/* fits struct exo_cfg's zone */

/* 0 when zone is a DNS label (lower-case letters, digits, inner dashes) of
 * at most EXO_ZONE_MAX characters, like ch-gva-2; else -1 with the reason
 * (a zone UUID is told so, with its name when known). */
int exo_zone_check(const char *zone, struct err *e);
/* The zone name for a v1 zone UUID (any case), or NULL when unknown. */
const char *exo_zone_by_uuid(const char *uuid);
/* For --exoscale-zone-id: a known zone UUID or a zone name, copied as the
 * name into zone[cap]; -1 with the reason (an unknown UUID lists the zones
 * known). */
int exo_zone_from_id(const char *id, char *zone, size_t cap, struct err *e);

#endif
