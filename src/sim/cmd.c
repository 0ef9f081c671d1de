/* `poolscale simulate`; see cmd.h. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/opts.h"
#include "common/parse.h"
#include "load/rate.h"
#include "load/trace.h"
#include "sim/calibrate.h"
#include "sim/cmd.h"
#include "sim/config.h"
#include "sim/latency.h"
#include "sim/report.h"
#include "sim/sim.h"
#include "sim/smooth.h"

/* The longest simulation, --duration or a trace played with --time-scale. */
#define SIM_SPAN_MAX_MS (3660LL * 86400000)

static void usage(FILE *f)
{
	fputs(
"Usage: poolscale simulate [--config FILE] (--trace FILE.csv | --profile SPEC)\n"
"                          [--policy NAME[,NAME...]] [--out DIR] [OPTIONS]\n"
"       poolscale simulate calibrate [OPTIONS]   (see --help there)\n"
"\n"
"Replays a load through the policy code the controller runs, under a\n"
"virtual clock, with a model of the pool (capacity, boot, drain), of the\n"
"metric pipeline (scrapes, rate() window, alert rules, Alertmanager) and of\n"
"latency (M/M/1 per instance, overload queues). Prints, per policy, the SLO\n"
"violations, the instance-hours and the SPEC RG elasticity metrics\n"
"(docs/simulate.md). Weeks of trace take well under a second.\n"
"\n"
"  --config FILE          the controller's config: min, max, interval, policy,\n"
"                         and its `simulate:` section (capacity, boot, pipeline,\n"
"                         SLO...); without it, every default\n"
"  --trace FILE.csv       a `t_seconds,requests` trace (../shared/traces)\n"
"  --time-scale K         play the trace K times faster (default 1)\n"
"  --rate-scale X         multiply its rate by X (default 1)\n"
"  --fit-peak[=N]         scale the trace's rate so its busiest row needs\n"
"                         exactly N (default `max`) instances at the SLO\n"
"                         (instead of --rate-scale)\n"
"  --smooth auto|off|W    read the counts as a rate: a centred mean over W\n"
"                         rows before scaling; auto (default) picks W from\n"
"                         the rate scale and the trace's noise (docs/simulate.md)\n"
"  --profile T:R,...      a load profile as `poolscale load` takes it\n"
"  --duration DURATION    how long to simulate (default: the load's span)\n"
"  --policy LIST          target, step, seed-step; the peers aws-target,\n"
"                         aws-target-req, hpa, hpa-ext, aws-predictive; the\n"
"                         references fixed (simulate.fixed instances) and\n"
"                         oracle (knows the load, starts one boot ahead);\n"
"                         or `all`; comma-separated to compare (default: the\n"
"                         config's policy.kind); elastic speedups ε4/ε5 are\n"
"                         against seed-step when it ran\n"
"  --out DIR              write timeseries.csv, decisions.csv, chart.svg and\n"
"                         summary.json there (DIR/POLICY/ for several)\n"
"  --compare FILE.csv     draw a measured pool size (the t_s and desired\n"
"                         columns, e.g. a demo report's timeseries.csv) on\n"
"                         the chart beside the simulated one\n"
"  -q, --quiet            only the table\n"
"  -h, --help             this text\n"
"\n"
"Exit status: 0 done, 1 failed, 2 bad flags, config or trace.\n", f);
}

enum {
	OPT_CONFIG = 256, OPT_TRACE, OPT_TIME_SCALE, OPT_RATE_SCALE, OPT_FIT_PEAK, OPT_PROFILE,
	OPT_DURATION, OPT_POLICY, OPT_OUT, OPT_COMPARE, OPT_SMOOTH,
};

static const struct option options[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "time-scale", required_argument, NULL, OPT_TIME_SCALE },
	{ "rate-scale", required_argument, NULL, OPT_RATE_SCALE },
	{ "fit-peak", optional_argument, NULL, OPT_FIT_PEAK },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "compare", required_argument, NULL, OPT_COMPARE },
	{ "smooth", required_argument, NULL, OPT_SMOOTH },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct sim_opts {
	const char *config, *trace, *profile, *policies, *out, *compare;
	double time_scale, rate_scale;
	bool fit_peak, quiet;
	int64_t fit_n;		/* --fit-peak=N: instances the busiest row needs (0: max) */
	int64_t duration_ms;
	int64_t smooth;		/* rows; 0: auto, 1: off */
	size_t smoothed;	/* the window used */
	enum sim_policy pol[SIM_NPOLICIES];
	int npol;
};

static int parse_flags(int argc, char **argv, struct sim_opts *o, struct err *e)
{
	struct err pe = { "" };
	int opt, rc = 0;

	memset(o, 0, sizeof(*o));
	o->time_scale = 1;
	o->rate_scale = 1;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hq", options, NULL)) != -1) {
		const char *v = optarg;

		switch (opt) {
		case 'h':
			return 1;
		case 'q':
			o->quiet = true;
			break;
		case OPT_CONFIG:
			o->config = v;
			break;
		case OPT_TRACE:
			o->trace = v;
			break;
		case OPT_PROFILE:
			o->profile = v;
			break;
		case OPT_TIME_SCALE:
			rc = parse_double(v, 1e-6, 1e9, &o->time_scale, &pe);
			break;
		case OPT_RATE_SCALE:
			rc = parse_double(v, 1e-9, 1e9, &o->rate_scale, &pe);
			break;
		case OPT_FIT_PEAK:
			o->fit_peak = true;
			if (v)
				rc = parse_int64(v, 1, 1000000, &o->fit_n, &pe);
			break;
		case OPT_DURATION:
			rc = parse_duration_ms(v, 1000, SIM_SPAN_MAX_MS, &o->duration_ms, &pe);
			break;
		case OPT_POLICY:
			o->policies = v;
			break;
		case OPT_OUT:
			o->out = v;
			break;
		case OPT_COMPARE:
			o->compare = v;
			break;
		case OPT_SMOOTH:
			if (strcmp(v, "auto") == 0)
				o->smooth = 0;
			else if (strcmp(v, "off") == 0)
				o->smooth = 1;
			else if ((rc = parse_int64(v, 1, 1000001, &o->smooth, &pe)) == 0 &&
			    o->smooth % 2 == 0)
				rc = err_set(&pe, "\"%s\": give an odd number of rows (a centred "
				    "window), auto or off", v);
			break;
		default:
			return opts_reject(opt, argv, "simulate", e);
		}
		if (rc == -1)
			return err_set(e, "--%s: %s", opts_name(options, opt), pe.msg);
	}
	if (opts_no_operands(argc, argv, "simulate", e) == -1)
		return -1;
	if ((o->trace == NULL) == (o->profile == NULL))
		return err_set(e, "give one of --trace and --profile (see poolscale simulate --help)");
	if (o->trace == NULL && (o->time_scale != 1 || o->rate_scale != 1 || o->fit_peak ||
	    o->smooth != 0))
		return err_set(e, "--time-scale, --rate-scale, --fit-peak and --smooth go with "
		    "--trace");
	if (o->compare && o->out == NULL)
		return err_set(e, "--compare draws on the chart: give --out too");
	if (o->fit_peak && o->rate_scale != 1)
		return err_set(e, "--fit-peak and --rate-scale both set the rate: give one");
	return 0;
}

/* "a,b,c" or "all" into o->pol; with none, the config's own policy. */
static int parse_policies(struct sim_opts *o, const struct sim_cfg *cfg, struct err *e)
{
	char list[256], *save = NULL;

	if (o->policies == NULL) {
		if (cfg->ctl.policy == CTL_POLICY_NONE)
			return err_set(e, "%s has no policy (policy.kind: none): choose one with "
			    "--policy", o->config ? o->config : "the default config");
		o->pol[o->npol++] = cfg->ctl.policy == CTL_POLICY_STEP ? SIM_STEP : SIM_TARGET;
		return 0;
	}
	if (strcmp(o->policies, "all") == 0) {
		for (int i = 0; i < SIM_NPOLICIES; i++)
			o->pol[o->npol++] = (enum sim_policy)i;
		return 0;
	}
	snprintf(list, sizeof(list), "%s", o->policies);
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		enum sim_policy p;

		if (sim_policy_parse(t, &p) == -1)
			return err_set(e, "--policy: \"%s\" is not target, step, seed-step, "
			    "aws-target, aws-target-req, hpa, hpa-ext, aws-predictive, fixed, "
			    "oracle or all", t);
		for (int i = 0; i < o->npol; i++)
			if (o->pol[i] == p)
				return err_set(e, "--policy: %s is listed twice", t);
		o->pol[o->npol++] = p;
	}
	if (o->npol == 0)
		return err_set(e, "--policy: empty list");
	return 0;
}

/* The rate scale at which the trace's busiest row needs exactly max. */
static int fit_peak(struct sim_opts *o, const struct sim_cfg *cfg, const struct trace *t,
    struct err *e)
{
	struct lat_model m = sim_cfg_lat(cfg);
	double peak = 0;

	for (size_t i = 0; i < t->n; i++)
		if (t->requests[i] > peak)
			peak = t->requests[i];
	peak /= t->step_s;
	if (!(peak > 0))
		return err_set(e, "--fit-peak: %s has no requests", o->trace);
	o->rate_scale = (double)(o->fit_n ? o->fit_n : cfg->ctl.max) * cfg->capacity_rps *
	    lat_rho_slo(&m) / peak;
	return 0;
}

static int build_load(struct sim_opts *o, const struct sim_cfg *cfg, struct load_rate *r,
    char *title, size_t cap, struct err *e)
{
	struct err re = { "" };
	struct trace t;
	int rc;

	if (o->profile) {
		snprintf(title, cap, "a load profile");
		if (load_rate_profile(r, o->profile, (double)o->duration_ms / 1000, &re) == -1)
			return err_set(e, "--profile: %s", re.msg);
		return 0;
	}
	if (trace_read(o->trace, &t, e) == -1)
		return -1;
	{
		const char *base = strrchr(o->trace, '/');

		snprintf(title, cap, "%s", base ? base + 1 : o->trace);
	}
	/* The trace's own limits hold at K = 1; a small K stretches it, a
	 * large one shrinks its step below the clock's. */
	if ((double)t.n * t.step_s / o->time_scale > (double)SIM_SPAN_MAX_MS / 1000 ||
	    t.step_s / o->time_scale < TRACE_STEP_MIN_S) {
		rc = err_set(e, "--time-scale %g plays %s over %g s in steps of %g s: the "
		    "limits are %lld s and %g s", o->time_scale, o->trace,
		    (double)t.n * t.step_s / o->time_scale, t.step_s / o->time_scale,
		    SIM_SPAN_MAX_MS / 1000, TRACE_STEP_MIN_S);
		trace_fini(&t);
		return rc;
	}
	for (int pass = 0; pass < 2; pass++) {
		if (o->fit_peak && fit_peak(o, cfg, &t, e) == -1) {
			trace_fini(&t);
			return -1;
		}
		if (pass == 1)
			break;
		/* smoothed for the scale the raw counts give; the peak of the
		 * smoothed counts then sets --fit-peak's */
		o->smoothed = o->smooth == 0 ? smooth_window(t.requests, t.n, o->rate_scale) :
		    (size_t)o->smooth;
		if (smooth_apply(t.requests, t.n, o->smoothed) == -1) {
			trace_fini(&t);
			return err_set(e, "out of memory");
		}
	}
	rc = load_rate_trace(r, &t, o->time_scale, o->rate_scale, 0, &re);
	trace_fini(&t);
	if (rc == -1)
		return err_set(e, "--trace %s: %s", o->trace, re.msg);
	return 0;
}

static const struct sim_result *baseline(const struct sim_result *r, int n)
{
	for (int i = 0; i < n; i++)
		if (r[i].policy == SIM_SEED_STEP)
			return &r[i];
	return NULL;
}

static void describe(const struct sim_opts *o, const struct sim_cfg *c, const struct load_rate *r)
{
	struct lat_model m = sim_cfg_lat(c);

	printf("load: %s, %.0f s, %.0f requests%s", o->trace ? o->trace : o->profile, r->end_s,
	    r->total, o->trace && o->rate_scale != 1 ? "" : "\n");
	if (o->trace && o->rate_scale != 1 && o->fit_peak)
		printf(", rate ×%.6g (--fit-peak: its busiest row needs %lld instances)\n",
		    o->rate_scale, (long long)(o->fit_n ? o->fit_n : c->ctl.max));
	else if (o->trace && o->rate_scale != 1)
		printf(", rate ×%.6g\n", o->rate_scale);
	if (o->trace && o->smoothed > 1)
		printf("counts read as a rate: a centred mean over %zu rows (--smooth)\n",
		    o->smoothed);
	printf("pool: %d..%d, %.4g req/s per instance at 100%%, boot %.1f s%s, SLO p95 %.0f ms "
	    "(met up to %.0f%% CPU), target %.2f\n", c->ctl.min, c->ctl.max, c->capacity_rps,
	    c->boot_ms / 1000.0, c->boot_max_ms > c->boot_ms ? "+" : "", c->slo_s * 1000,
	    100 * lat_rho_slo(&m), sim_cfg_util(c));
}

int simulate_main(int argc, char **argv)
{
	struct sim_opts o;
	struct sim_cfg *cfg = NULL;
	struct sim_result res[SIM_NPOLICIES];
	struct load_rate rate = { 0 };
	struct sim_measured measured = { 0 };
	struct buf errs;
	struct err e = { "" };
	char title[512];
	int rc, status = 2, done = 0;

	if (argc > 1 && strcmp(argv[1], "calibrate") == 0)
		return calibrate_main(argc - 1, argv + 1);
	rc = parse_flags(argc, argv, &o, &e);
	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	if (rc == -1) {
		fprintf(stderr, "poolscale simulate: %s\n", e.msg);
		return 2;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		fprintf(stderr, "poolscale simulate: out of memory\n");
		return 1;
	}
	buf_init(&errs, 1 << 20);
	if (sim_cfg_load(o.config, cfg, &errs) > 0) {
		fwrite(errs.p, 1, errs.len, stderr);
		goto out;
	}
	if (parse_policies(&o, cfg, &e) == -1 || build_load(&o, cfg, &rate, title, sizeof(title),
	    &e) == -1) {
		fprintf(stderr, "poolscale simulate: %s\n", e.msg);
		goto out;
	}
	if (o.compare && sim_measured_read(o.compare, &measured, &e) == -1) {
		fprintf(stderr, "poolscale simulate: --compare %s\n", e.msg);
		goto out;
	}
	measured.label = "measured (--compare)";
	status = 1;
	if (!o.quiet)
		describe(&o, cfg, &rate);
	for (int i = 0; i < o.npol; i++, done++) {
		int64_t t0 = clock_mono_ns();

		if (sim_run(cfg, o.pol[i], &rate, (double)o.duration_ms / 1000, &res[i], &e) == -1) {
			fprintf(stderr, "poolscale simulate: %s: %s\n", sim_policy_name(o.pol[i]),
			    e.msg);
			sim_result_fini(&res[i]);
			goto out;
		}
		if (!o.quiet)
			printf("%s: %.0f simulated seconds in %.3f s\n", sim_policy_name(o.pol[i]),
			    res[i].nrows * res[i].score_s, (double)(clock_mono_ns() - t0) / 1e9);
	}
	sim_report_table(stdout, res, (size_t)o.npol, baseline(res, o.npol));
	for (int i = 0; o.out && i < o.npol; i++) {
		char dir[4096];

		if (o.npol == 1)
			snprintf(dir, sizeof(dir), "%s", o.out);
		else
			snprintf(dir, sizeof(dir), "%s/%s", o.out, sim_policy_name(o.pol[i]));
		if (sim_report_write(dir, cfg, &res[i], title, baseline(res, o.npol),
		    o.compare ? &measured : NULL, &e) == -1) {
			fprintf(stderr, "poolscale simulate: %s: %s\n", dir, e.msg);
			goto out;
		}
	}
	if (o.out && !o.quiet)
		printf("report: %s\n", o.out);
	status = 0;
out:
	for (int i = 0; i < done; i++)
		sim_result_fini(&res[i]);
	load_rate_fini(&rate);
	sim_measured_fini(&measured);
	buf_fini(&errs);
	if (cfg)
		sim_cfg_fini(cfg);
	free(cfg);
	return status;
}
