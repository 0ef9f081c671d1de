#include "discovery/sd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/opts.h"
#include "common/parse.h"
#include "common/sigwatch.h"
#include "controller/config.h"
#include "discovery/filesd.h"
#include "discovery/publish.h"
#include "provider/runner.h"

static void usage(FILE *f)
{
	fputs(
"Usage: poolscale sd --output FILE [OPTIONS]\n"
"\n"
"Service discovery alone: reads a pool's members from a provider every\n"
"interval and writes the running ones as a Prometheus file_sd file\n"
"(temp file, fsync, rename; [] when none). While the provider fails, the\n"
"last good file stays as it is. For users who keep another autoscaler.\n"
"\n"
"Options:\n"
"  --output FILE        the file_sd file to write\n"
"  --config FILE        take the provider and pool from a controller config\n"
"                       (exoscale, aws or exec); without it, Exoscale from\n"
"                       flags and the environment\n"
"  --interval DURATION  how often to read the provider (default 10s)\n"
"  --target-port N      port of every target (default TARGET_PORT, else the\n"
"                       config's metrics_port, else 9100)\n"
"  --pool NAME          the pool label (default the config's pool, else web)\n"
"  --zone ZONE          Exoscale zone (default EXOSCALE_ZONE, else ch-gva-2)\n"
"  --pool-id UUID       Exoscale instance pool (default EXOSCALE_INSTANCEPOOL_ID)\n"
"  --endpoint URL       Exoscale API endpoint (default https://api-ZONE.exoscale.com/v2)\n"
"  --once               write once and exit: 0 written, 1 the provider failed\n"
"  --log-level LEVEL    error, warn, info or debug (default info)\n"
"  -h, --help           this text\n"
"\n"
"Exoscale credentials come from EXOSCALE_API_KEY and EXOSCALE_API_SECRET (or\n"
"EXOSCALE_KEY and EXOSCALE_SECRET, as the seed agent reads them), or from\n"
"the files the config names; never from the command line. Exits 0 on\n"
"SIGTERM or SIGINT.\n", f);
}

enum {
	OPT_OUTPUT = 256, OPT_CONFIG, OPT_INTERVAL, OPT_PORT, OPT_POOL, OPT_ZONE, OPT_POOL_ID,
	OPT_ENDPOINT, OPT_ONCE, OPT_LOG_LEVEL,
};

static const struct option options[] = {
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "target-port", required_argument, NULL, OPT_PORT },
	{ "pool", required_argument, NULL, OPT_POOL },
	{ "zone", required_argument, NULL, OPT_ZONE },
	{ "pool-id", required_argument, NULL, OPT_POOL_ID },
	{ "endpoint", required_argument, NULL, OPT_ENDPOINT },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct sd {
	struct ctl_cfg cfg;
	const char *output;
	int64_t interval_ms;
	int port;
	bool once;
	int rc;				/* --once: the exit status */
	struct loop *loop;
	struct provider prov;
	struct prov_runner *runner;
	char *last;			/* what the file holds */
	char last_error[192];
	uint64_t timer;
};

static int fail(const char *fmt, const char *a)
{
	fprintf(stderr, "poolscale sd: ");
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
	return 2;
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : dflt;
}

static int parse_flags(int argc, char **argv, struct sd *s)
{
	const char *config = NULL, *interval = "10s", *port = NULL, *pool = NULL;
	const char *zone = NULL, *pool_id = NULL, *endpoint = NULL, *level = NULL;
	struct buf errors;
	struct err e;
	int opt;
	long v;
	char *end;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'h': usage(stdout); return 1;
		case OPT_OUTPUT: s->output = optarg; break;
		case OPT_CONFIG: config = optarg; break;
		case OPT_INTERVAL: interval = optarg; break;
		case OPT_PORT: port = optarg; break;
		case OPT_POOL: pool = optarg; break;
		case OPT_ZONE: zone = optarg; break;
		case OPT_POOL_ID: pool_id = optarg; break;
		case OPT_ENDPOINT: endpoint = optarg; break;
		case OPT_ONCE: s->once = true; break;
		case OPT_LOG_LEVEL: level = optarg; break;
		default:
			opts_reject(opt, argv, "sd", &e);
			return fail("%s", e.msg);
		}
	}
	if (opts_no_operands(argc, argv, "sd", &e) == -1)
		return fail("%s", e.msg);
	if (s->output == NULL)
		return fail("%s", "--output FILE is required");
	if (parse_duration_ms(interval, 100, 86400000, &s->interval_ms, NULL) == -1)
		return fail("--interval: \"%s\" is not a duration from 100ms to 24h", interval);
	buf_init(&errors, 64 * 1024);
	if (config != NULL) {
		if (ctl_cfg_load(config, &s->cfg, &errors) != 0) {
			fprintf(stderr, "%.*s", (int)errors.len, errors.p);
			buf_fini(&errors);
			return 2;
		}
	} else {
		/* The seed agent's setup: Exoscale, from its variables. */
		/* The defaults of an empty config, then Exoscale's from the flags. */
		ctl_cfg_load_string("(flags)", "", &s->cfg, &errors);
		snprintf(s->cfg.provider, sizeof(s->cfg.provider), "exoscale");
		snprintf(s->cfg.exoscale.zone, sizeof(s->cfg.exoscale.zone), "%s",
		    zone ? zone : env_or("EXOSCALE_ZONE", "ch-gva-2"));
		snprintf(s->cfg.exoscale.pool_id, sizeof(s->cfg.exoscale.pool_id), "%s",
		    pool_id ? pool_id : env_or("EXOSCALE_INSTANCEPOOL_ID", ""));
		if (endpoint)
			snprintf(s->cfg.exoscale.endpoint, sizeof(s->cfg.exoscale.endpoint), "%s",
			    endpoint);
		if (s->cfg.exoscale.pool_id[0] == '\0') {
			buf_fini(&errors);
			return fail("%s", "no pool: give --pool-id, EXOSCALE_INSTANCEPOOL_ID or "
			    "--config");
		}
	}
	buf_fini(&errors);
	/* Local members live in their controller's table; it publishes them. */
	if (strcmp(s->cfg.provider, "local") == 0)
		return fail("%s", "the local provider's members are published by its controller "
		    "(STATE_DIR/targets-*.json); sd is for the exoscale, aws and exec providers");
	if (config != NULL && (zone || pool_id || endpoint))
		return fail("%s", "--zone, --pool-id and --endpoint go without --config");
	if (pool)
		snprintf(s->cfg.pool, sizeof(s->cfg.pool), "%s", pool);
	port = port ? port : env_or("TARGET_PORT", NULL);
	s->port = s->cfg.metrics_port;
	if (port != NULL) {
		v = strtol(port, &end, 10);
		if (*port == '\0' || *end != '\0' || v < 1 || v > 65535)
			return fail("target port \"%s\" is not 1..65535", port);
		s->port = (int)v;
	}
	if (level != NULL && log_level_parse(level, &s->cfg.log_level) == -1)
		return fail("--log-level: \"%s\" is not error, warn, info or debug", level);
	return 0;
}

static void write_members(struct sd *s, const struct member_list *l)
{
	struct sd_target *t = calloc(l->n + 1, sizeof(*t));
	size_t n = 0;
	char *json;
	struct err e;

	if (t == NULL)
		return;
	/* The controller's rule; sd has no health check of its own. */
	for (size_t i = 0; i < l->n; i++) {
		if (!publish_member(&l->v[i], true))
			continue;
		t[n].id = l->v[i].id;
		t[n].address = l->v[i].address;
		n++;
	}
	json = filesd_render(s->cfg.pool, s->cfg.provider, t, n, s->port);
	free(t);
	if (json == NULL)
		return;
	if (s->last != NULL && strcmp(s->last, json) == 0) {
		free(json);
		s->rc = 0;
		return;
	}
	if (file_write_atomic(s->output, json, strlen(json), &e) == -1) {
		log_msg(LOG_ERROR, "could not write the file", "file=%s error=%s", s->output, e.msg);
		free(json);
		return;
	}
	log_msg(LOG_INFO, "targets written", "file=%s targets=%zu", s->output, n);
	free(s->last);
	s->last = json;
	s->rc = 0;
}

static void on_list(void *owner, const struct prov_result *r)
{
	struct sd *s = owner;

	if (r->list_rc == -1) {
		/* Logged once per cause; the file keeps its last good content. */
		if (strcmp(s->last_error, r->list_e.msg) != 0) {
			log_msg(LOG_ERROR, "provider list failed; keeping the last file",
			    "provider=%s error=%s", s->prov.ops->name, r->list_e.msg);
			snprintf(s->last_error, sizeof(s->last_error), "%s", r->list_e.msg);
		}
	} else {
		if (s->last_error[0] != '\0')
			log_msg(LOG_INFO, "provider list works again", "provider=%s",
			    s->prov.ops->name);
		s->last_error[0] = '\0';
		write_members(s, &r->members);
	}
	if (s->once)
		loop_stop(s->loop);
}

static int64_t tick(struct loop *l, void *ctx)
{
	struct sd *s = ctx;

	(void)l;
	if (prov_runner_busy(s->runner) == 0)
		prov_runner_submit(s->runner, PROV_OP_LIST, 0, NULL);
	return s->interval_ms;
}

int sd_main(int argc, char **argv)
{
	struct sd s;
	struct err e;
	int rc, sfd = -1;

	memset(&s, 0, sizeof(s));
	s.rc = 1;
	rc = parse_flags(argc, argv, &s);
	if (rc != 0) {
		ctl_cfg_fini(&s.cfg);
		return rc == 1 ? 0 : rc;
	}
	log_setup("sd", s.cfg.log_level);
	s.loop = loop_new(&e);
	if (s.loop == NULL || (sfd = sigwatch_start(s.loop, "stopping", &e)) == -1 ||
	    ctl_provider_open(&s.cfg, &s.prov, &e) == -1) {
		fprintf(stderr, "poolscale sd: %s\n", e.msg);
		rc = 2;
		goto out;
	}
	s.runner = prov_runner_new(&s.prov, s.loop, on_list, &s, &e);
	if (s.runner == NULL || (s.timer = loop_add_timer(s.loop, 0, tick, &s)) == 0) {
		fprintf(stderr, "poolscale sd: %s\n", s.runner ? "out of memory" : e.msg);
		rc = 2;
		goto out;
	}
	log_msg(LOG_INFO, "started", "provider=%s output=%s interval_ms=%lld port=%d",
	    s.prov.ops->name, s.output, (long long)s.interval_ms, s.port);
	rc = loop_run(s.loop, &e) == -1 ? 1 : 0;
	if (s.once && rc == 0)
		rc = s.rc;
out:
	prov_runner_free(s.runner);
	if (s.prov.ops != NULL)
		s.prov.ops->free(s.prov.impl);
	if (sfd != -1)
		sigwatch_stop(s.loop, sfd);
	if (s.loop != NULL) {
		if (s.timer)
			loop_cancel_timer(s.loop, s.timer);
		loop_free(s.loop);
	}
	free(s.last);
	ctl_cfg_fini(&s.cfg);
	return rc;
}
