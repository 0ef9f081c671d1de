/* provider/provider.h: the one interface between the controller and a pool
 * of machines: local processes, Exoscale, AWS, Linode, or the user's
 * commands. Sizes are absolute and calls idempotent, so a retried or
 * repeated call never scales twice; errors are returned, never fatal.
 * Calls may block (a cloud API, with its retries): the controller runs
 * them off its loop through provider/runner.h. Not here: health, when to
 * drain, choosing victims (the controller decides; the provider obeys). */
#ifndef POOLSCALE_PROVIDER_H
#define POOLSCALE_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct member {
	char id[40];
	char address[64];	/* IP address, no port */
	bool stopping;		/* removal requested, not gone yet */
	bool booting;		/* the provider says it is not running yet */
	int64_t created_unix_s;
};

struct member_list {
	struct member *v;
	size_t n, cap;
	/* Sizes the provider itself refuses to go outside of (an Auto Scaling
	 * group's MinSize and MaxSize), or -1: no bound of its own. */
	int min_size, max_size;
	int size;		/* the provider's own desired size (an Exoscale pool's
				 * size, an ASG's DesiredCapacity); -1: it keeps none */
};

void member_list_init(struct member_list *l);
void member_list_fini(struct member_list *l);
int member_list_add(struct member_list *l, const struct member *m);

struct provider_ops {
	const char *name;
	/* Every member the provider knows, stopping ones included, and its
	 * own bounds on the size when it has some. */
	int (*list)(void *impl, struct member_list *out, struct err *e);
	/* Makes the pool hold n members that are not stopping (grows only:
	 * the controller shrinks by removing the members it chose). A cloud
	 * whose rate limit says wait may make fewer and return 0: the
	 * controller asks again on its next reconcile. */
	int (*set_size)(void *impl, int n, struct err *e);
	/* Stops and deletes one member; unknown or already stopping is fine. */
	int (*remove)(void *impl, const char *id, struct err *e);
	/* The members the controller is draining: these and only these
	 * (absolute, so a repeated or lost call is harmless). A provider with
	 * a load balancer of its own (a Linode NodeBalancer) sends them no new
	 * connection from now on, and takes back the ones put in service
	 * again. May be NULL: the controller's own discovery files are all
	 * there is to tell. */
	int (*set_draining)(void *impl, const char *const *ids, size_t n, struct err *e);
	/* Stops every member and forgets the pool; may wait. NULL: the
	 * provider does not own its machines (clouds: tear down with the tool
	 * that made them). */
	int (*destroy)(void *impl, struct err *e);
	/* Thread-safe; may be NULL. Makes the call running return soon
	 * ("cancelled"), for shutdown. */
	void (*cancel)(void *impl);
	/* API calls made, retried and failed so far; may be NULL. */
	void (*api_stats)(void *impl, uint64_t *calls, uint64_t *retries, uint64_t *failures);
	void (*free)(void *impl);
};

struct provider {
	const struct provider_ops *ops;
	void *impl;
};

#endif
