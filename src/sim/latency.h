/* sim/latency.h: the simulator's queueing model, which turns offered load
 * and ready instances into served requests, CPU use and SLO violations.
 * Pure. The model (docs/simulate.md says why):
 *  - the load balancer spreads the rate evenly over the n ready instances;
 *    each is an M/M/1 queue with service rate mu (req/s at 100% of its
 *    vCPU), so a request's time in it exceeds x with probability
 *    exp(-(mu - lambda_i) x) and p95 = ln 20 / (mu - lambda_i);
 *  - offered more than n·mu, the pool is overloaded: the excess queues as
 *    a fluid backlog served at n·mu, every request offered meanwhile counts
 *    as a violation (the M/M/1 limit as lambda_i reaches mu), and a backlog
 *    longer than `timeout` worth of service is dropped (failed requests);
 *  - while a backlog drains, a request's wait is backlog/(n·mu) on top of
 *    the M/M/1 time;
 *  - demand (the instances needed, for the elasticity metrics) is the
 *    smallest n whose p95 meets the SLO: n·mu·rho_slo >= rate, with
 *    rho_slo = 1 - ln 20 / (mu · slo).
 * Not here: which instances are ready (sim/sim.c). */
#ifndef POOLSCALE_SIM_LATENCY_H
#define POOLSCALE_SIM_LATENCY_H

struct lat_model {
	double mu;		/* req/s one instance serves at 100% */
	double slo_s;		/* latency bound of the SLO */
	double timeout_s;	/* a request waiting longer fails */
};

/* One instance's p95 when offered rps_i (below mu). */
double lat_p95_s(const struct lat_model *m, double rps_i);
/* The highest utilisation at which p95 stays within the SLO; <= 0 when
 * even an idle instance misses it. */
double lat_rho_slo(const struct lat_model *m);
/* Instances needed for rate rps (at least 1). */
int lat_demand(const struct lat_model *m, double rps);

struct lat_seg {
	double arrivals, served, violations, failed;
	double util;		/* mean busy fraction of each ready instance */
	double p95_s;		/* the worst p95 of the segment (estimate) */
};

/* Runs the pool for dt_s seconds at a constant offered rps with n ready
 * instances; *backlog (requests) carries over between calls. */
void lat_advance(const struct lat_model *m, double *backlog, double rps, int n, double dt_s,
    struct lat_seg *out);

#endif
