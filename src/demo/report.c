/* The demo's report folder: timeseries.csv, chart.svg, events.txt (from the
 * controller's events), summary.txt and summary.json; and the verdict. For
 * the summary it also runs the simulator's oracle (sim/oracle.h) on the
 * run's own config and profile, once, after the run. */
#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fileio.h"
#include "common/svgchart.h"
#include "demo/demo.h"
#include "load/rate.h"
#include "sim/config.h"
#include "sim/sim.h"

struct verdict {
	int largest_desired, largest_ready;
	double row_p95_max_ms;	/* the largest 5 s row p95; NaN: no row had answers */
	double row_p95_max_at_s;
	double instance_s;	/* ∫ max(desired, ready) dt: what the pool cost */
	double scale_out_s, serving_s, back_to_min_s;	/* NaN: did not happen */
	bool scaled_out, scaled_in, no_failures;
};

static struct verdict judge(const struct demo_run *run)
{
	const struct demo_plan *p = run->plan;
	struct verdict v = { .scale_out_s = NAN, .serving_s = NAN, .back_to_min_s = NAN,
		.row_p95_max_ms = NAN, .row_p95_max_at_s = NAN };

	for (size_t i = 0; i < run->n; i++) {
		const struct demo_sample *s = &run->s[i];
		double dt = s->t_s - (i > 0 ? run->s[i - 1].t_s : 0);
		int size = s->desired > s->ready ? s->desired : s->ready;

		if (size > 0)
			v.instance_s += size * dt;
		if (isfinite(s->row_p95_ms) && !(s->row_p95_ms <= v.row_p95_max_ms)) {
			v.row_p95_max_ms = s->row_p95_ms;
			v.row_p95_max_at_s = s->t_s;
		}

		if (s->desired > v.largest_desired)
			v.largest_desired = s->desired;
		if (s->ready > v.largest_ready)
			v.largest_ready = s->ready;
		if (s->t_s >= run->rise_s && isnan(v.scale_out_s) && s->desired > p->min)
			v.scale_out_s = s->t_s - run->rise_s;
		if (s->t_s >= run->rise_s && isnan(v.serving_s) && s->serving > p->min)
			v.serving_s = s->t_s - run->rise_s;
		if (s->t_s >= run->drop_s && isnan(v.back_to_min_s) && v.largest_ready > p->min &&
		    s->desired == p->min && s->ready == p->min)
			v.back_to_min_s = s->t_s - run->drop_s;
	}
	v.scaled_out = v.largest_ready > p->min && !isnan(v.serving_s);
	v.scaled_in = !isnan(v.back_to_min_s);
	v.no_failures = run->load != NULL && run->load->failed == 0;
	return v;
}

/* The rate of sent[k] from sample i - 1 to i; NaN when either is unknown
 * or the counter went back (the backend left the lb and came again). */
static double sent_rps(const struct demo_run *run, size_t i, int k)
{
	const struct demo_sample *a, *b;

	if (i == 0 || i >= run->n || k < 0 || k >= DEMO_BACKENDS)
		return NAN;
	a = &run->s[i - 1];
	b = &run->s[i];
	if (!isfinite(a->sent[k]) || !isfinite(b->sent[k]) || b->sent[k] < a->sent[k] ||
	    b->t_s <= a->t_s)
		return NAN;
	return (b->sent[k] - a->sent[k]) / (b->t_s - a->t_s);
}

/* How many of the pool's first addresses the chart and the CSV follow. */
static int backends_followed(const struct demo_plan *p)
{
	return p->max < DEMO_BACKENDS ? p->max : DEMO_BACKENDS;
}

static int write_csv(const struct demo_run *run, const char *path, struct err *e)
{
	int nb = backends_followed(run->plan);
	struct buf b;
	int rc;

	buf_init(&b, 64 << 20);
	buf_appends(&b, "t_s,phase,offered_rps,ok_rps,errors_total,p95_ms,cpu_mean,desired,"
	    "ready,serving,row_p95_ms,forecast");
	for (int k = 0; k < nb; k++)
		buf_appendf(&b, ",sent_rps_%d", k + 1);
	buf_appends(&b, "\n");
	for (size_t i = 0; i < run->n; i++) {
		const struct demo_sample *s = &run->s[i];

		buf_appendf(&b, "%.1f,%s,%.2f,%.2f,%llu,", s->t_s, s->phase, s->offered_rps,
		    s->ok_rps, s->errors);
		if (isfinite(s->p95_ms))
			buf_appendf(&b, "%.2f", s->p95_ms);
		buf_appends(&b, ",");
		if (isfinite(s->cpu))
			buf_appendf(&b, "%.4f", s->cpu);
		buf_appendf(&b, ",%d,%d,%d,", s->desired, s->ready, s->serving);
		if (isfinite(s->row_p95_ms))
			buf_appendf(&b, "%.2f", s->row_p95_ms);
		buf_appends(&b, ",");
		if (isfinite(s->forecast))
			buf_appendf(&b, "%.3f", s->forecast);
		for (int k = 0; k < nb; k++) {
			double r = sent_rps(run, i, k);

			buf_appends(&b, ",");
			if (isfinite(r))
				buf_appendf(&b, "%.2f", r);
		}
		buf_appends(&b, "\n");
	}
	rc = file_write_atomic(path, b.p, b.len, e);
	buf_fini(&b);
	return rc;
}

static double unknown_as_nan(int v)
{
	return v < 0 ? NAN : v;
}

static int write_chart(const struct demo_run *run, const char *path, struct err *e)
{
	const struct demo_plan *p = run->plan;
	static const char *const colors[DEMO_BACKENDS] = { "#1f77b4", "#ff7f0e", "#2ca02c",
		"#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f" };
	size_t n = run->n;
	double *col = calloc(n * (9 + DEMO_BACKENDS) + 1, sizeof(double));
	double *x = col, *offered = col + n, *ok = col + 2 * n, *desired = col + 3 * n,
	    *ready = col + 4 * n, *cpu = col + 5 * n, *p95 = col + 6 * n, *target = col + 7 * n,
	    *forecast = col + 8 * n, *sent = col + 9 * n;
	char subtitle[256], labels[DEMO_BACKENDS][8];
	struct chart_panel per_backend = { .title = "requests sent to each backend",
		.unit = "req/s, by address" };
	struct in_addr base;
	struct buf b;
	int rc;

	if (col == NULL)
		return err_set(e, "out of memory");
	/* One line per backend that ever got a request; an address the pool
	 * never used would only be an empty legend entry. */
	inet_pton(AF_INET, p->address_base, &base);
	for (int k = 0; k < backends_followed(p); k++) {
		double *y = sent + (size_t)k * n;
		bool used = false;

		for (size_t i = 0; i < n; i++) {
			y[i] = sent_rps(run, i, k);
			used = used || (isfinite(y[i]) && y[i] > 0);
		}
		if (!used)
			continue;
		snprintf(labels[k], sizeof(labels[k]), ".%u",
		    (unsigned)((ntohl(base.s_addr) + (uint32_t)k) & 0xff));
		per_backend.series[per_backend.nseries++] = (struct chart_series){
			labels[k], colors[k], y, false, false };
	}
	for (size_t i = 0; i < n; i++) {
		const struct demo_sample *s = &run->s[i];

		x[i] = s->t_s;
		offered[i] = s->offered_rps;
		ok[i] = s->ok_rps;
		desired[i] = unknown_as_nan(s->desired);
		ready[i] = unknown_as_nan(s->ready);
		cpu[i] = s->cpu * 100;
		p95[i] = s->p95_ms;
		target[i] = p->policy == DEMO_TARGET ? 70 : 80;
		forecast[i] = s->forecast;
	}
	const struct chart_panel panels[] = {
		{ .title = "load", .unit = "req/s", .nseries = 2, .series = {
			{ "offered", "#1f77b4", offered, false, false },
			{ "answered ok", "#2ca02c", ok, false, true } } },
		{ .title = "pool size", .unit = "instances", .ymax = p->max + 1,
		  .nseries = p->policy == DEMO_TARGET ? 3 : 2, .series = {
			{ "desired", "#ff7f0e", desired, true, false },
			{ "ready", "#9467bd", ready, true, true },
			{ "forecast (instances a horizon ahead)", "#17becf", forecast, false,
			  true } } },
		{ .title = "mean CPU of the pool", .unit = "% of each vCPU", .ymax = 100,
		  .nseries = 2, .series = {
			{ "cpu", "#d62728", cpu, false, false },
			{ p->policy == DEMO_TARGET ? "target 70%" : "scale-out alert 80%", "#999",
			  target, false, true } } },
		{ .title = "p95 latency", .unit = "ms, from the scheduled send", .nseries = 1,
		  .series = { { "p95", "#8c564b", p95, false, false } } },
		per_backend,
	};
	const struct chart_mark marks[] = {
		{ p->ph.quiet_s, "ramp" },
		{ p->ph.quiet_s + p->ph.ramp_s, "hold" },
		{ run->drop_s - p->ph.drop_s, "drop" },
	};
	struct chart c = {
		.title = "poolscale demo: the pool follows the load",
		.subtitle = subtitle,
		.x_label = "seconds since the load started",
		.x = x, .n = n, .panels = panels, .npanels = 5, .marks = marks, .nmarks = 3,
	};

	snprintf(subtitle, sizeof(subtitle), "%s policy, pool %d..%d, %.2f vCPU and %.1f req/s "
	    "per instance, real Prometheus%s, poolscale lb and load",
	    p->policy == DEMO_TARGET ? "target tracking" : "step", p->min, p->max, p->vcpu,
	    p->capacity_rps, p->policy == DEMO_STEP ? " and Alertmanager" : "");
	buf_init(&b, 16 << 20);
	rc = chart_svg(&c, &b) == 0 ? file_write_atomic(path, b.p, b.len, e) :
	    err_set(e, "chart too large");
	buf_fini(&b);
	free(col);
	return rc;
}

/* events.json (the controller's API answer) as lines with demo times. */
static int write_events(const struct demo_run *run, const char *path, struct err *e)
{
	json_t *v, *ev;
	json_error_t je;
	struct buf b;
	size_t i;
	int rc;

	if (run->events_json_path[0] == '\0')
		return file_write_atomic(path, "(the controller's events could not be read)\n",
		    45, e);
	v = json_load_file(run->events_json_path, 0, &je);
	if (v == NULL)
		return err_set(e, "%s: %s", run->events_json_path, je.text);
	buf_init(&b, 16 << 20);
	buf_appends(&b, "# The controller's events (GET /api/v1/events); time in seconds since "
	    "the load started.\n");
	json_array_foreach(json_object_get(v, "events"), i, ev) {
		double t = json_number_value(json_object_get(ev, "time")) -
		    (double)run->start_unix_ms / 1000;

		buf_appendf(&b, "%8.1f  %-10s %s\n", t,
		    json_string_value(json_object_get(ev, "kind")) ?
		    json_string_value(json_object_get(ev, "kind")) : "?",
		    json_string_value(json_object_get(ev, "message")) ?
		    json_string_value(json_object_get(ev, "message")) : "");
	}
	json_decref(v);
	rc = file_write_atomic(path, b.p, b.len, e);
	buf_fini(&b);
	return rc;
}

/* What the clairvoyant oracle (sim/oracle.h) would have spent on the same
 * profile, in the same simulated world as `poolscale simulate --config
 * WORK/controller.yml` (its boot, capacity, target): the least cost of
 * holding the target with every instance started one boot ahead. NaN when
 * it cannot be worked out (the run's config is gone, say). */
static double oracle_instance_s(const struct demo_run *run)
{
	const struct demo_plan *p = run->plan;
	char path[PATH_MAX + 32], spec[512];
	struct sim_cfg cfg;
	struct sim_result res;
	struct load_rate rate;
	struct buf errs;
	struct err e;
	double end = run->n > 0 ? run->s[run->n - 1].t_s : 0, v = NAN;

	if (!(end > 0))
		return NAN;
	snprintf(path, sizeof(path), "%s/controller.yml", p->work_dir);
	demo_profile_spec(&p->ph, spec, sizeof(spec));
	buf_init(&errs, 1 << 16);
	if (sim_cfg_load(path, &cfg, &errs) == 0) {
		if (load_rate_profile(&rate, spec, 0, &e) == 0) {
			if (sim_run(&cfg, SIM_ORACLE, &rate, end, &res, &e) == 0)
				v = res.instance_s;
			sim_result_fini(&res);
			load_rate_fini(&rate);
		}
	}
	sim_cfg_fini(&cfg);
	buf_fini(&errs);
	return v;
}

static void seconds(struct buf *b, double s)
{
	if (isnan(s))
		buf_appends(b, "did not happen");
	else
		buf_appendf(b, "%.0f s", s);
}

static json_t *num_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

int demo_report(const struct demo_run *run, struct err *e)
{
	const struct demo_plan *p = run->plan;
	const struct load_result *l = run->load;
	struct verdict v = judge(run);
	double oracle_s = oracle_instance_s(run);
	char path[PATH_MAX + 32];
	struct buf b;
	json_t *j;
	int ok = v.scaled_out && v.scaled_in && v.no_failures && run->failure[0] == '\0';

	snprintf(path, sizeof(path), "%s/timeseries.csv", p->report_dir);
	if (write_csv(run, path, e) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/chart.svg", p->report_dir);
	if (write_chart(run, path, e) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/events.txt", p->report_dir);
	if (write_events(run, path, e) == -1)
		return -1;

	buf_init(&b, 1 << 20);
	buf_appendf(&b, "poolscale demo, %s policy, pool %d..%d, %.2f vCPU per instance "
	    "(%.1f req/s each at 100%% CPU)\n",
	    p->policy == DEMO_TARGET ? "target tracking" : "step", p->min, p->max, p->vcpu,
	    p->capacity_rps);
	buf_appendf(&b, "load: %.1f req/s, ramp to %.1f req/s from %.0f s to %.0f s, hold, "
	    "drop at %.0f s\n\n", p->ph.quiet_rps, p->ph.peak_rps, run->rise_s,
	    run->rise_s + p->ph.ramp_s, run->drop_s - p->ph.drop_s);
	buf_appendf(&b, "largest pool                      %d desired, %d ready\n",
	    v.largest_desired, v.largest_ready);
	buf_appends(&b, "load rise -> first scale-out      ");
	seconds(&b, v.scale_out_s);
	buf_appends(&b, "\nload rise -> first new instance serving  ");
	seconds(&b, v.serving_s);
	buf_appends(&b, "\nload drop -> back to min          ");
	seconds(&b, v.back_to_min_s);
	if (l != NULL) {
		buf_appendf(&b, "\nrequests                          sent %llu, ok %llu, failed %llu",
		    (unsigned long long)l->sent, (unsigned long long)l->ok,
		    (unsigned long long)l->failed);
		buf_appends(&b, " (");
		for (int k = 0; k < LOAD_ERR_N; k++)
			buf_appendf(&b, "%s%s %llu", k ? ", " : "", load_err_name(k),
			    (unsigned long long)l->err[k]);
		buf_appendf(&b, "), retried %llu\n", (unsigned long long)l->retried);
		buf_appendf(&b, "latency (ok, from the scheduled send)  p50 %.1f ms, p95 %.1f ms, "
		    "p99 %.1f ms, max %.1f ms\n", hist_quantile(&l->lat, 0.5) / 1000.0,
		    hist_quantile(&l->lat, 0.95) / 1000.0, hist_quantile(&l->lat, 0.99) / 1000.0,
		    l->lat.max_us / 1000.0);
		if (isfinite(v.row_p95_max_ms))
			buf_appendf(&b, "largest 5 s row p95               %.0f ms (the row at %.0f s)\n",
			    v.row_p95_max_ms, v.row_p95_max_at_s);
	} else {
		buf_appends(&b, "\nrequests                          the load did not complete\n");
	}
	buf_appendf(&b, "instance-seconds used             %.0f", v.instance_s);
	if (isfinite(oracle_s))
		buf_appendf(&b, " (the oracle: %.0f, %.2fx)", oracle_s,
		    oracle_s > 0 ? v.instance_s / oracle_s : NAN);
	buf_appends(&b, "\n");
	buf_appends(&b, "\n");
	if (run->interrupted)
		buf_appends(&b, "INTERRUPTED: stopped by a signal before the end\n");
	if (ok) {
		buf_appendf(&b, "PASS: the pool scaled out to %d, back in to %d, and no request "
		    "failed\n", v.largest_ready, p->min);
	} else {
		buf_appends(&b, "FAIL:");
		if (run->failure[0] != '\0')
			buf_appendf(&b, " %s;", run->failure);
		if (!v.scaled_out)
			buf_appends(&b, " the pool never scaled out (no new instance served);");
		if (!v.scaled_in)
			buf_appends(&b, " the pool did not come back to its minimum;");
		if (!v.no_failures)
			buf_appends(&b, " requests failed (see the errors above);");
		buf_appends(&b, "\n");
	}
	buf_appendf(&b, "\nreport: %s/ (summary.txt, summary.json, timeseries.csv, chart.svg, "
	    "events.txt, logs/)\n", p->report_dir);
	fwrite(b.p, 1, b.len, stdout);
	fflush(stdout);
	snprintf(path, sizeof(path), "%s/summary.txt", p->report_dir);
	if (file_write_atomic(path, b.p, b.len, e) == -1) {
		buf_fini(&b);
		return -1;
	}
	buf_fini(&b);

	j = json_pack("{s:s, s:i, s:i, s:f, s:f, s:i, s:i, s:o, s:o, s:o, s:b, s:b, s:b, s:b, "
	    "s:b}",
	    "policy", p->policy == DEMO_TARGET ? "target" : "step", "min", p->min, "max", p->max,
	    "vcpu", p->vcpu, "capacity_rps", p->capacity_rps,
	    "largest_desired", v.largest_desired, "largest_ready", v.largest_ready,
	    "rise_to_scale_out_s", num_or_null(v.scale_out_s),
	    "rise_to_serving_s", num_or_null(v.serving_s),
	    "drop_to_min_s", num_or_null(v.back_to_min_s),
	    "scaled_out", v.scaled_out, "scaled_in", v.scaled_in,
	    "no_failures", v.no_failures, "interrupted", run->interrupted, "pass", ok);
	{
		char spec[512];

		demo_profile_spec(&p->ph, spec, sizeof(spec));
		json_object_set_new(j, "profile", json_string(spec));
		json_object_set_new(j, "interval_s", json_integer(p->interval_s));
		json_object_set_new(j, "row_p95_max_ms", num_or_null(v.row_p95_max_ms));
		json_object_set_new(j, "instance_seconds", json_real(v.instance_s));
		json_object_set_new(j, "oracle_instance_seconds", num_or_null(oracle_s));
	}
	if (l != NULL) {
		json_t *errs = json_object();

		for (int k = 0; k < LOAD_ERR_N; k++)
			json_object_set_new(errs, load_err_name(k), json_integer((json_int_t)l->err[k]));
		json_object_set_new(j, "requests", json_pack("{s:I, s:I, s:I, s:I, s:o}",
		    "sent", (json_int_t)l->sent, "ok", (json_int_t)l->ok,
		    "failed", (json_int_t)l->failed, "retried", (json_int_t)l->retried,
		    "errors", errs));
	}
	snprintf(path, sizeof(path), "%s/summary.json", p->report_dir);
	if (json_dump_file(j, path, JSON_INDENT(2)) == -1) {
		json_decref(j);
		return err_set(e, "cannot write %s", path);
	}
	json_decref(j);
	return ok ? 0 : 1;
}
