/* sim/peers.h: the peers on a request-count metric, in the simulator: AWS
 * target tracking on ALBRequestCountPerTarget (aws-target-req), the HPA on
 * an External request-rate metric with an AverageValue target (hpa-ext),
 * and AWS predictive scaling with that target tracking (aws-predictive).
 * Owns their policy state and builds the observation each one's own system
 * would: the load balancer counts every request offered to the pool (served
 * or not), so these metrics do not saturate as CPU does. All three aim at
 * the same utilisation as the CPU trackers, policy.target.value, times the
 * capacity: per target and minute for AWS, per replica and second for the
 * HPA. docs/simulate.md gives the sources. Not here: the CPU peers
 * (sim/sim.c), the policies' decisions (policy/aws.h, policy/hpa.h,
 * policy/awspredict.h). */
#ifndef POOLSCALE_SIM_PEERS_H
#define POOLSCALE_SIM_PEERS_H

#include <stdbool.h>
#include <stdint.h>

#include "load/rate.h"
#include "policy/policy.h"
#include "sim/config.h"
#include "sim/pool.h"

struct sim_peer;

/* Whether p is one of these peers. */
bool sim_peer_is(enum sim_policy p);
/* NULL when out of memory. */
struct sim_peer *sim_peer_new(enum sim_policy p, const struct sim_cfg *c);
void sim_peer_free(struct sim_peer *pp);
/* How often it decides: one datapoint a minute (AWS), the sync (HPA). */
int64_t sim_peer_interval_ms(enum sim_policy p, const struct sim_cfg *c);

/* Requests offered in [from_ms, to_ms): the load, lead_rps before 0. */
double sim_offered(const struct load_rate *load, double lead_rps, int64_t from_ms,
    int64_t to_ms);

/* One decision at now; obs holds current, min and max. -1 when out of
 * memory. */
int sim_peer_decide(struct sim_peer *pp, const struct spool *pool, const struct load_rate *load,
    double lead_rps, struct policy_obs *obs, int64_t now_ms, struct policy_decision *d);

#endif
