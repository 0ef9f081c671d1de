/* provider/endpoint.h: which API endpoint URLs a cloud provider accepts, so
 * a typo is a config or flag error at start instead of a request signed
 * over the wrong path (a "127.0.0.1:18507/v2" without scheme was sent as a
 * relative path and answered 403). Pure. Not here: building the default
 * endpoint (each provider), zone names (exo_zone.h). */
#ifndef POOLSCALE_PROVIDER_ENDPOINT_H
#define POOLSCALE_PROVIDER_ENDPOINT_H

#include "common/err.h"

/* 0 when url is http:// or https:// (any case), a host, an optional port
 * 1..65535 and an optional path, with no user info, query, fragment, space
 * or control character; else -1 with the reason in e (the URL quoted). */
int prov_endpoint_check(const char *url, struct err *e);
/* prov_endpoint_check, and the path must end in /v2 (trailing slashes
 * aside): poolscale speaks Exoscale's API v2 only, and the seeds' tools
 * default to the v1 endpoint, which gets a message of its own. */
int exo_endpoint_check(const char *url, struct err *e);

#endif
