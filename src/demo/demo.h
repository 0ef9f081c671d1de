/* demo/demo.h: `poolscale demo`, the whole system on this machine: what the
 * demo's parts share. flags.c turns flags into a plan (ports, sizes, the
 * load profile), setup.c writes the configs and starts and stops the real
 * processes, run.c drives the load and samples the system once a second,
 * report.c turns the samples into the report folder.
 * Not here: any component's own logic (the demo only runs them). */
#ifndef POOLSCALE_DEMO_H
#define POOLSCALE_DEMO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "demo/child.h"
#include "load/engine.h"

enum demo_policy { DEMO_TARGET = 0, DEMO_STEP };

/* The load profile: quiet, a ramp to the peak, a hold, a drop, quiet. */
struct demo_phases {
	double quiet_s, ramp_s, hold_s, drop_s, tail_s;	/* tail: the nominal quiet end */
	double extra_s;		/* longest wait after the tail for the pool to reach min */
	double quiet_rps, peak_rps;
	double mid_s, mid_rps;	/* --step: a first step held this long before the peak */
};

struct demo_plan {
	enum demo_policy policy;
	bool short_run;
	bool step;		/* a step, not a ramp */
	char report_dir[PATH_MAX];
	char work_dir[PATH_MAX];
	char deploy_dir[PATH_MAX];
	char exe[PATH_MAX];
	char lb_listen[64];
	int prom_port, am_port, api_port, lb_metrics_port;
	char address_base[32];
	int min, max;
	double vcpu, work_ms;
	double capacity_rps;	/* one instance at 100% of its vCPU */
	int interval_s;
	struct demo_phases ph;
};

/* Backends followed one by one on the chart and in the CSV: the pool's
 * first addresses (address base + k), as many as a chart panel draws. */
#define DEMO_BACKENDS 8

/* One second of the run, as the terminal row and the CSV show it. */
struct demo_sample {
	double t_s;
	const char *phase;
	double offered_rps;	/* the schedule's rate */
	double ok_rps;
	unsigned long long errors;
	double p95_ms;		/* NaN when no answer that second */
	double row_p95_ms;	/* on a printed row: the p95 over the row's 5 s; else NaN */
	double cpu;		/* mean CPU of the pool, 0..1; NaN when unknown */
	int desired, ready;	/* -1 when unknown */
	int serving;		/* backends the lb has up; -1 when unknown */
	double forecast;	/* the forecaster's need, instances; NaN when none */
	/* requests the lb has sent to the backend at address base + k, since
	 * it started (a counter); NaN while the lb does not have it */
	double sent[DEMO_BACKENDS];
};

struct demo_run {
	const struct demo_plan *plan;
	struct demo_sample *s;
	size_t n, cap;
	struct load_result *load;	/* whole-run totals, once the load has ended */
	double rise_s, drop_s;	/* when the ramp started and the drop ended */
	int64_t start_unix_ms;	/* wall clock at t = 0, to place the events */
	char events_json_path[PATH_MAX + 32];
	bool interrupted;
	char failure[PATH_MAX + 128];	/* why the run was cut short, or "" */
};

/* 0 ok (and *plan filled), 1 for --help (printed), -1 with e set. */
int demo_plan_parse(int argc, char **argv, struct demo_plan *plan, struct err *e);
const char *demo_phase_at(const struct demo_phases *ph, double t);
double demo_profile_end(const struct demo_phases *ph);
/* "0:R,T:R,..." for load_rate_profile(). */
void demo_profile_spec(const struct demo_phases *ph, char *dst, size_t cap);

/* The processes, in start order. */
enum { DEMO_CONTROLLER = 0, DEMO_ALERTMANAGER, DEMO_PROMETHEUS, DEMO_LB, DEMO_NCHILD };

struct demo_procs {
	struct child c[DEMO_NCHILD];
	bool pool_made;		/* the controller ran: `pool destroy` at the end */
};

/* Checks every port is free, writes the configs, clears what an earlier
 * run left, starts everything and waits for it to be ready. -1 with e set
 * (what was started is still in procs: call demo_stop). */
int demo_start(const struct demo_plan *p, struct demo_procs *procs, struct err *e);
/* Saves the controller's events into the run, then stops everything by pid
 * and destroys the pool. Safe to call after a partial start. */
void demo_stop(const struct demo_plan *p, struct demo_procs *procs, struct demo_run *run);

/* The HTTP reads of one sample. Fields left unknown on failure. */
void demo_probe(const struct demo_plan *p, struct demo_sample *s);

/* Writes the report folder; prints the summary. Returns the exit code:
 * 0 when the pool scaled out and back in and no request failed. */
int demo_report(const struct demo_run *run, struct err *e);

int demo_main(int argc, char **argv);

#endif
