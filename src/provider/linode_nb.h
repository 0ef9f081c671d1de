/* provider/linode_nb.h: one NodeBalancer config's nodes kept equal to the
 * pool: a node "PRIVATE_IP:PORT" for every running member, none for
 * anything else. The config belongs to poolscale: a node added or removed
 * by hand is corrected on the next reconcile. Idempotent: it lists before
 * it adds, and a node already gone counts as deleted. Not here: which
 * members run (linode.c). */
#ifndef POOLSCALE_PROVIDER_LINODE_NB_H
#define POOLSCALE_PROVIDER_LINODE_NB_H

#include <stddef.h>
#include <stdint.h>

#include "provider/linode_api.h"

struct lin_nb {
	struct lin_api *api;		/* borrowed */
	int64_t nb_id, config_id;
	int port;
};

/* Makes the nodes exactly addrs[0..n) (private IPv4 addresses, no port),
 * each on nb->port in mode accept when added; a node left in another mode
 * (drain, backup) by hand is kept as is. */
int lin_nb_reconcile(const struct lin_nb *nb, const char *const *addrs, size_t n,
    struct err *e);
/* Takes addr out: each node on it goes to mode drain (no new connections),
 * then is deleted. None there is fine. */
int lin_nb_take_out(const struct lin_nb *nb, const char *addr, struct err *e);

#endif
