/* `poolscale load`: flags, the line a second, the CSV and the summary around
 * the open-loop engine (load/engine.h). */
#include <getopt.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/opts.h"
#include "common/parse.h"
#include "load/cmd.h"
#include "load/engine.h"
#include "load/trace.h"

static void usage(FILE *f)
{
	fputs(
"Usage: poolscale load --url URL (--rate R | --profile SPEC | --trace FILE) [OPTIONS]\n"
"\n"
"Open-loop HTTP/1.1 load: requests leave at their scheduled times whatever\n"
"the server does, and latency counts from the scheduled time, so a stalled\n"
"server shows up as latency instead of as fewer requests.\n"
"\n"
"What to send:\n"
"  --url URL              http://HOST[:PORT]/PATH, HOST numeric (or localhost)\n"
"  --rate R               a constant R requests per second\n"
"  --profile T:R,T:R,...  R req/s at T seconds, linear in between (an equal T\n"
"                         makes a step), e.g. 0:0,30:200,90:200,100:0\n"
"  --trace FILE.csv       replay a `t_seconds,requests` trace (one count per\n"
"                         fixed step, as in traces/README.md)\n"
"  --time-scale K         with --trace: play it K times faster (default 1)\n"
"  --rate-scale X         with --trace: multiply its rate by X (default 1)\n"
"  --duration DURATION    run this long (default 10s with --rate; the profile's\n"
"                         last T or the whole trace otherwise)\n"
"  --arrivals KIND        uniform (even gaps, default) or poisson\n"
"  --seed N               for --arrivals poisson (default fixed)\n"
"\n"
"How:\n"
"  --timeout DURATION     a request fails unless answered this long after it\n"
"                         was due (default 10s)\n"
"  --conns N              connections at most (default 1000); a request due\n"
"                         while all are busy waits, and the wait is latency\n"
"  --keepalive N          requests per connection before closing it (default\n"
"                         0: no cap; 1: a new connection per request)\n"
"  --spin-us N            busy-poll N microseconds before each send instead of\n"
"                         sleeping to it (a sleeping thread wakes ~50 us late;\n"
"                         this costs CPU, up to a core at high rates; default 0)\n"
"\n"
"Output:\n"
"  --csv FILE             one row a second: t_s, target_rps, sent, ok,\n"
"                         retried, err_* by kind, p50/p95/p99 in ms\n"
"  --quiet                no line a second, only the summary\n"
"  -h, --help             this text\n"
"\n"
"Every second a line: the schedule's rate, requests sent, answered 2xx/3xx,\n"
"errors by kind (connect, timeout, io, status: other answers, unsent), and\n"
"latency percentiles of that second. A reused keep-alive connection closed\n"
"by the server before any answer is retried once on a new one, as HTTP\n"
"clients do (counted as retried). Exit 0 when the run completes, 1 when it\n"
"cannot start, 2 on a bad flag.\n", f);
}

enum {
	OPT_URL = 256, OPT_RATE, OPT_PROFILE, OPT_TRACE, OPT_TIME_SCALE, OPT_RATE_SCALE,
	OPT_DURATION, OPT_ARRIVALS, OPT_SEED, OPT_TIMEOUT, OPT_CONNS, OPT_KEEPALIVE,
	OPT_SPIN, OPT_CSV, OPT_QUIET,
};

static const struct option options[] = {
	{ "url", required_argument, NULL, OPT_URL },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "time-scale", required_argument, NULL, OPT_TIME_SCALE },
	{ "rate-scale", required_argument, NULL, OPT_RATE_SCALE },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "arrivals", required_argument, NULL, OPT_ARRIVALS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "conns", required_argument, NULL, OPT_CONNS },
	{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
	{ "spin-us", required_argument, NULL, OPT_SPIN },
	{ "csv", required_argument, NULL, OPT_CSV },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct load_opts {
	const char *url, *profile, *trace, *csv;
	double rate, time_scale, rate_scale;
	int64_t duration_ms;
	bool quiet;
	struct load_cfg cfg;
};

static int parse_flags(int argc, char **argv, struct load_opts *o, struct err *e)
{
	struct err pe = { "" };
	int opt, rc = 0, sources = 0;
	int64_t n;

	memset(o, 0, sizeof(*o));
	o->time_scale = 1;
	o->rate_scale = 1;
	o->cfg.timeout_ms = 10000;
	o->cfg.max_conns = 1000;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		const char *v = optarg;

		switch (opt) {
		case 'h':
			return 1;
		case OPT_URL:
			o->url = v;
			rc = load_url_parse(v, &o->cfg.url, &pe);
			break;
		case OPT_RATE:
			sources++;
			rc = parse_double(v, 0.001, RATE_MAX_RPS, &o->rate, &pe);
			break;
		case OPT_PROFILE:
			sources++;
			o->profile = v;
			break;
		case OPT_TRACE:
			sources++;
			o->trace = v;
			break;
		case OPT_TIME_SCALE:
			rc = parse_double(v, 1e-6, 1e9, &o->time_scale, &pe);
			break;
		case OPT_RATE_SCALE:
			rc = parse_double(v, 1e-9, 1e9, &o->rate_scale, &pe);
			break;
		case OPT_DURATION:
			rc = parse_duration_ms(v, 1, 366LL * 86400000, &o->duration_ms, &pe);
			break;
		case OPT_ARRIVALS:
			if (strcmp(v, "poisson") == 0)
				o->cfg.poisson = true;
			else if (strcmp(v, "uniform") != 0)
				rc = err_set(&pe, "\"%s\" is not uniform or poisson", v);
			break;
		case OPT_SEED:
			rc = parse_int64(v, 0, INT64_MAX, &n, &pe);
			o->cfg.seed = (uint64_t)n;
			break;
		case OPT_TIMEOUT:
			rc = parse_duration_ms(v, 1, 3600000, &o->cfg.timeout_ms, &pe);
			break;
		case OPT_CONNS:
			rc = parse_int64(v, 1, 100000, &n, &pe);
			o->cfg.max_conns = (unsigned)n;
			break;
		case OPT_KEEPALIVE:
			rc = parse_int64(v, 0, 1000000000, &n, &pe);
			o->cfg.keepalive = (unsigned)n;
			break;
		case OPT_SPIN:
			rc = parse_int64(v, 0, 1000000, &n, &pe);
			o->cfg.spin_ns = n * 1000;
			break;
		case OPT_CSV:
			o->csv = v;
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		default:
			return opts_reject(opt, argv, "load", e);
		}
		if (rc == -1)
			return err_set(e, "--%s: %s", opts_name(options, opt), pe.msg);
	}
	if (opts_no_operands(argc, argv, "load", e) == -1)
		return -1;
	if (o->url == NULL)
		return err_set(e, "--url is required (see poolscale load --help)");
	if (sources != 1)
		return err_set(e, "give exactly one of --rate, --profile and --trace");
	if (o->trace == NULL && (o->time_scale != 1 || o->rate_scale != 1))
		return err_set(e, "--time-scale and --rate-scale go with --trace");
	return 0;
}

/* Builds the schedule the flags describe; trace errors are FILE:LINE. */
static int build_rate(const struct load_opts *o, struct load_rate *r, struct err *e)
{
	double dur = (double)o->duration_ms / 1000;
	struct err re = { "" };
	struct trace t;
	int rc;

	if (o->profile != NULL) {
		if (load_rate_profile(r, o->profile, dur, &re) == -1)
			return err_set(e, "--profile: %s", re.msg);
		return 0;
	}
	if (o->trace != NULL) {
		if (trace_read(o->trace, &t, e) == -1)
			return -1;
		rc = load_rate_trace(r, &t, o->time_scale, o->rate_scale, dur, &re);
		trace_fini(&t);
		if (rc == -1)
			return err_set(e, "--trace %s: %s", o->trace, re.msg);
		return 0;
	}
	if (load_rate_constant(r, o->rate, dur > 0 ? dur : 10, &re) == -1)
		return err_set(e, "--rate: %s", re.msg);
	return 0;
}

static double ms(int64_t us)
{
	return (double)us / 1000;
}

struct printer {
	bool quiet;
	FILE *csv;
	unsigned lines;
	/* Sent over due in each whole 1 s window: the overall rate hides a
	 * generator that fell behind in the middle and caught up later. */
	unsigned windows;
	double window_min, window_max;
};

static void note_window(struct printer *p, const struct load_tick *t)
{
	double r;

	if (t->last || t->due < 1)
		return;
	r = (double)t->sent / t->due;
	if (p->windows == 0 || r < p->window_min)
		p->window_min = r;
	if (p->windows == 0 || r > p->window_max)
		p->window_max = r;
	p->windows++;
}

static void print_tick(const struct load_tick *t, void *ctx)
{
	struct printer *p = ctx;
	double target = t->span_s > 0 ? t->due / t->span_s : 0;
	int64_t p50 = hist_quantile(&t->lat, 0.50), p95 = hist_quantile(&t->lat, 0.95),
	    p99 = hist_quantile(&t->lat, 0.99);

	note_window(p, t);
	if (!p->quiet) {
		if (p->lines % 20 == 0)
			printf("%7s %9s %8s %8s %7s %7s %5s %6s %6s %8s %8s %8s\n", "t_s",
			    "target/s", "sent", "ok", "connect", "timeout", "io", "status",
			    "unsent", "p50_ms", "p95_ms", "p99_ms");
		printf("%7.1f %9.1f %8llu %8llu %7llu %7llu %5llu %6llu %6llu %8.2f %8.2f %8.2f\n",
		    t->t_s, target, (unsigned long long)t->sent, (unsigned long long)t->ok,
		    (unsigned long long)t->err[LOAD_ERR_CONNECT],
		    (unsigned long long)t->err[LOAD_ERR_TIMEOUT],
		    (unsigned long long)t->err[LOAD_ERR_IO],
		    (unsigned long long)t->err[LOAD_ERR_STATUS],
		    (unsigned long long)t->err[LOAD_ERR_UNSENT], ms(p50), ms(p95), ms(p99));
		fflush(stdout);
		p->lines++;
	}
	if (p->csv != NULL) {
		fprintf(p->csv, "%.3f,%.2f,%llu,%llu,%llu", t->t_s, target,
		    (unsigned long long)t->sent, (unsigned long long)t->ok,
		    (unsigned long long)t->retried);
		for (int k = 0; k < LOAD_ERR_N; k++)
			fprintf(p->csv, ",%llu", (unsigned long long)t->err[k]);
		fprintf(p->csv, ",%.3f,%.3f,%.3f\n", ms(p50), ms(p95), ms(p99));
	}
}

static void print_summary(const struct load_result *r, const struct load_rate *rate,
    const struct printer *p, bool stopped)
{
	const struct hist *h = &r->lat;

	printf("summary%s\n", stopped ? " (stopped early by a signal)" : "");
	printf("  requests  due=%llu sent=%llu ok=%llu failed=%llu retried=%llu\n",
	    (unsigned long long)r->due, (unsigned long long)r->sent,
	    (unsigned long long)r->ok, (unsigned long long)r->failed,
	    (unsigned long long)r->retried);
	printf("  errors   ");
	for (int k = 0; k < LOAD_ERR_N; k++)
		printf(" %s=%llu", load_err_name(k), (unsigned long long)r->err[k]);
	printf("\n  rate      target=%.1f/s achieved=%.1f/s over %.2fs\n",
	    rate->end_s > 0 ? rate->total / rate->end_s : 0,
	    r->span_s > 0 ? (double)r->sent / r->span_s : 0, r->span_s);
	if (p->windows > 0)
		printf("  windows   sent/due per 1s window: low=%.4f high=%.4f over %u windows\n",
		    p->window_min, p->window_max, p->windows);
	printf("  latency   min=%.3fms mean=%.3fms p50=%.3fms p90=%.3fms p95=%.3fms "
	    "p99=%.3fms p99.9=%.3fms max=%.3fms (ok answers, from the scheduled time)\n",
	    ms(h->count ? h->min_us : 0), hist_mean_us(h) / 1000, ms(hist_quantile(h, 0.5)),
	    ms(hist_quantile(h, 0.9)), ms(hist_quantile(h, 0.95)), ms(hist_quantile(h, 0.99)),
	    ms(hist_quantile(h, 0.999)), ms(h->max_us));
	printf("  send lag  p50=%.3fms p99=%.3fms max=%.3fms (from the scheduled time to "
	    "the write, waiting for a connection included)\n",
	    ms(hist_quantile(&r->lag, 0.5)), ms(hist_quantile(&r->lag, 0.99)),
	    ms(r->lag.max_us));
}

static atomic_bool stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, true);
}

int load_main(int argc, char **argv)
{
	struct load_opts o;
	struct load_rate rate;
	struct load_result *res;
	struct printer pr = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct err e = { "" };
	int rc;

	rc = parse_flags(argc, argv, &o, &e);
	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	if (rc == -1) {
		fprintf(stderr, "poolscale load: %s\n", e.msg);
		return 2;
	}
	if (build_rate(&o, &rate, &e) == -1) {
		fprintf(stderr, "poolscale load: %s\n", e.msg);
		return 2;
	}
	o.cfg.rate = &rate;
	pr.quiet = o.quiet;
	if (o.csv != NULL) {
		pr.csv = fopen(o.csv, "w");
		if (pr.csv == NULL) {
			fprintf(stderr, "poolscale load: --csv %s: %s\n", o.csv, strerror(errno));
			load_rate_fini(&rate);
			return 1;
		}
		fprintf(pr.csv, "t_s,target_rps,sent,ok,retried");
		for (int k = 0; k < LOAD_ERR_N; k++)
			fprintf(pr.csv, ",err_%s", load_err_name(k));
		fprintf(pr.csv, ",p50_ms,p95_ms,p99_ms\n");
	}
	res = malloc(sizeof(*res));
	if (res == NULL) {
		fprintf(stderr, "poolscale load: out of memory\n");
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = load_run(&o.cfg, print_tick, &pr, &stop_flag, res, &e);
	if (rc == 0)
		print_summary(res, &rate, &pr, atomic_load(&stop_flag));
	else
		fprintf(stderr, "poolscale load: %s\n", e.msg);
	if (pr.csv != NULL && fclose(pr.csv) != 0 && rc == 0) {
		fprintf(stderr, "poolscale load: --csv %s: %s\n", o.csv, strerror(errno));
		rc = -1;
	}
	free(res);
	load_rate_fini(&rate);
	return rc == 0 ? 0 : 1;
}
