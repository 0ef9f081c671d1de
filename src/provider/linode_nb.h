/* provider/linode_nb.h: one NodeBalancer config's nodes kept equal to the
 * pool: a node "PRIVATE_IP:PORT" for every running member, in mode drain
 * while the controller drains it, none for anything else. The config belongs to poolscale: a node added or removed
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

/* What a listed instance wants of its node. */
enum lin_node_want {
	LIN_NODE_ACCEPT,	/* running: a node, taking connections */
	LIN_NODE_DRAIN,		/* running, being drained: a node, no new connection */
	LIN_NODE_KEEP,		/* busy, migrating, rebooting...: its node, if it has
				 * one, stays as it is; none is added */
};

struct lin_nb_want {
	const char *addr;	/* private IPv4, no port */
	enum lin_node_want want;
};

/* Makes the nodes exactly those of v[0..n) on nb->port: a missing one is
 * added (accept, or drain), one on no address of v is deleted. poolscale
 * owns accept and drain: a drained member's node goes to drain and back to
 * accept when it is put in service again; reject or backup set by hand is
 * the operator's and kept (a draining member's backup node still drains). */
int lin_nb_reconcile(const struct lin_nb *nb, const struct lin_nb_want *v, size_t n,
    struct err *e);
/* Takes addr out: each node on it goes to mode drain (no new connections),
 * then is deleted. None there is fine. */
int lin_nb_take_out(const struct lin_nb *nb, const char *addr, struct err *e);

#endif
