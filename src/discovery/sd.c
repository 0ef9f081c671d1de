#include "discovery/sd.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/logonce.h"
#include "common/loop.h"
#include "common/opts.h"
#include "common/parse.h"
#include "common/sigwatch.h"
#include "controller/config.h"
#include "discovery/filesd.h"
#include "discovery/publish.h"
#include "provider/endpoint.h"
#include "provider/exo_json.h"
#include "provider/exo_zone.h"
#include "provider/runner.h"

/* The seed tool's default file (prometheus-sd-exoscale-instance-pools). */
#define SD_SEED_FILE "/var/run/prometheus-sd-exoscale-instance-pools/config.json"

static void usage(FILE *f)
{
	fputs(
"Usage: poolscale sd --output FILE [OPTIONS]\n"
"\n"
"Service discovery alone: reads a pool's members from a provider every\n"
"interval and writes the running ones as a Prometheus file_sd file\n"
"(temp file, fsync, rename; [] when none). While the provider fails, the\n"
"last good file stays as it is; when there is none yet, [] is written.\n"
"For users who keep another autoscaler.\n"
"\n"
"Options:\n"
"  --output FILE        the file_sd file to write\n"
"  --config FILE        take the provider and pool from a controller config\n"
"                       (exoscale, aws, linode or exec; linode: its\n"
"                       NodeBalancer is left to the controller); without\n"
"                       it, Exoscale from flags and the environment\n"
"  --interval DURATION  how often to read the provider (default 10s)\n"
"  --target-port N      port of every target (default TARGET_PORT, else the\n"
"                       config's metrics_port, else 9100)\n"
"  --pool NAME          the pool label (default the config's pool, else web)\n"
"  --zone ZONE          Exoscale zone (default EXOSCALE_ZONE, else ch-gva-2)\n"
"  --pool-id UUID       Exoscale instance pool (default EXOSCALE_INSTANCEPOOL_ID)\n"
"  --endpoint URL       Exoscale API v2 endpoint (default\n"
"                       https://api-ZONE.exoscale.com/v2; a v1 one is refused)\n"
"  --once               write once and exit: 0 written, 1 the provider failed\n"
"  --log-level LEVEL    error, warn, info or debug (default info)\n"
"  -h, --help           this text\n"
"\n"
"The flags of prometheus-sd-exoscale-instance-pools (and of\n"
"exoscale-grafana-autoscaler), so either drops out by changing the command:\n"
"  --instance-pool-id UUID     as --pool-id\n"
"  --exoscale-zone-id UUID     the zone by its v1 UUID (at-vie-1, bg-sof-1,\n"
"                              ch-dk-2, ch-gva-2, de-fra-1, de-muc-1)\n"
"  --exoscale-endpoint URL     as --endpoint: API v2 only\n"
"  --prometheus-file FILE      as --output; with these flags it defaults to\n"
"                              " SD_SEED_FILE "\n"
"  --prometheus-port N         as --target-port\n"
"  --exoscale-api-key KEY      accepted for the drop-in, but other users can\n"
"  --exoscale-api-secret SECRET  read them in ps until sd clears them:\n"
"                              prefer the variables below\n"
"\n"
"Exoscale credentials come from EXOSCALE_API_KEY and EXOSCALE_API_SECRET (or\n"
"EXOSCALE_KEY and EXOSCALE_SECRET, as the seed agent reads them), or from\n"
"the files the config names. Exits 0 on SIGTERM or SIGINT.\n", f);
}

enum {
	OPT_OUTPUT = 256, OPT_CONFIG, OPT_INTERVAL, OPT_PORT, OPT_POOL, OPT_ZONE, OPT_POOL_ID,
	OPT_ENDPOINT, OPT_ONCE, OPT_LOG_LEVEL,
	/* The seeds' tools' flags, from here on. */
	OPT_SEED_POOL_ID, OPT_SEED_ZONE_ID, OPT_SEED_ENDPOINT, OPT_SEED_FILE, OPT_SEED_PORT,
	OPT_SEED_KEY, OPT_SEED_SECRET,
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
	{ "instance-pool-id", required_argument, NULL, OPT_SEED_POOL_ID },
	{ "exoscale-zone-id", required_argument, NULL, OPT_SEED_ZONE_ID },
	{ "exoscale-endpoint", required_argument, NULL, OPT_SEED_ENDPOINT },
	{ "prometheus-file", required_argument, NULL, OPT_SEED_FILE },
	{ "prometheus-port", required_argument, NULL, OPT_SEED_PORT },
	{ "exoscale-api-key", required_argument, NULL, OPT_SEED_KEY },
	{ "exoscale-api-secret", required_argument, NULL, OPT_SEED_SECRET },
	{ NULL, 0, NULL, 0 },
};

struct sd {
	struct ctl_cfg cfg;
	const char *output;
	int64_t interval_ms;
	int port;
	bool once;
	bool secret_flag;		/* warn: it was on the command line */
	int rc;				/* --once: the exit status */
	struct loop *loop;
	struct provider prov;
	struct prov_runner *runner;
	char *last;			/* what the file holds */
	char last_error[192];
	struct log_once write_log;
	uint64_t timer;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "poolscale sd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : dflt;
}

/* The Exoscale flags as given; each *_flag is the name used, for errors. */
struct exo_flags {
	const char *zone, *zone_id, *pool_id, *endpoint;
	const char *pool_id_flag, *endpoint_flag;
	char *key, *secret;
};

static bool exo_flags_given(const struct exo_flags *f)
{
	return f->zone || f->zone_id || f->pool_id || f->endpoint || f->key || f->secret;
}

/* A credential off the command line: into our environment, where the
 * provider reads it, then blanked in argv, so that ps shows it only until
 * here. */
static int take_credential(const char *var, char *arg)
{
	if (setenv(var, arg, 1) == -1)
		return fail("%s: %s", var, strerror(errno));
	memset(arg, 'x', strlen(arg));
	return 0;
}

/* Without --config: the defaults of an empty config, then Exoscale from
 * the flags, else the seed agent's variables. */
static int exoscale_from_flags(struct sd *s, struct exo_flags *f)
{
	struct exo_cfg *x = &s->cfg.exoscale;
	const char *zone = f->zone, *zone_from = "--zone";
	const char *pool_id = f->pool_id, *pool_id_from = f->pool_id_flag;
	struct buf errors;
	struct err e;

	buf_init(&errors, 4096);
	ctl_cfg_load_string("(flags)", "", &s->cfg, &errors);
	buf_fini(&errors);
	snprintf(s->cfg.provider, sizeof(s->cfg.provider), "exoscale");
	if (f->zone != NULL && f->zone_id != NULL)
		return fail("give --zone or --exoscale-zone-id, not both");
	if (f->zone_id != NULL) {
		if (exo_zone_from_id(f->zone_id, x->zone, sizeof(x->zone), &e) == -1)
			return fail("--exoscale-zone-id: %s", e.msg);
	} else {
		if (zone == NULL) {
			zone = env_or("EXOSCALE_ZONE", NULL);
			zone_from = "EXOSCALE_ZONE";
		}
		/* Checked whole, never cut to fit: a cut name is another host. */
		if (zone != NULL && exo_zone_check(zone, &e) == -1)
			return fail("%s: %s", zone_from, e.msg);
		if (zone != NULL)
			snprintf(x->zone, sizeof(x->zone), "%s", zone);
	}
	if (pool_id == NULL) {
		pool_id = env_or("EXOSCALE_INSTANCEPOOL_ID", NULL);
		pool_id_from = "EXOSCALE_INSTANCEPOOL_ID";
	}
	if (pool_id == NULL)
		return fail("no pool: give --pool-id (or --instance-pool-id), "
		    "EXOSCALE_INSTANCEPOOL_ID or --config");
	if (!exo_is_uuid(pool_id))
		return fail("%s: \"%.64s\" is not an instance pool UUID (lower case)", pool_id_from,
		    pool_id);
	snprintf(x->pool_id, sizeof(x->pool_id), "%s", pool_id);
	if (f->endpoint != NULL) {
		if (exo_endpoint_check(f->endpoint, &e) == -1)
			return fail("%s: %s", f->endpoint_flag, e.msg);
		if (strlen(f->endpoint) >= sizeof(x->endpoint))
			return fail("%s: longer than %zu characters", f->endpoint_flag,
			    sizeof(x->endpoint) - 1);
		snprintf(x->endpoint, sizeof(x->endpoint), "%s", f->endpoint);
	}
	if ((f->key != NULL && take_credential("EXOSCALE_API_KEY", f->key) != 0) ||
	    (f->secret != NULL && take_credential("EXOSCALE_API_SECRET", f->secret) != 0))
		return 2;
	s->secret_flag = f->secret != NULL;
	return 0;
}

static int parse_flags(int argc, char **argv, struct sd *s)
{
	const char *config = NULL, *interval = "10s", *port = NULL, *pool = NULL;
	const char *level = NULL;
	struct exo_flags xf = { 0 };
	bool seed = false;
	struct buf errors;
	struct err e;
	int opt, rc;
	long v;
	char *end;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		seed |= opt >= OPT_SEED_POOL_ID;
		switch (opt) {
		case 'h': usage(stdout); return 1;
		case OPT_OUTPUT: case OPT_SEED_FILE: s->output = optarg; break;
		case OPT_CONFIG: config = optarg; break;
		case OPT_INTERVAL: interval = optarg; break;
		case OPT_PORT: case OPT_SEED_PORT: port = optarg; break;
		case OPT_POOL: pool = optarg; break;
		case OPT_ZONE: xf.zone = optarg; break;
		case OPT_SEED_ZONE_ID: xf.zone_id = optarg; break;
		case OPT_POOL_ID: case OPT_SEED_POOL_ID:
			xf.pool_id = optarg;
			xf.pool_id_flag = opt == OPT_POOL_ID ? "--pool-id" : "--instance-pool-id";
			break;
		case OPT_ENDPOINT: case OPT_SEED_ENDPOINT:
			xf.endpoint = optarg;
			xf.endpoint_flag = opt == OPT_ENDPOINT ? "--endpoint" : "--exoscale-endpoint";
			break;
		case OPT_SEED_KEY: xf.key = optarg; break;
		case OPT_SEED_SECRET: xf.secret = optarg; break;
		case OPT_ONCE: s->once = true; break;
		case OPT_LOG_LEVEL: level = optarg; break;
		default:
			opts_reject(opt, argv, "sd", &e);
			return fail("%s", e.msg);
		}
	}
	if (opts_no_operands(argc, argv, "sd", &e) == -1)
		return fail("%s", e.msg);
	/* The seed tool wrote here unless told otherwise; so do we, in its place. */
	if (s->output == NULL && seed)
		s->output = SD_SEED_FILE;
	if (s->output == NULL)
		return fail("--output FILE is required");
	if (parse_duration_ms(interval, 100, 86400000, &s->interval_ms, NULL) == -1)
		return fail("--interval: \"%s\" is not a duration from 100ms to 24h", interval);
	if (config != NULL && exo_flags_given(&xf))
		return fail("the Exoscale flags (--zone, --pool-id, --endpoint, --instance-pool-id, "
		    "--exoscale-*) go without --config");
	if (config != NULL) {
		buf_init(&errors, 64 * 1024);
		rc = ctl_cfg_load(config, &s->cfg, &errors);
		if (rc != 0)
			fprintf(stderr, "%.*s", (int)errors.len, errors.p);
		buf_fini(&errors);
		if (rc != 0)
			return 2;
	} else if ((rc = exoscale_from_flags(s, &xf)) != 0) {
		return rc;
	}
	/* Local members live in their controller's table; it publishes them. */
	if (strcmp(s->cfg.provider, "local") == 0)
		return fail("%s", "the local provider's members are published by its controller "
		    "(STATE_DIR/targets-*.json); sd is for the exoscale, aws, linode and exec "
		    "providers");
	/* sd reads; the NodeBalancer is its controller's to keep. */
	s->cfg.linode.read_only = true;
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
		/* Retried every interval: said once per cause, and on recovery. */
		log_once_fail(&s->write_log, LOG_ERROR, "could not write the file", e.msg);
		free(json);
		return;
	}
	log_once_ok(&s->write_log, "the file is written again");
	log_msg(LOG_INFO, "targets written", "file=%s targets=%zu", s->output, n);
	free(s->last);
	s->last = json;
	s->rc = 0;
}

/* The file keeps its last good content. With none yet (not from this run,
 * not from an earlier one), [] is written, so that Prometheus reads a valid
 * file until the provider answers. Logged once per cause, saying which. */
static void list_failed(struct sd *s, const struct err *le)
{
	const char *what = "provider list failed; keeping the last file";

	if (s->last == NULL) {
		what = "provider list failed; keeping the file from before this start";
		if (access(s->output, F_OK) == -1) {
			struct member_list none = { 0 };

			write_members(s, &none);
			s->rc = 1;		/* --once: the provider still failed */
			what = s->last != NULL ?
			    "provider list failed; wrote an empty target list until it answers" :
			    "provider list failed; no file written yet";
		}
	}
	if (strcmp(s->last_error, le->msg) == 0)
		return;
	log_msg(LOG_ERROR, what, "provider=%s error=%s", s->prov.ops->name, le->msg);
	snprintf(s->last_error, sizeof(s->last_error), "%s", le->msg);
}

static void on_list(void *owner, const struct prov_result *r)
{
	struct sd *s = owner;

	if (r->list_rc == -1) {
		list_failed(s, &r->list_e);
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
	if (s.secret_flag)
		log_msg(LOG_WARN, "the API secret came from --exoscale-api-secret; until sd "
		    "cleared it, other users could read it (ps): prefer EXOSCALE_API_SECRET", NULL);
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
