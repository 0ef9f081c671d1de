/* `poolscale simulate calibrate`: one real app instance, rising constant
 * rates from `poolscale load`'s engine, and the instance's own CPU time
 * per request; see calibrate.h. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fetch.h"
#include "common/net.h"
#include "common/opts.h"
#include "common/parse.h"
#include "demo/child.h"
#include "load/engine.h"
#include "load/rate.h"
#include "provider/procinfo.h"
#include "sim/calibrate.h"
#include "sim/latency.h"

static void usage(FILE *f)
{
	fputs(
"Usage: poolscale simulate calibrate [OPTIONS]\n"
"\n"
"Measures what one `poolscale app` instance serves on this machine, for the\n"
"`simulate.capacity` key: it starts an app with one worker on a loopback\n"
"port, offers it rising rates (Poisson arrivals) with the engine of\n"
"`poolscale load`, and reads the app's CPU time per request. capacity =\n"
"vcpu / (CPU seconds per request). It also finds the highest rate whose p95\n"
"meets the SLO on a whole CPU, and sets it beside what the simulator's\n"
"M/M/1 model predicts from that capacity (the model is the more cautious:\n"
"the app's service time is nearly constant, not exponential).\n"
"\n"
"  --work-ms MS          CPU cost of one request (default 10)\n"
"  --vcpu X              the instance's CPU share to size for (default 1)\n"
"  --slo DURATION        the latency bound (default 500ms)\n"
"  --step DURATION       how long each rate is held (default 3s)\n"
"  --address ADDR        loopback address for the app (default 127.0.0.1)\n"
"  -h, --help            this text\n", f);
}

enum { OPT_WORK = 256, OPT_VCPU, OPT_SLO, OPT_STEP, OPT_ADDR };

static const struct option options[] = {
	{ "work-ms", required_argument, NULL, OPT_WORK },
	{ "vcpu", required_argument, NULL, OPT_VCPU },
	{ "slo", required_argument, NULL, OPT_SLO },
	{ "step", required_argument, NULL, OPT_STEP },
	{ "address", required_argument, NULL, OPT_ADDR },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct cal_opts {
	double work_ms, vcpu;
	int64_t slo_ms, step_ms;
	const char *address;
};

static int parse_flags(int argc, char **argv, struct cal_opts *o, struct err *e)
{
	struct err pe = { "" };
	int opt, rc = 0;

	*o = (struct cal_opts){ 10, 1, 500, 3000, "127.0.0.1" };
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			return 1;
		case OPT_WORK:
			rc = parse_double(optarg, 0.1, 10000, &o->work_ms, &pe);
			break;
		case OPT_VCPU:
			rc = parse_double(optarg, 0.01, 1024, &o->vcpu, &pe);
			break;
		case OPT_SLO:
			rc = parse_duration_ms(optarg, 1, 3600000, &o->slo_ms, &pe);
			break;
		case OPT_STEP:
			rc = parse_duration_ms(optarg, 500, 600000, &o->step_ms, &pe);
			break;
		case OPT_ADDR:
			o->address = optarg;
			break;
		default:
			return opts_reject(opt, argv, "simulate calibrate", e);
		}
		if (rc == -1)
			return err_set(e, "--%s: %s", opts_name(options, opt), pe.msg);
	}
	return opts_no_operands(argc, argv, "simulate calibrate", e);
}

/* CPU seconds the process has used; NaN when it is gone. */
static double cpu_s(pid_t pid)
{
	uint64_t ticks;

	if (procinfo_cpu_ticks(pid, &ticks) == -1)
		return NAN;
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

struct step_result {
	double rate, p95_ms, cpu_per_req_ms;
	uint64_t sent, ok, failed;
};

static int run_step(const struct cal_opts *o, const char *base, pid_t pid, double rate,
    struct step_result *out, struct err *e)
{
	static const atomic_bool never = false;
	/* Poisson arrivals, as the M/M/1 model assumes of real traffic. */
	struct load_cfg lc = { .timeout_ms = 10000, .max_conns = 256, .poisson = true, .seed = 1 };
	struct load_result *res = malloc(sizeof(*res));
	struct load_rate r;
	char url[160];
	double c0;
	int rc;

	if (res == NULL)
		return err_set(e, "out of memory");
	snprintf(url, sizeof(url), "%s/load", base);
	if (load_url_parse(url, &lc.url, e) == -1 ||
	    load_rate_constant(&r, rate, (double)o->step_ms / 1000, e) == -1) {
		free(res);
		return -1;
	}
	lc.rate = &r;
	c0 = cpu_s(pid);
	rc = load_run(&lc, NULL, NULL, &never, res, e);
	if (rc == 0) {
		out->rate = rate;
		out->sent = res->sent;
		out->ok = res->ok;
		out->failed = res->failed;
		out->p95_ms = (double)hist_quantile(&res->lat, 0.95) / 1e3;
		out->cpu_per_req_ms = res->ok ? (cpu_s(pid) - c0) * 1000 / (double)res->ok : NAN;
	}
	load_rate_fini(&r);
	free(res);
	return rc;
}

static int calibrate(const struct cal_opts *o, struct err *e)
{
	static const double fractions[] = { 0.2, 0.4, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.1 };
	char exe[1024], listen[96], work[32], base[128], health[160];
	char logf[] = "/tmp/poolscale-calibrate-XXXXXX";
	struct step_result s[sizeof(fractions) / sizeof(fractions[0])];
	double nominal = 1000 / o->work_ms, cpu = 0, best = 0;
	struct child app = { 0 };
	size_t n = 0, ncpu = 0;
	ssize_t len;
	int port = net_free_port(o->address), fd;

	if (port <= 0)
		return err_set(e, "no free port on %s", o->address);
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return err_set(e, "cannot find my own executable");
	exe[len] = '\0';
	if ((fd = mkstemp(logf)) == -1)
		return err_set(e, "cannot make a log file in /tmp");
	close(fd);
	snprintf(listen, sizeof(listen), "%s:%d", o->address, port);
	snprintf(work, sizeof(work), "%g", o->work_ms);
	snprintf(base, sizeof(base), "http://%s", listen);
	snprintf(health, sizeof(health), "%s/health", base);
	{
		char *argv[] = { exe, "app", "--listen", listen, "--metrics-listen", "off",
			"--work-ms", work, "--threads", "1", "--vcpu", "1", "--log-level", "warn",
			NULL };

		if (child_start(&app, "app", argv, logf, e) == -1) {
			unlink(logf);
			return -1;
		}
	}
	for (int i = 0; i < 100 && !fetch_ok(health, 500); i++) {
		struct timespec ts = { 0, 50000000 };

		nanosleep(&ts, NULL);
	}
	if (!fetch_ok(health, 500)) {
		child_stop(&app, 2000);
		err_set(e, "the app did not answer on %s (log: %s)", listen, logf);
		return -1;
	}
	printf("one app worker on %s, %g ms of CPU per request: %.1f req/s nominal per CPU\n",
	    listen, o->work_ms, nominal);
	printf("%10s %8s %8s %8s %10s %14s\n", "rate", "sent", "ok", "failed", "p95_ms",
	    "cpu_ms_per_req");
	for (size_t i = 0; i < sizeof(fractions) / sizeof(fractions[0]); i++) {
		struct step_result *r = &s[n];

		if (run_step(o, base, app.pid, nominal * fractions[i], r, e) == -1) {
			child_stop(&app, 2000);
			unlink(logf);
			return -1;
		}
		n++;
		printf("%10.1f %8llu %8llu %8llu %10.1f %14.3f\n", r->rate,
		    (unsigned long long)r->sent, (unsigned long long)r->ok,
		    (unsigned long long)r->failed, r->p95_ms, r->cpu_per_req_ms);
		if (r->failed == 0 && r->p95_ms <= (double)o->slo_ms)
			best = r->rate;
		if (fractions[i] <= 0.8 && isfinite(r->cpu_per_req_ms)) {
			cpu += r->cpu_per_req_ms;	/* below saturation: the true cost */
			ncpu++;
		}
		if (r->failed > 0 || r->p95_ms > 4.0 * (double)o->slo_ms)
			break;
	}
	child_stop(&app, 5000);
	unlink(logf);
	if (ncpu == 0)
		return err_set(e, "no step answered: nothing measured");
	cpu /= (double)ncpu;
	{
		double mu1 = 1000 / cpu;
		struct lat_model m = { mu1, (double)o->slo_ms / 1000, 10 };

		printf("\nCPU per request: %.3f ms (%.3f ms of it the /load work)\n", cpu, o->work_ms);
		printf("highest rate meeting p95 <= %lld ms on one CPU: %.1f req/s measured; the "
		    "model predicts %.1f\n", (long long)o->slo_ms, best,
		    mu1 * fmax(lat_rho_slo(&m), 0));
		printf("\nsimulate:\n  capacity: %.2f   # req/s at 100%% of %g vCPU\n",
		    mu1 * o->vcpu, o->vcpu);
	}
	return 0;
}

int calibrate_main(int argc, char **argv)
{
	struct cal_opts o;
	struct err e = { "" };
	int rc = parse_flags(argc, argv, &o, &e);

	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	if (rc == -1) {
		fprintf(stderr, "poolscale simulate calibrate: %s\n", e.msg);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (calibrate(&o, &e) == -1) {
		fprintf(stderr, "poolscale simulate calibrate: %s\n", e.msg);
		return 1;
	}
	return 0;
}
