/* sim/report.h: what a simulated run leaves: the summary (text for the
 * terminal, a table when several policies ran on one load, JSON), the
 * time series as CSV, the decisions, and an SVG chart. Not here: running
 * (sim/sim.h). */
#ifndef POOLSCALE_SIM_REPORT_H
#define POOLSCALE_SIM_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "common/err.h"
#include "sim/config.h"
#include "sim/sim.h"

/* A measured pool-size curve to draw beside the simulated one (the
 * `desired` column of a demo's timeseries.csv). */
struct sim_measured {
	const char *label;
	double *t_s, *size;
	size_t n;
};

/* Reads the t_s and desired columns of a CSV with a header. 0, or -1 with
 * "FILE:LINE: message" in e. Free with sim_measured_fini(). */
int sim_measured_read(const char *path, struct sim_measured *m, struct err *e);
void sim_measured_fini(struct sim_measured *m);

/* A table, a line per result; elastic speedups against base (NULL: none). */
void sim_report_table(FILE *f, const struct sim_result *r, size_t n,
    const struct sim_result *base);
/* DIR/timeseries.csv, decisions.csv, chart.svg, summary.json (DIR is made
 * if needed). title names the load in the chart. */
int sim_report_write(const char *dir, const struct sim_cfg *cfg, const struct sim_result *r,
    const char *title, const struct sim_result *base, const struct sim_measured *measured,
    struct err *e);

#endif
