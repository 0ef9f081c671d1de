/* app/nodecpu.h: node_exporter-compatible CPU counters for the instance's
 * vCPU allotment, computed from the process's own CPU time. Pure.
 *
 * An instance with allotment X (0.25, 1, 2 ...) shows ceil(X) CPUs, each
 * with X / ceil(X) of a core. user and system are the process's own CPU
 * seconds split evenly over them; idle is the rest of the allotment since
 * start, never decreasing (when the process used more than its allotment,
 * idle stands still). So the seeds' query
 *   sum(rate(node_cpu_seconds_total{mode!="idle"}[1m])) /
 *   sum(rate(node_cpu_seconds_total[1m]))
 * gives the fraction of the allotment this instance uses, capped at 1. */
#ifndef POOLSCALE_APP_NODECPU_H
#define POOLSCALE_APP_NODECPU_H

#define NODECPU_MAX_CPUS 64

struct nodecpu_state {
	double idle_s;		/* total idle reported so far, all CPUs */
};

struct nodecpu {
	int ncpu;
	double user_s;		/* per CPU */
	double system_s;	/* per CPU */
	double idle_s;		/* per CPU */
};

void nodecpu_compute(double vcpu, double elapsed_s, double user_s, double system_s,
    struct nodecpu_state *st, struct nodecpu *out);

#endif
