/* `poolscale controller`: flags, start-up, signals. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/http_server.h"
#include "common/net.h"
#include "common/opts.h"
#include "common/sigwatch.h"
#include "controller/api.h"
#include "controller/cmd.h"
#include "controller/fleet.h"

static void usage(FILE *f)
{
	fputs(
"Usage: poolscale controller --config FILE [OPTIONS]\n"
"\n"
"Keeps a pool of servers at its desired size: starts and health-checks\n"
"members through a provider (local processes on 127.0.1.N by default),\n"
"replaces the dead and the failing, drains before removing, publishes\n"
"running members as Prometheus file_sd files and http_sd, and serves an\n"
"HTTP API (status, size, events, metrics). A file with `pools:` runs\n"
"several pools, each with its own provider, policy and discovery files,\n"
"behind one API (/api/v1/pools/NAME/...). With an `ha:` block, controllers\n"
"that share the file elect one leader on etcd, which alone changes the\n"
"pools (all of them: they are led together); docs/ha.md.\n"
"\n"
"Options:\n"
"  --config FILE        YAML configuration (docs/configuration.md)\n"
"  --check-config       validate the configuration and exit (0 valid, 2 not)\n"
"  --listen ADDR:PORT   API address (overrides api.listen)\n"
"  --state-dir DIR      state directory (overrides state_dir)\n"
"  --dry-run            decide and report, but change nothing\n"
"  --log-level LEVEL    error, warn, info or debug (overrides log_level)\n"
"  -h, --help           this text\n"
"\n"
"The API token comes from api.bearer_token_file or POOLSCALE_API_TOKEN,\n"
"never from the command line. On SIGTERM or SIGINT the controller exits 0\n"
"and leaves the instances running; its next start adopts them.\n", f);
}

enum { OPT_CONFIG = 256, OPT_CHECK, OPT_LISTEN, OPT_STATE_DIR, OPT_DRY_RUN, OPT_LOG_LEVEL };

static const struct option options[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "check-config", no_argument, NULL, OPT_CHECK },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct flags {
	const char *config, *listen, *state_dir, *log_level;
	bool check, dry_run;
};

static int parse_flags(int argc, char **argv, struct flags *f)
{
	struct err e;
	int opt;

	memset(f, 0, sizeof(*f));
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'h': usage(stdout); return 1;
		case OPT_CONFIG: f->config = optarg; break;
		case OPT_CHECK: f->check = true; break;
		case OPT_LISTEN: f->listen = optarg; break;
		case OPT_STATE_DIR: f->state_dir = optarg; break;
		case OPT_DRY_RUN: f->dry_run = true; break;
		case OPT_LOG_LEVEL: f->log_level = optarg; break;
		default:
			opts_reject(opt, argv, "controller", &e);
			fprintf(stderr, "poolscale controller: %s\n", e.msg);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "poolscale controller: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (f->config == NULL) {
		fprintf(stderr, "poolscale controller: --config FILE is required (see --help)\n");
		return 2;
	}
	return 0;
}

int ctl_load_config(const char *file, const struct ctl_overrides *o, struct ctl_pools *out)
{
	struct buf errs;
	int n;

	buf_init(&errs, 1 << 16);
	n = ctl_pools_load(file, NULL, o, out, &errs);
	if (n > 0)
		fwrite(errs.p, 1, errs.len, stderr);
	buf_fini(&errs);
	return n > 0 ? 2 : 0;
}

/* Raises the soft descriptor limit to the hard one: the controller's own
 * work (health checks, the state table, starting members) must not run out
 * because API clients hold descriptors (the server keeps a reserve too). */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* What followers name as the leader's API: ha.advertise_url, else the
 * bound address, with the host name for a wildcard one (0.0.0.0 reaches
 * nobody from elsewhere). */
void ctl_advertise_url(const struct ctl_cfg *cfg, const char *bound, char *dst, size_t cap)
{
	const char *port = strrchr(bound, ':');
	char host[256] = "localhost";

	if (cfg->ha.advertise_url[0] != '\0') {
		snprintf(dst, cap, "%s", cfg->ha.advertise_url);
		return;
	}
	if (port != NULL && (strncmp(bound, "0.0.0.0:", 8) == 0 || strncmp(bound, "[::]:", 5) == 0)) {
		(void)gethostname(host, sizeof(host) - 1);
		snprintf(dst, cap, "http://%s%s", host, port);
		return;
	}
	snprintf(dst, cap, "http://%s", bound);
}

/* The poolscale binary and an absolute discovery dir, for local instance
 * commands ({binary}, {sd_dir}). */
void ctl_self_binary(struct ctl_cfg *cfg)
{
	char cwd[1024];
	ssize_t n = readlink("/proc/self/exe", cfg->local.binary, sizeof(cfg->local.binary) - 1);

	cfg->local.binary[n > 0 ? n : 0] = '\0';
	/* Absolute: an instance must find it whatever its own directory. */
	if (cfg->sd_dir[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL ||
	    snprintf(cfg->local.sd_dir, sizeof(cfg->local.sd_dir), "%s/%s", cwd, cfg->sd_dir) >=
	    (int)sizeof(cfg->local.sd_dir))
		memcpy(cfg->local.sd_dir, cfg->sd_dir, sizeof(cfg->local.sd_dir));
}

/* The start line, one per pool. */
static void log_started(const struct controller *c, const char *bound)
{
	const struct ctl_cfg *cfg = c->cfg;
	int adopted = 0, forgotten = 0;

	if (strcmp(cfg->provider, "local") == 0)
		prov_local_adopted(&c->prov, &adopted, &forgotten);
	log_msg(LOG_INFO, "started", "api=%s pool=%s provider=%s min=%d max=%d desired=%d "
	    "interval_ms=%lld adopted=%d forgotten=%d state_dir=%s auth=%s dry_run=%s pid=%ld "
	    "ha=%s",
	    bound, cfg->pool, cfg->provider, cfg->min, cfg->max, c->desired,
	    (long long)cfg->interval_ms, adopted, forgotten, cfg->state_dir,
	    cfg->token[0] ? "bearer" : "none", cfg->dry_run ? "yes" : "no", (long)getpid(),
	    cfg->ha.enabled ? cfg->ha.name : "off");
	/* Members' metrics cannot start a pool that has none. */
	if (cfg->policy == CTL_POLICY_TARGET && cfg->min == 0 && !cfg->backlog_query[0])
		log_msg(LOG_WARN, "min is 0 and policy.target.backlog is not set: at 0 only "
		    "a schedule or the forecast starts the pool again (docs/policies.md, "
		    "scale from zero)", "pool=%s min=0", cfg->pool);
}

int controller_main(int argc, char **argv)
{
	struct ctl_pools *pools = calloc(1, sizeof(*pools));
	struct fleet *f = calloc(1, sizeof(*f));
	struct http_server *srv = NULL;
	struct http_server_cfg hc;
	struct loop *l = NULL;
	struct net_addr a;
	struct flags fl;
	struct err e = { "" };
	char bound[80];
	int rc, api_fd = -1, sig_fd = -1;
	struct ctl_cfg *cfg;

	if (pools == NULL || f == NULL) {
		free(pools);
		free(f);
		return 1;
	}
	rc = parse_flags(argc, argv, &fl);
	if (rc == 0) {
		struct ctl_overrides o = { fl.listen, fl.state_dir, fl.log_level, fl.dry_run };

		rc = ctl_load_config(fl.config, &o, pools);
	}
	if (rc != 0 || fl.check) {
		if (rc == 0)
			printf("%s: configuration is valid (%zu pool%s)\n", fl.config, pools->n,
			    pools->n == 1 ? "" : "s");
		ctl_pools_fini(pools);
		free(pools);
		free(f);
		return rc == 1 ? 0 : rc;
	}
	cfg = pools->pool[0];		/* the shared keys are the same in each */
	for (size_t i = 0; i < pools->n; i++)
		ctl_self_binary(pools->pool[i]);
	raise_fd_limit();
	log_setup("controller", cfg->log_level);
	rc = 1;
	l = loop_new(&e);
	if (l == NULL)
		goto out;
	sig_fd = sigwatch_start(l, "stopping; instances keep running", &e);
	if (sig_fd == -1)
		goto out;
	if (net_addr_parse(cfg->api_listen, &a, &e) == -1 ||
	    (api_fd = net_listen(&a, 128, &e)) == -1)
		goto out;
	net_local_addr(api_fd, bound, sizeof(bound));
	if (fleet_init(f, pools, l, (double)clock_wall_unix_ms() / 1000.0, &e) == -1)
		goto out;
	if (cfg->ha.enabled) {		/* one election for every pool */
		char url[256];

		ctl_advertise_url(cfg, bound, url, sizeof(url));
		if (ctl_ha_init(f->pool, f->n, url, &e) == -1)
			goto out;
	}
	http_server_cfg_defaults(&hc);
	hc.body_max_bytes = 1 << 20;
	hc.server_header = "poolscale-controller/" POOLSCALE_VERSION;
	hc.handler = ctl_api_handle;
	hc.done = ctl_api_done;
	hc.ctx = f;
	srv = http_server_new(l, &hc, &e);
	if (srv == NULL || http_server_listen(srv, api_fd, 0, &e) == -1)
		goto out;
	for (size_t i = 0; i < f->n; i++)
		log_started(f->pool[i], bound);
	if (loop_run(l, &e) == -1)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "poolscale controller: %s\n", e.msg);
	ctl_api_abort(f);	/* no answer may be pending when the server goes */
	http_server_free(srv);
	fleet_fini(f);
	if (api_fd != -1)
		close(api_fd);
	sigwatch_stop(l, sig_fd);
	loop_free(l);
	ctl_pools_fini(pools);
	free(pools);
	free(f);
	return rc;
}
