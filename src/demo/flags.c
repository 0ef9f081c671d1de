/* `poolscale demo` flags, and the plan they make: ports, pool sizes, each
 * instance's vCPU for this machine, and the load profile. */
#include <arpa/inet.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/net.h"
#include "common/opts.h"
#include "common/parse.h"
#include "demo/demo.h"

static void usage(FILE *f, const char *deploy_found)
{
	fputs(
"Usage: poolscale demo [OPTIONS]\n"
"\n"
"The whole system on this machine, for real: Prometheus and Alertmanager\n"
"(Debian's), the controller with a local pool of `poolscale app` instances\n"
"on 127.0.1.N, `poolscale lb` (HTTP mode) on 127.0.0.1:8000 following the\n"
"pool, and `poolscale load` sending a profile through the lb: quiet, a ramp\n"
"to about four instances' capacity, a hold, a drop, quiet until the pool is\n"
"back at its minimum (about three minutes). A row every 5 s; at the end a\n"
"report folder with the time series (CSV), a chart (SVG), the controller's\n"
"events and a summary. Exit 0 only when the pool scaled out and back in and\n"
"no request failed; 1 otherwise (it says what did not happen); 2 on a bad\n"
"flag.\n"
"\n"
"Options:\n"
"  --policy NAME           target (default: target tracking on the requests\n"
"                          received as a pool total, the CPU as a second\n"
"                          opinion, the backlog and the forecast) or step\n"
"                          (the seeds' path: Prometheus alert ->\n"
"                          Alertmanager -> webhook -> one step)\n"
"  --short                 a shorter profile and a pool of at most 4 (under\n"
"                          three minutes in all; what `make test` runs)\n"
"  --step                  steps instead of the ramp: the load jumps to 0.9\n"
"                          of one instance's capacity, then to 1.7 (the\n"
"                          profile `poolscale simulate` is checked against)\n"
"  --report DIR            where the report goes (default demo-report)\n"
"  --work-dir DIR          configs, state and Prometheus data (default\n"
"                          $TMPDIR/poolscale-demo-UID; an earlier run's pool\n"
"                          left there is destroyed first)\n"
"  --deploy-dir DIR        the deploy/ folder with the Prometheus rules and\n"
"                          Alertmanager config (default: found beside the\n"
"                          binary: ../deploy in a checkout, or\n"
"                          ../share/poolscale/deploy once installed; else\n"
"                          ./deploy)\n"
"  --lb-listen ADDR:PORT   the load balancer (default 127.0.0.1:8000)\n"
"  --prometheus-port N     default 9090\n"
"  --alertmanager-port N   default 9093\n"
"  --api-port N            the controller's API (default 9900)\n"
"  --lb-metrics-port N     the lb's /metrics (default 9901)\n"
"  --free-ports            pick free ports for all of the above\n"
"  --address-base ADDR     first instance address (default 127.0.1.1)\n"
"  --max N                 largest pool (default 6; 4 with --short)\n"
"  --work-ms MS            CPU cost of one request (default 10)\n"
"  --vcpu X                each instance's CPU share (default: half of this\n"
"                          machine's CPUs split over --max instances)\n"
"  -h, --help              this text\n"
"\n"
"Ctrl-C stops every process the demo started, by pid, and frees the ports.\n", f);
	/* Says which deploy/ a run would use: an installed binary finds
	 * PREFIX/share/poolscale/deploy, a checkout's build/ finds ../deploy. */
	fprintf(f, "\nDeploy folder found: %s\n", deploy_found[0] ? deploy_found : "none (give --deploy-dir)");
}

enum {
	OPT_POLICY = 256, OPT_SHORT, OPT_STEP, OPT_REPORT, OPT_WORK_DIR, OPT_DEPLOY_DIR, OPT_LB_LISTEN,
	OPT_PROM_PORT, OPT_AM_PORT, OPT_API_PORT, OPT_LBM_PORT, OPT_FREE_PORTS,
	OPT_ADDRESS_BASE, OPT_MAX, OPT_WORK_MS, OPT_VCPU,
};

static const struct option options[] = {
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "short", no_argument, NULL, OPT_SHORT },
	{ "step", no_argument, NULL, OPT_STEP },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "work-dir", required_argument, NULL, OPT_WORK_DIR },
	{ "deploy-dir", required_argument, NULL, OPT_DEPLOY_DIR },
	{ "lb-listen", required_argument, NULL, OPT_LB_LISTEN },
	{ "prometheus-port", required_argument, NULL, OPT_PROM_PORT },
	{ "alertmanager-port", required_argument, NULL, OPT_AM_PORT },
	{ "api-port", required_argument, NULL, OPT_API_PORT },
	{ "lb-metrics-port", required_argument, NULL, OPT_LBM_PORT },
	{ "free-ports", no_argument, NULL, OPT_FREE_PORTS },
	{ "address-base", required_argument, NULL, OPT_ADDRESS_BASE },
	{ "max", required_argument, NULL, OPT_MAX },
	{ "work-ms", required_argument, NULL, OPT_WORK_MS },
	{ "vcpu", required_argument, NULL, OPT_VCPU },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool is_dir_with_rules(const char *dir)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/prometheus/rules/poolscale.yml", dir);
	return access(p, R_OK) == 0;
}

static int find_deploy_dir(struct demo_plan *p, bool given, struct err *e)
{
	char tmp[PATH_MAX];

	if (given) {
		if (!is_dir_with_rules(p->deploy_dir))
			return err_set(e, "--deploy-dir %s: no prometheus/rules/poolscale.yml in it",
			    p->deploy_dir);
		return 0;
	}
	/* build/poolscale in a checkout: ../deploy; an install: ../share/poolscale/deploy. */
	snprintf(tmp, sizeof(tmp), "%s", p->exe);
	const char *bindir = dirname(tmp);
	const char *cands[] = { "%s/../deploy", "%s/../share/poolscale/deploy" };

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		snprintf(p->deploy_dir, sizeof(p->deploy_dir), cands[i], bindir);
		if (is_dir_with_rules(p->deploy_dir))
			return 0;
	}
	snprintf(p->deploy_dir, sizeof(p->deploy_dir), "deploy");
	if (is_dir_with_rules(p->deploy_dir))
		return 0;
	return err_set(e, "cannot find the deploy/ folder (Prometheus rules); give --deploy-dir");
}

static void defaults(struct demo_plan *p)
{
	const char *tmp = getenv("TMPDIR");

	memset(p, 0, sizeof(*p));
	snprintf(p->report_dir, sizeof(p->report_dir), "demo-report");
	snprintf(p->work_dir, sizeof(p->work_dir), "%s/poolscale-demo-%u",
	    tmp && tmp[0] ? tmp : "/tmp", (unsigned)getuid());
	snprintf(p->lb_listen, sizeof(p->lb_listen), "127.0.0.1:8000");
	snprintf(p->address_base, sizeof(p->address_base), "127.0.1.1");
	p->prom_port = 9090;
	p->am_port = 9093;
	p->api_port = 9900;
	p->lb_metrics_port = 9901;
	p->min = 1;
	p->work_ms = 10;
	p->interval_s = 2;
}

/* Phases in seconds; rates in instances' capacity, scaled below. The ramp
 * is as steep as the pipeline can follow: Prometheus' 10 s rate window, a
 * 2 s scrape and interval, a 3 s boot; a steeper one piles up a backlog in
 * the one instance before the second one serves. */
static void phases(struct demo_plan *p)
{
	struct demo_phases *ph = &p->ph;

	if (p->short_run)
		*ph = (struct demo_phases){ .quiet_s = 10, .ramp_s = 35, .hold_s = 25,
			.drop_s = 3, .tail_s = 12, .extra_s = 50, .quiet_rps = 0.25,
			.peak_rps = 2.5 };
	else
		*ph = (struct demo_phases){ .quiet_s = 20, .ramp_s = 60, .hold_s = 45,
			.drop_s = 5, .tail_s = 50, .extra_s = 90, .quiet_rps = 0.25,
			.peak_rps = 4 };
	if (p->step) {
		/* Two jumps, each one instance more at the 0.7 target, none
		 * beyond what the pool serves before the new one is ready
		 * (an L4 lb moves keep-alive clients over only as the app
		 * closes their connections). */
		*ph = (struct demo_phases){ .quiet_s = 10, .ramp_s = 0, .mid_s = 30, .hold_s = 60,
			.drop_s = 0, .tail_s = 20, .extra_s = 60, .quiet_rps = 0.25,
			.mid_rps = 0.9, .peak_rps = 1.7 };
	}
	/* Never more than the pool can take at 85% of its CPU. */
	if (ph->peak_rps > 0.85 * p->max)
		ph->peak_rps = 0.85 * p->max;
	ph->quiet_rps *= p->capacity_rps;
	ph->mid_rps *= p->capacity_rps;
	ph->peak_rps *= p->capacity_rps;
}

static int port_flag(const char *v, int *out, struct err *e)
{
	int64_t n;

	if (parse_int64(v, 1, 65535, &n, e) == -1)
		return -1;
	*out = (int)n;
	return 0;
}

int demo_plan_parse(int argc, char **argv, struct demo_plan *p, struct err *e)
{
	struct err pe = { "" };
	bool free_ports = false, deploy_given = false, vcpu_given = false;
	int opt, rc = 0;
	int64_t n;
	ssize_t len;

	defaults(p);
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		const char *v = optarg;

		switch (opt) {
		case 'h': {
			struct err ignored = { "" };
			char resolved[PATH_MAX];

			len = readlink("/proc/self/exe", p->exe, sizeof(p->exe) - 1);
			p->exe[len > 0 ? len : 0] = '\0';
			if (len <= 0 || find_deploy_dir(p, deploy_given, &ignored) == -1)
				p->deploy_dir[0] = '\0';
			if (p->deploy_dir[0] && realpath(p->deploy_dir, resolved))
				snprintf(p->deploy_dir, sizeof(p->deploy_dir), "%s", resolved);
			usage(stdout, p->deploy_dir);
			return 1;
		}
		case OPT_POLICY:
			if (strcmp(v, "target") == 0)
				p->policy = DEMO_TARGET;
			else if (strcmp(v, "step") == 0)
				p->policy = DEMO_STEP;
			else
				rc = err_set(&pe, "\"%s\" is not target or step", v);
			break;
		case OPT_STEP:
			p->step = true;
			break;
		case OPT_SHORT:
			p->short_run = true;
			break;
		case OPT_REPORT:
		case OPT_WORK_DIR:
		case OPT_DEPLOY_DIR: {
			char *dst = opt == OPT_REPORT ? p->report_dir :
			    opt == OPT_WORK_DIR ? p->work_dir : p->deploy_dir;

			if (v[0] == '\0' || strlen(v) >= sizeof(p->report_dir) - 64)
				rc = err_set(&pe, "empty or too long");
			else
				snprintf(dst, sizeof(p->report_dir), "%s", v);
			deploy_given |= opt == OPT_DEPLOY_DIR;
			break;
		}
		case OPT_LB_LISTEN: {
			struct net_addr a;

			if (strlen(v) >= sizeof(p->lb_listen) || net_addr_parse(v, &a, &pe) == -1)
				rc = -1;
			else
				snprintf(p->lb_listen, sizeof(p->lb_listen), "%s", v);
			break;
		}
		case OPT_PROM_PORT:
			rc = port_flag(v, &p->prom_port, &pe);
			break;
		case OPT_AM_PORT:
			rc = port_flag(v, &p->am_port, &pe);
			break;
		case OPT_API_PORT:
			rc = port_flag(v, &p->api_port, &pe);
			break;
		case OPT_LBM_PORT:
			rc = port_flag(v, &p->lb_metrics_port, &pe);
			break;
		case OPT_FREE_PORTS:
			free_ports = true;
			break;
		case OPT_ADDRESS_BASE: {
			struct in_addr a;

			if (inet_pton(AF_INET, v, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
				rc = err_set(&pe, "\"%s\" is not an address in 127.0.0.0/8", v);
			else
				snprintf(p->address_base, sizeof(p->address_base), "%s", v);
			break;
		}
		case OPT_MAX:
			rc = parse_int64(v, 2, 64, &n, &pe);
			p->max = (int)n;
			break;
		case OPT_WORK_MS:
			rc = parse_double(v, 1, 10000, &p->work_ms, &pe);
			break;
		case OPT_VCPU:
			rc = parse_double(v, 0.01, 64, &p->vcpu, &pe);
			vcpu_given = true;
			break;
		default:
			return opts_reject(opt, argv, "demo", e);
		}
		if (rc == -1)
			return err_set(e, "--%s: %s", opts_name(options, opt), pe.msg);
	}
	if (opts_no_operands(argc, argv, "demo", e) == -1)
		return -1;
	if (p->max == 0)
		p->max = p->short_run ? 4 : 6;
	len = readlink("/proc/self/exe", p->exe, sizeof(p->exe) - 1);
	if (len <= 0)
		return err_set(e, "cannot find my own binary: /proc/self/exe");
	p->exe[len] = '\0';
	if (find_deploy_dir(p, deploy_given, e) == -1)
		return -1;
	if (!vcpu_given) {
		/* Half the machine for the pool at its largest, the rest for
		 * Prometheus, the lb, the load and everything else. */
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		p->vcpu = floor((double)(ncpu > 0 ? ncpu : 1) * 0.5 / p->max * 20) / 20;
		if (p->vcpu < 0.05)
			p->vcpu = 0.05;
		if (p->vcpu > 1)
			p->vcpu = 1;
	}
	p->capacity_rps = p->vcpu * 1000 / p->work_ms;
	if (free_ports) {
		int ports[5];

		for (int i = 0; i < 5; i++) {
			ports[i] = net_free_port("127.0.0.1");
			if (ports[i] == -1)
				return err_set(e, "--free-ports: no free port on 127.0.0.1");
		}
		snprintf(p->lb_listen, sizeof(p->lb_listen), "127.0.0.1:%d", ports[0]);
		p->prom_port = ports[1];
		p->am_port = ports[2];
		p->api_port = ports[3];
		p->lb_metrics_port = ports[4];
	}
	phases(p);
	return 0;
}

double demo_profile_end(const struct demo_phases *ph)
{
	return ph->quiet_s + ph->ramp_s + ph->hold_s + ph->drop_s + ph->tail_s + ph->extra_s;
}

const char *demo_phase_at(const struct demo_phases *ph, double t)
{
	double a = ph->quiet_s, b = a + ph->ramp_s, c = b + ph->hold_s, d = c + ph->drop_s;

	return t < a ? "quiet" : t < b ? "ramp" : t < c ? "hold" : t < d ? "drop" : "quiet";
}

void demo_profile_spec(const struct demo_phases *ph, char *dst, size_t cap)
{
	double a = ph->quiet_s, b = a + ph->ramp_s, c = b + ph->hold_s, d = c + ph->drop_s;

	if (ph->mid_s > 0)
		snprintf(dst, cap, "0:%.3f,%.0f:%.3f,%.0f:%.3f,%.0f:%.3f,%.0f:%.3f,%.0f:%.3f,"
		    "%.0f:%.3f,%.0f:%.3f", ph->quiet_rps, a, ph->quiet_rps, a, ph->mid_rps,
		    a + ph->mid_s, ph->mid_rps, a + ph->mid_s, ph->peak_rps, c, ph->peak_rps, d,
		    ph->quiet_rps, demo_profile_end(ph), ph->quiet_rps);
	else
		snprintf(dst, cap, "0:%.3f,%.0f:%.3f,%.0f:%.3f,%.0f:%.3f,%.0f:%.3f,%.0f:%.3f",
		    ph->quiet_rps, a, ph->quiet_rps, b, ph->peak_rps, c, ph->peak_rps, d,
		    ph->quiet_rps, demo_profile_end(ph), ph->quiet_rps);
}
