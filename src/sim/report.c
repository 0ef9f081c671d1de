/* The simulator's outputs; see report.h. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/fileio.h"
#include "common/svgchart.h"
#include "sim/report.h"

#define CHART_POINTS 1500

void sim_report_table(FILE *f, const struct sim_result *r, size_t n,
    const struct sim_result *base)
{
	fprintf(f, "%-14s %8s %8s %9s %9s %7s %7s %7s %7s %7s %5s %5s %4s %6s %6s\n",
	    "policy", "slo_viol%", "failed%", "inst_h", "charged_h", "θU%", "θO%", "τU%", "τO%",
	    "υ%", "ups", "downs", "max", "ε4", "ε5");
	for (size_t i = 0; i < n; i++) {
		const struct sim_result *x = &r[i];
		const struct elasticity *m = &x->el;

		fprintf(f, "%-14s %8.3f %8.3f %9.2f %9.2f %7.2f %7.2f %7.2f %7.2f %7.2f %5u %5u "
		    "%4d", sim_policy_name(x->policy), sim_violation_pct(x),
		    x->arrivals > 0 ? 100 * x->failed / x->arrivals : 0, x->instance_s / 3600,
		    x->charged_s / 3600, m->theta_u, m->theta_o, m->tau_u, m->tau_o, m->upsilon,
		    x->ups, x->downs, x->max_supply);
		if (base)
			fprintf(f, " %6.3f %6.3f\n", elasticity_speedup4(&base->el, m),
			    elasticity_speedup5(&base->el, m));
		else
			fprintf(f, " %6s %6s\n", "-", "-");
	}
}

static int write_csv(const struct sim_result *r, const char *path, struct err *e)
{
	struct buf b;
	int rc;

	buf_init(&b, 1u << 30);
	buf_appends(&b, "t_s,offered_rps,demand,supply,ready,desired,cpu_util,p95_ms,"
	    "slo_violations_pct,ups,downs\n");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct sim_row *w = &r->rows[i];

		buf_appendf(&b, "%.3f,%.3f,%d,%d,%d,%d,", w->t_s, w->offered_rps, w->demand,
		    w->supply, w->ready, w->desired);
		if (isfinite(w->util))
			buf_appendf(&b, "%.4f", w->util);
		buf_appends(&b, ",");
		if (isfinite(w->p95_ms))
			buf_appendf(&b, "%.1f", w->p95_ms);
		buf_appendf(&b, ",%.3f,%u,%u\n", w->violations_pct, w->ups, w->downs);
	}
	rc = file_write_atomic(path, b.p, b.len, e);
	buf_fini(&b);
	return rc;
}

static int write_decisions(const struct sim_result *r, const char *path, struct err *e)
{
	struct buf b;
	int rc;

	buf_init(&b, 1u << 30);
	buf_appends(&b, "t_s,from,to,reason\n");
	for (size_t i = 0; i < r->ndec; i++) {
		const struct sim_decision *d = &r->dec[i];

		buf_appendf(&b, "%.3f,%d,%d,\"", d->t_s, d->from, d->to);
		for (const char *p = d->reason; *p; p++)
			buf_append(&b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
		buf_appends(&b, "\"\n");
	}
	rc = file_write_atomic(path, b.p, b.len, e);
	buf_fini(&b);
	return rc;
}

int sim_measured_read(const char *path, struct sim_measured *m, struct err *e)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int tcol = -1, dcol = -1;
	size_t cap = 0, lineno = 0;

	memset(m, 0, sizeof(*m));
	m->label = "measured";
	if (f == NULL)
		return err_set(e, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *tok;
		double t = NAN, v = NAN;
		int col = 0;

		lineno++;
		char *rest = line;

		line[strcspn(line, "\r\n")] = '\0';
		/* strsep keeps empty fields, so the columns stay in place */
		for (tok = strsep(&rest, ","); tok; tok = strsep(&rest, ","), col++) {
			if (lineno == 1) {
				if (strcmp(tok, "t_s") == 0)
					tcol = col;
				else if (strcmp(tok, "desired") == 0)
					dcol = col;
			} else if (col == tcol || col == dcol) {
				char *end;
				double x = strtod(tok, &end);

				if (end == tok || *end != '\0') {
					fclose(f);
					sim_measured_fini(m);
					return err_set(e, "%s:%zu: \"%s\" is not a number", path, lineno, tok);
				}
				*(col == tcol ? &t : &v) = x;
			}
		}
		if (lineno == 1 && (tcol < 0 || dcol < 0)) {
			fclose(f);
			return err_set(e, "%s:1: needs the columns t_s and desired", path);
		}
		if (lineno == 1 || isnan(t) || isnan(v) || v < 0)
			continue;	/* -1: the demo did not know the size that second */
		if (m->n == cap) {
			double *a, *b;

			cap = cap ? cap * 2 : 256;
			a = realloc(m->t_s, cap * sizeof(*a));
			if (a)
				m->t_s = a;
			b = realloc(m->size, cap * sizeof(*b));
			if (b)
				m->size = b;
			if (a == NULL || b == NULL) {
				fclose(f);
				sim_measured_fini(m);
				return err_set(e, "out of memory");
			}
		}
		m->t_s[m->n] = t;
		m->size[m->n++] = v;
	}
	fclose(f);
	if (m->n == 0)
		return err_set(e, "%s: no rows", path);
	return 0;
}

void sim_measured_fini(struct sim_measured *m)
{
	free(m->t_s);
	free(m->size);
	m->t_s = m->size = NULL;
	m->n = 0;
}

/* Rows folded into at most CHART_POINTS buckets: means for rates and CPU,
 * maxima for sizes and violations, so no peak is lost. */
static int write_chart(const struct sim_cfg *cfg, const struct sim_result *r, const char *title,
    const struct sim_measured *ms, const char *path, struct err *e)
{
	size_t k = (r->nrows + CHART_POINTS - 1) / CHART_POINTS, n = (r->nrows + k - 1) / k, mi = 0;
	double *col = calloc(n * 9 + 1, sizeof(double));
	double *x = col, *load = col + n, *dem = col + 2 * n, *sup = col + 3 * n,
	    *rdy = col + 4 * n, *cpu = col + 5 * n, *viol = col + 6 * n, *meas = col + 7 * n,
	    *want = col + 8 * n;
	double span = r->nrows ? r->rows[r->nrows - 1].t_s : 0, unit = 1;
	const char *xl = "seconds";
	char sub[320], head[200];
	struct buf b;
	int rc;

	if (col == NULL)
		return err_set(e, "out of memory");
	if (span > 2 * 86400) {
		unit = 86400;
		xl = "days";
	} else if (span > 3 * 3600) {
		unit = 3600;
		xl = "hours";
	} else if (span > 1800) {
		unit = 60;
		xl = "minutes";
	}
	for (size_t j = 0; j < n; j++) {
		size_t a = j * k, z = a + k < r->nrows ? a + k : r->nrows;
		double u = 0;
		int nu = 0;

		x[j] = r->rows[z - 1].t_s / unit;
		for (size_t i = a; i < z; i++) {
			const struct sim_row *w = &r->rows[i];

			load[j] += w->offered_rps / (double)(z - a);
			dem[j] = fmax(dem[j], w->demand);
			sup[j] = fmax(sup[j], w->supply);
			rdy[j] = fmax(rdy[j], w->ready);
			want[j] = w->desired;
			viol[j] = fmax(viol[j], w->violations_pct);
			if (isfinite(w->util)) {
				u += w->util;
				nu++;
			}
		}
		cpu[j] = nu ? 100 * u / nu : NAN;
		/* the measured size at this point: the last sample at or before it */
		while (ms && mi + 1 < ms->n && ms->t_s[mi + 1] <= r->rows[z - 1].t_s)
			mi++;
		meas[j] = ms && ms->t_s[mi] <= r->rows[z - 1].t_s ? ms->size[mi] : NAN;
	}
	const struct chart_panel panels[] = {
		{ .title = "offered load", .unit = "req/s", .nseries = 1, .series = {
			{ "offered", "#1f77b4", load, false, false } } },
		{ .title = "pool size", .unit = "instances", .ymax = cfg->ctl.max + 1,
		  .nseries = ms ? 4 : 3, .series = {
			{ "demand", "#2ca02c", dem, true, true },
			/* beside a measured desired size, the simulated one */
			ms ? (struct chart_series){ "desired", "#ff7f0e", want, true, false } :
			    (struct chart_series){ "supply", "#ff7f0e", sup, true, false },
			{ "ready", "#9467bd", rdy, true, true },
			{ ms ? ms->label : "", "#000", meas, true, false } } },
		{ .title = "mean CPU of the ready instances", .unit = "%", .ymax = 100,
		  .nseries = 1, .series = { { "cpu", "#d62728", cpu, false, false } } },
		{ .title = "requests over the SLO or failed", .unit = "%", .ymax = 100,
		  .nseries = 1, .series = { { "violations", "#8c564b", viol, false, false } } },
	};
	struct chart c = {
		.title = head, .subtitle = sub, .x_label = xl, .x = x, .n = n,
		.panels = panels, .npanels = 4,
	};

	snprintf(head, sizeof(head), "poolscale simulate: %s on %s",
	    sim_policy_name(r->policy), title);
	snprintf(sub, sizeof(sub), "pool %d..%d, %.4g req/s per instance, boot %.0f s, SLO p95 "
	    "%.0f ms: %.3f%% of requests over it, %.1f instance-hours, %u up / %u down",
	    cfg->ctl.min, cfg->ctl.max, cfg->capacity_rps, cfg->boot_ms / 1000.0,
	    cfg->slo_s * 1000, sim_violation_pct(r), r->instance_s / 3600, r->ups, r->downs);
	buf_init(&b, 64 << 20);
	rc = chart_svg(&c, &b) == 0 ? file_write_atomic(path, b.p, b.len, e) :
	    err_set(e, "chart too large");
	buf_fini(&b);
	free(col);
	return rc;
}

static int write_json(const struct sim_result *r, const struct sim_result *base,
    const char *title, const char *path, struct err *e)
{
	const struct elasticity *m = &r->el;
	json_t *j = json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:i, s:i,"
	    " s:{s:f, s:f, s:f, s:f, s:f, s:f, s:f}}",
	    "policy", sim_policy_name(r->policy), "load", title,
	    "requests", r->arrivals, "slo_violations_pct", sim_violation_pct(r),
	    "failed", r->failed, "instance_hours", r->instance_s / 3600,
	    "charged_hours", r->charged_s / 3600, "score_interval_s", r->score_s,
	    "ups", (json_int_t)r->ups, "downs", (json_int_t)r->downs,
	    "max_supply", r->max_supply, "intervals", (int)r->nrows,
	    "elasticity", "theta_u_pct", m->theta_u, "theta_o_pct", m->theta_o,
	    "tau_u_pct", m->tau_u, "tau_o_pct", m->tau_o, "upsilon_pct", m->upsilon,
	    "jitter_per_hour", m->jitter_per_s * 3600, "deviation", elasticity_deviation(m));
	int rc = 0;

	if (j == NULL)
		return err_set(e, "out of memory");
	if (base) {
		json_object_set_new(j, "baseline", json_string(sim_policy_name(base->policy)));
		json_object_set_new(j, "epsilon4", json_real(elasticity_speedup4(&base->el, m)));
		json_object_set_new(j, "epsilon5", json_real(elasticity_speedup5(&base->el, m)));
	}
	if (json_dump_file(j, path, JSON_INDENT(2)) == -1)
		rc = err_set(e, "%s: could not write", path);
	json_decref(j);
	return rc;
}

int sim_report_write(const char *dir, const struct sim_cfg *cfg, const struct sim_result *r,
    const char *title, const struct sim_result *base, const struct sim_measured *measured,
    struct err *e)
{
	char path[4096];

	if (file_mkdirs(dir, e) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/timeseries.csv", dir);
	if (write_csv(r, path, e) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/decisions.csv", dir);
	if (write_decisions(r, path, e) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/chart.svg", dir);
	if (r->nrows > 0 && write_chart(cfg, r, title, measured, path, e) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	return write_json(r, base, title, path, e);
}
