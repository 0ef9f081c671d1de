/* controller/fleet.h: the pools one controller runs, on one event loop
 * behind one API. Each pool is a struct controller of its own, with its
 * provider, policy, events and discovery files: a provider error or a
 * missing metric in one holds no other. Here: starting and stopping them,
 * finding one by name, the /metrics page of all, and API counters. Not
 * here: the routes (controller/api.h), one pool's loop
 * (controller/controller.h), the config (controller/config.h). */
#ifndef POOLSCALE_CONTROLLER_FLEET_H
#define POOLSCALE_CONTROLLER_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/loop.h"
#include "controller/config.h"
#include "controller/controller.h"

struct fleet {
	struct ctl_pools *cfg;		/* borrowed; outlives the fleet */
	struct controller *pool[CTL_MAX_POOLS];
	size_t n;
	const char *token;		/* the API's (shared by every pool) */
	uint64_t api_requests[600];	/* by status code */
	uint64_t alerts_unrouted;	/* Alertmanager bodies naming no pool of ours */
};

/* Starts every pool of cfg on l (locks their state dirs, loads their
 * state and members, starts their timers). With several pools one whose
 * provider cannot list at start starts anyway and keeps asking; with one,
 * that stops the start, loudly. 0, or -1 with e set (nothing left running). */
int fleet_init(struct fleet *f, struct ctl_pools *cfg, struct loop *l, double start_unix_s,
    struct err *e);
void fleet_fini(struct fleet *f);
/* The pool named name[0..len), or NULL. */
struct controller *fleet_find(const struct fleet *f, const char *name, size_t len);
/* The one pool, when there is exactly one (the API's old paths), or NULL. */
struct controller *fleet_only(const struct fleet *f);
/* Every pool did one reconcile. */
bool fleet_ready(const struct fleet *f);
/* "web, lb" into dst. */
const char *fleet_names(const struct fleet *f, char *dst, size_t cap);
/* The /metrics page: every pool's series with a pool label, then the
 * API's and the process's. */
void fleet_metrics(struct fleet *f, struct buf *b);

#endif
