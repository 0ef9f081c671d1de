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

static void usage(FILE *f)
{
	fputs(
"Usage: poolscale controller --config FILE [OPTIONS]\n"
"\n"
"Keeps a pool of servers at its desired size: starts and health-checks\n"
"members through a provider (local processes on 127.0.1.N by default),\n"
"replaces the dead and the failing, drains before removing, publishes\n"
"running members as Prometheus file_sd files and http_sd, and serves an\n"
"HTTP API (status, size, events, metrics).\n"
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

/* Loads the file and applies the flags; prints every error. 0 or 2. */
int ctl_load_config(const char *file, const char *listen, const char *state_dir,
    const char *log_level, bool dry_run, struct ctl_cfg *cfg)
{
	struct buf errs;
	struct net_addr a;
	struct err e;
	int n;

	buf_init(&errs, 1 << 16);
	n = ctl_cfg_load(file, cfg, &errs);
	if (listen) {
		if (net_addr_parse(listen, &a, &e) == -1 || strlen(listen) >= sizeof(cfg->api_listen)) {
			buf_appendf(&errs, "--listen: %s\n", e.msg);
			n++;
		} else {
			snprintf(cfg->api_listen, sizeof(cfg->api_listen), "%s", listen);
		}
	}
	if (state_dir) {
		bool sd_follows = strcmp(cfg->sd_dir, cfg->state_dir) == 0;

		snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", state_dir);
		snprintf(cfg->local.state_dir, sizeof(cfg->local.state_dir), "%s", state_dir);
		if (sd_follows)
			snprintf(cfg->sd_dir, sizeof(cfg->sd_dir), "%s", state_dir);
	}
	if (log_level && log_level_parse(log_level, &cfg->log_level) == -1) {
		buf_appendf(&errs, "--log-level: \"%s\" is not error, warn, info or debug\n",
		    log_level);
		n++;
	}
	cfg->dry_run |= dry_run;
	if (n == 0)
		n = ctl_cfg_finish(cfg, &errs);
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

/* The poolscale binary, for the default local instance command. */
void ctl_self_binary(struct ctl_cfg *cfg)
{
	ssize_t n = readlink("/proc/self/exe", cfg->local.binary, sizeof(cfg->local.binary) - 1);

	cfg->local.binary[n > 0 ? n : 0] = '\0';
}

int controller_main(int argc, char **argv)
{
	struct ctl_cfg *cfg = calloc(1, sizeof(*cfg));
	struct controller *c = calloc(1, sizeof(*c));
	struct http_server *srv = NULL;
	struct http_server_cfg hc;
	struct loop *l = NULL;
	struct net_addr a;
	struct flags f;
	struct err e = { "" };
	char bound[80];
	int rc, api_fd = -1, sig_fd = -1;

	if (cfg == NULL || c == NULL) {
		free(cfg);
		free(c);
		return 1;
	}
	rc = parse_flags(argc, argv, &f);
	if (rc == 0)
		rc = ctl_load_config(f.config, f.listen, f.state_dir, f.log_level, f.dry_run, cfg);
	if (rc != 0 || f.check) {
		if (rc == 0)
			printf("%s: configuration is valid\n", f.config);
		ctl_cfg_fini(cfg);
		free(cfg);
		free(c);
		return rc == 1 ? 0 : rc;
	}
	ctl_self_binary(cfg);
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
	c->start_unix_s = (double)clock_wall_unix_ms() / 1000.0;
	if (ctl_init(c, cfg, l, &e) == -1)
		goto out;
	{
		char url[256];

		ctl_advertise_url(cfg, bound, url, sizeof(url));
		if (ctl_ha_init(c, url, &e) == -1)
			goto out;
	}
	http_server_cfg_defaults(&hc);
	hc.body_max_bytes = 1 << 20;
	hc.server_header = "poolscale-controller/" POOLSCALE_VERSION;
	hc.handler = ctl_api_handle;
	hc.done = ctl_api_done;
	hc.ctx = c;
	srv = http_server_new(l, &hc, &e);
	if (srv == NULL || http_server_listen(srv, api_fd, 0, &e) == -1)
		goto out;
	{
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
			    "scale from zero)", "min=0");
	}
	if (loop_run(l, &e) == -1)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "poolscale controller: %s\n", e.msg);
	ctl_api_abort(c);	/* no answer may be pending when the server goes */
	http_server_free(srv);
	ctl_fini(c);
	if (api_fd != -1)
		close(api_fd);
	sigwatch_stop(l, sig_fd);
	loop_free(l);
	ctl_cfg_fini(cfg);
	free(cfg);
	free(c);
	return rc;
}
