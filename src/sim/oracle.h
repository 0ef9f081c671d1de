/* sim/oracle.h: the clairvoyant reference of `poolscale simulate --policy
 * oracle`. It knows the whole load in advance and plans the pool size over
 * time: at each instant the load needs n(t) = ceil(rate / (mu × util))
 * instances (util = rho_slo gives the SLO's demand, sim/latency.h), and
 * the plan is
 *     desired(t) = max of n(s) over s in [t, t + lead],
 * lead = the time a started instance takes to be ready (boot, then the
 * first health check). So each instance starts exactly one lead before
 * the load needs it, and stops as soon as it is no longer needed, unless
 * it is needed again within lead: stopping and restarting would then cost
 * more than keeping it. Nested instances (the k-th is only needed while
 * the (k-1)-th is) keep the pool's scale-in order right: whenever the plan
 * shrinks, nothing is booting. The least cost for no under-provisioning;
 * its cost–violation frontier comes from sweeping util. Pure.
 * Not here: running the plan through the pool (sim/sim.c). */
#ifndef POOLSCALE_SIM_ORACLE_H
#define POOLSCALE_SIM_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "load/rate.h"
#include "sim/latency.h"

/* A step function: desired[i] from at_ms[i] until at_ms[i + 1]. */
struct oracle_plan {
	int64_t *at_ms;
	int *desired;
	size_t n, cap;
};

/* Plans [0, end_ms) for load with instances of m->mu req/s filled to util
 * (0 < util), within [min, max]. A ramp of the load counts at its highest
 * rate per second. 0, or -1 when out of memory. Free with oracle_fini(). */
int oracle_plan(struct oracle_plan *p, const struct load_rate *load, const struct lat_model *m,
    double util, int min, int max, int64_t lead_ms, int64_t end_ms);
void oracle_fini(struct oracle_plan *p);
/* The plan's size at t (its first at t < 0, its last past the end). */
int oracle_at(const struct oracle_plan *p, int64_t t_ms);
/* The first change strictly after t, or INT64_MAX. */
int64_t oracle_next(const struct oracle_plan *p, int64_t t_ms);

#endif
