/* The command line of `poolscale app`: defaults, parsing, --help. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "common/net.h"
#include "common/opts.h"
#include "common/parse.h"

void app_usage(FILE *f)
{
	fputs(
"Usage: poolscale app [OPTIONS]\n"
"\n"
"The deliberately slow web app that runs on every instance of a pool.\n"
"GET /load burns real CPU (counted on the thread's CPU clock, so an\n"
"overloaded or throttled instance answers more slowly), GET /health says\n"
"whether it serves, GET /metrics exposes Prometheus metrics.\n"
"\n"
"Options:\n"
"  --listen ADDR:PORT          app port (default 0.0.0.0:8080)\n"
"  --metrics-listen ADDR:PORT  metrics port with node_cpu_seconds_total for\n"
"                              the vCPU allotment (default :9100; 'off')\n"
"  --work-ms MS                CPU cost of one /load (default 50)\n"
"  --max-work-ms MS            cap for /load?ms=N (default 10000)\n"
"  --vcpu X                    CPU allotment reported in node_cpu_seconds_total\n"
"                              (default: the number of online CPUs)\n"
"  --boot-delay DURATION       /health answers 503 for this long after start,\n"
"                              imitating a VM booting (default 0)\n"
"  --max-requests-per-conn N   close a keep-alive connection after N requests,\n"
"                              so an L4 balancer rebalances (default 100; 0: never)\n"
"  --threads N                 workers burning CPU for /load (default: ceil(vcpu))\n"
"  --io-threads N              event loops serving HTTP (default 1)\n"
"  --max-queue N               /load requests waiting for a worker; beyond, 503\n"
"                              (default 4096)\n"
"  --max-conns N               open connections per event loop (default 10000)\n"
"  --shutdown-delay DURATION   on SIGTERM, keep accepting and serving this long\n"
"                              with /health at 503, so a load balancer's health\n"
"                              checks take the instance out before it stops\n"
"                              accepting (default 0; behind a balancer: its\n"
"                              check interval times its failure count)\n"
"  --drain-timeout DURATION    after the shutdown delay, longest wait for the\n"
"                              requests in flight (default 30s)\n"
"  --idle-timeout DURATION     keep-alive connection idle limit (default 60s)\n"
"  --read-timeout DURATION     a request must arrive whole within this (default 10s)\n"
"  --log-level LEVEL           error, warn, info or debug (default info)\n"
"  -h, --help                  this text\n"
"\n"
"Durations: 30s, 250ms, 2m, or plain seconds (1.5).\n"
"On SIGTERM or SIGINT, /health turns 503; after --shutdown-delay the app port\n"
"stops taking new connections (their clients are refused, never reset), the\n"
"connections already waiting in its backlog are accepted and answered,\n"
"requests in flight finish, and the process exits 0.\n", f);
}

enum {
	OPT_LISTEN = 256, OPT_METRICS_LISTEN, OPT_WORK_MS, OPT_MAX_WORK_MS, OPT_VCPU,
	OPT_BOOT_DELAY, OPT_MAX_REQ, OPT_THREADS, OPT_IO_THREADS, OPT_MAX_QUEUE,
	OPT_MAX_CONNS, OPT_SHUTDOWN_DELAY, OPT_DRAIN_TIMEOUT, OPT_IDLE_TIMEOUT, OPT_READ_TIMEOUT, OPT_LOG_LEVEL,
};

static const struct option options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
	{ "work-ms", required_argument, NULL, OPT_WORK_MS },
	{ "max-work-ms", required_argument, NULL, OPT_MAX_WORK_MS },
	{ "vcpu", required_argument, NULL, OPT_VCPU },
	{ "boot-delay", required_argument, NULL, OPT_BOOT_DELAY },
	{ "max-requests-per-conn", required_argument, NULL, OPT_MAX_REQ },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "io-threads", required_argument, NULL, OPT_IO_THREADS },
	{ "max-queue", required_argument, NULL, OPT_MAX_QUEUE },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "shutdown-delay", required_argument, NULL, OPT_SHUTDOWN_DELAY },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "read-timeout", required_argument, NULL, OPT_READ_TIMEOUT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void defaults(struct app_cfg *c)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "0.0.0.0:8080");
	snprintf(c->metrics_listen, sizeof(c->metrics_listen), ":9100");
	c->work_ms = 50;
	c->max_work_ms = 10000;
	c->vcpu = ncpu > 0 ? (double)ncpu : 1;
	c->max_requests_per_conn = 100;
	c->io_threads = 1;
	c->max_queue = 4096;
	c->max_conns = 10000;
	c->drain_timeout_ms = 30000;
	c->idle_timeout_ms = 60000;
	c->read_timeout_ms = 10000;
	c->log_level = LOG_INFO;
}

static int set_addr(char *dst, size_t cap, const char *v, bool may_be_off, struct err *e)
{
	struct net_addr a;

	if (may_be_off && strcmp(v, "off") == 0) {
		dst[0] = '\0';
		return 0;
	}
	if (strlen(v) >= cap || net_addr_parse(v, &a, e) == -1)
		return -1;
	snprintf(dst, cap, "%s", v);
	return 0;
}

static int set_uint(unsigned *dst, const char *v, int64_t min, int64_t max, struct err *e)
{
	int64_t n;

	if (parse_int64(v, min, max, &n, e) == -1)
		return -1;
	*dst = (unsigned)n;
	return 0;
}

int app_cfg_parse(int argc, char **argv, struct app_cfg *cfg, struct err *e)
{
	struct err pe = { "" };
	int opt, rc = 0;

	defaults(cfg);
	optind = 0;	/* GNU: restart scanning (tests parse many times) */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		const char *v = optarg;

		switch (opt) {
		case 'h':
			return 1;
		case OPT_LISTEN:
			rc = set_addr(cfg->listen, sizeof(cfg->listen), v, false, &pe);
			break;
		case OPT_METRICS_LISTEN:
			rc = set_addr(cfg->metrics_listen, sizeof(cfg->metrics_listen), v, true, &pe);
			break;
		case OPT_WORK_MS:
			rc = parse_double(v, 0, 600000, &cfg->work_ms, &pe);
			break;
		case OPT_MAX_WORK_MS:
			rc = parse_double(v, 0, 600000, &cfg->max_work_ms, &pe);
			break;
		case OPT_VCPU:
			rc = parse_double(v, 0.01, NODECPU_MAX_CPUS, &cfg->vcpu, &pe);
			break;
		case OPT_BOOT_DELAY:
			rc = parse_duration_ms(v, 0, 86400000, &cfg->boot_delay_ms, &pe);
			break;
		case OPT_MAX_REQ:
			rc = set_uint(&cfg->max_requests_per_conn, v, 0, 1000000000, &pe);
			break;
		case OPT_THREADS:
			rc = set_uint(&cfg->threads, v, 1, 1024, &pe);
			break;
		case OPT_IO_THREADS:
			rc = set_uint(&cfg->io_threads, v, 1, 64, &pe);
			break;
		case OPT_MAX_QUEUE:
			rc = set_uint(&cfg->max_queue, v, 1, 10000000, &pe);
			break;
		case OPT_MAX_CONNS:
			rc = set_uint(&cfg->max_conns, v, 1, 10000000, &pe);
			break;
		case OPT_SHUTDOWN_DELAY:
			rc = parse_duration_ms(v, 0, APP_SHUTDOWN_DELAY_MAX_MS, &cfg->shutdown_delay_ms,
			    &pe);
			break;
		case OPT_DRAIN_TIMEOUT:
			rc = parse_duration_ms(v, 0, 86400000, &cfg->drain_timeout_ms, &pe);
			break;
		case OPT_IDLE_TIMEOUT:
			rc = parse_duration_ms(v, 1, 86400000, &cfg->idle_timeout_ms, &pe);
			break;
		case OPT_READ_TIMEOUT:
			rc = parse_duration_ms(v, 1, 86400000, &cfg->read_timeout_ms, &pe);
			break;
		case OPT_LOG_LEVEL:
			if (log_level_parse(v, &cfg->log_level) == -1)
				rc = err_set(&pe, "\"%s\" is not error, warn, info or debug", v);
			break;
		default:
			return opts_reject(opt, argv, "app", e);
		}
		if (rc == -1)
			return err_set(e, "--%s: %s", opts_name(options, opt), pe.msg);
	}
	if (opts_no_operands(argc, argv, "app", e) == -1)
		return -1;
	if (cfg->work_ms > cfg->max_work_ms)
		return err_set(e, "--work-ms %g is above --max-work-ms %g", cfg->work_ms,
		    cfg->max_work_ms);
	if (cfg->threads == 0)
		cfg->threads = (unsigned)ceil(cfg->vcpu - 1e-9);
	return 0;
}
