/* load/url.h: the one URL form the load generator takes,
 * http://HOST[:PORT]/PATH with a numeric host (or localhost), so nothing
 * blocks on DNS. Pure. Not here: TLS (not supported). */
#ifndef POOLSCALE_URL_H
#define POOLSCALE_URL_H

#include "common/err.h"
#include "common/net.h"

struct load_url {
	struct net_addr addr;
	char host[80];		/* the Host header: as written, with the port */
	char path[512];		/* path and query, "/" when none */
};

int load_url_parse(const char *s, struct load_url *u, struct err *e);

#endif
