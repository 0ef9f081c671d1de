/* provider/exoscale.h: an Exoscale instance pool through the API v2
 * (../shared/reference/exoscale-api-v2.md): the pool and its members with
 * their state and address, scale to an absolute size, evict the members the
 * controller chose, each mutating call followed to the end of its async
 * operation. Every request is signed (exo_sign.h) and goes through
 * cloudhttp.h (timeouts, retries). Not here: draining (the controller drains
 * before it evicts). */
#ifndef POOLSCALE_PROVIDER_EXOSCALE_H
#define POOLSCALE_PROVIDER_EXOSCALE_H

#include <stdint.h>

#include "provider/cloudhttp.h"
#include "provider/provider.h"

struct exo_cfg {
	char zone[32];			/* ch-gva-2 ... */
	char pool_id[40];
	char endpoint[256];		/* "" means https://api-{zone}.exoscale.com/v2 */
	char key_file[1024];		/* "": EXOSCALE_API_KEY, else EXOSCALE_KEY */
	char secret_file[1024];		/* "": EXOSCALE_API_SECRET, else EXOSCALE_SECRET */
	char address[8];		/* "public" (public-ip) or "ipv6" */
	int64_t operation_timeout_ms;	/* wait for a scale or evict to finish */
	int64_t operation_poll_ms;	/* longest pause between polls */
	struct cloud_http_cfg http;
};

void exo_cfg_default(struct exo_cfg *c);
/* Reads the credentials (files, then the environment); the provider keeps
 * its own copy of cfg. Errors name what is missing, never a secret. */
int prov_exoscale_new(const struct exo_cfg *cfg, struct provider *out, struct err *e);

#endif
