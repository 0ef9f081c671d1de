/* sim/sim.h: one simulated run: a load schedule through a policy under a
 * virtual clock (sim/evq.h), with the pool, metric pipeline and queueing
 * model of sim/pool.h, sim/alerts.h and sim/latency.h. The policies are
 * the very functions the controller calls (src/policy/), fed the
 * observation the controller would build. The result is a row per scoring
 * interval, the decisions, and the totals and elasticity metrics.
 * Not here: flags and files (sim/cmd.c, sim/report.h). */
#ifndef POOLSCALE_SIM_H
#define POOLSCALE_SIM_H

#include <stddef.h>

#include "common/err.h"
#include "load/rate.h"
#include "sim/config.h"
#include "sim/elasticity.h"
#include "sim/pool.h"

/* One scoring interval [t_s - score, t_s). */
struct sim_row {
	double t_s;		/* its end */
	double offered_rps;	/* mean offered rate */
	int demand;		/* instances needed at that rate (sim/latency.h) */
	int supply;		/* billed at its end: booting + ready + draining */
	int ready, desired;	/* at its end */
	double util;		/* mean CPU of the ready instances, 0..1 */
	double p95_ms;		/* the model's worst p95 estimate in it */
	double violations_pct;	/* its requests slower than the SLO or failed */
	unsigned ups, downs;	/* decisions that changed the desired size */
};

struct sim_decision {
	double t_s;
	int from, to;
	char reason[200];
};

struct sim_result {
	enum sim_policy policy;
	double score_s;
	struct sim_row *rows;
	size_t nrows, caprows;
	struct sim_decision *dec;
	size_t ndec, capdec;
	double arrivals, violations, failed;
	double instance_s;	/* accounted: ∫ supply dt */
	double charged_s;	/* per instance, rounded up to the billing unit */
	unsigned ups, downs;
	int max_supply;
	struct elasticity el;	/* supply vs demand on the rows */
};

/* Runs load (seconds from 0; duration_s: how long to run, 0 for the load's
 * span) through policy p. 0, or -1 with e set. Free out with
 * sim_result_fini() either way. */
int sim_run(const struct sim_cfg *cfg, enum sim_policy p, const struct load_rate *load,
    double duration_s, struct sim_result *out, struct err *e);
void sim_result_fini(struct sim_result *r);
/* What a target metric's query reads in the simulator: a query naming
 * requests_received (rate(poolscale_app_requests_received_total[W])) reads
 * the requests the load balancer sent each member, queued and refused
 * ones included; any other the CPU model. */
enum spool_metric sim_metric_of_query(const char *query);
/* SLO violations in % of the requests offered (0 when none). */
double sim_violation_pct(const struct sim_result *r);

#endif
