#include "cli/cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fetch.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/net.h"
#include "common/opts.h"
#include "controller/cmd.h"
#include "controller/controller.h"
#include "provider/local.h"

#define CLI_DEFAULT_API "http://127.0.0.1:9900"

struct cli_opts {
	const char *api;
	const char *token_file;
	const char *pool;		/* --pool NAME; NULL: the only one */
	bool json;
	char token[256];
};

static void api_usage(FILE *f, const char *cmd, const char *args, const char *what)
{
	fprintf(f,
	    "Usage: poolscale %s %s[--pool NAME] [--api URL] [--token-file FILE] [--json]\n"
	    "\n%s\n\n"
	    "  --pool NAME        the pool, when the controller runs several (pools:)\n"
	    "  --api URL          the controller's API (default $POOLSCALE_API or "
	    CLI_DEFAULT_API ")\n"
	    "  --token-file FILE  bearer token (default $POOLSCALE_API_TOKEN)\n"
	    "  --json             print the API's JSON as it is\n"
	    "  -h, --help         this text\n", cmd, args, what);
}

/* The path of a pool's route: under /api/v1/pools/NAME/ with --pool,
 * else the single-pool one. */
static const char *pool_path(const struct cli_opts *o, const char *sub, const char *old,
    char *dst, size_t cap)
{
	if (o->pool == NULL)
		return old;
	snprintf(dst, cap, "/api/v1/pools/%s/%s", o->pool, sub);
	return dst;
}

/* 0, 1 after --help, 2 on bad usage; leftover arguments start at *rest. */
static int parse_api_opts(int argc, char **argv, struct cli_opts *o, int *rest,
    const char *cmd, const char *args, const char *what)
{
	static const struct option opts[] = {
		{ "api", required_argument, NULL, 'a' },
		{ "token-file", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "pool", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env;
	struct err bad;
	int opt;

	memset(o, 0, sizeof(*o));
	o->api = getenv("POOLSCALE_API") ? getenv("POOLSCALE_API") : CLI_DEFAULT_API;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': o->api = optarg; break;
		case 't': o->token_file = optarg; break;
		case 'j': o->json = true; break;
		case 'p': o->pool = optarg; break;
		case 'h': api_usage(stdout, cmd, args, what); return 1;
		default:
			opts_reject(opt, argv, cmd, &bad);
			fprintf(stderr, "poolscale %s: %s\n", cmd, bad.msg);
			return 2;
		}
	}
	*rest = optind;
	if (o->pool != NULL && !ctl_name_ok(o->pool, sizeof(((struct ctl_cfg *)0)->pool))) {
		fprintf(stderr, "poolscale %s: --pool: \"%s\" is not a pool name (letters, digits, "
		    "- and _)\n", cmd, o->pool);
		return 2;
	}
	if (o->token_file) {
		struct buf b;
		struct err e;

		buf_init(&b, sizeof(o->token) - 1);
		if (file_read_all(o->token_file, &b, NULL, &e) == -1) {
			fprintf(stderr, "poolscale %s: --token-file: %s\n", cmd, e.msg);
			buf_fini(&b);
			return 2;
		}
		while (b.len > 0 && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == ' '))
			b.len--;
		memcpy(o->token, b.p ? b.p : "", b.len);
		o->token[b.len] = '\0';
		buf_fini(&b);
	} else if ((env = getenv("POOLSCALE_API_TOKEN")) != NULL) {
		snprintf(o->token, sizeof(o->token), "%s", env);
	}
	return 0;
}

/* Performs one request; *status is the HTTP status or 0 when unreachable,
 * which is reported on stderr unless cmd is NULL. */
static int call(const struct cli_opts *o, const char *method, const char *path,
    const char *body, long *status, struct buf *out, const char *cmd)
{
	char url[1024];
	struct err e = { "" };
	struct fetch_req r = { .method = method, .url = url, .token = o->token,
		.json_body = body, .timeout_ms = 10000 };

	snprintf(url, sizeof(url), "%s%s", o->api, path);
	if (fetch(&r, status, out, &e) == -1) {
		if (cmd != NULL)
			fprintf(stderr, "poolscale %s: %s\n", cmd, e.msg);
		return -1;
	}
	return 0;
}

/* Prints an API error and returns the exit code: 2 for 400, 1 otherwise. */
static int api_error(const char *cmd, long status, const struct buf *b)
{
	json_t *v = json_loadb(b->p ? b->p : "", b->len, 0, NULL);
	const char *msg = json_string_value(json_object_get(v, "error"));

	json_t *pools = json_object_get(v, "pools"), *p;
	size_t i;

	fprintf(stderr, "poolscale %s: HTTP %ld: %s\n", cmd, status, msg ? msg : "(no detail)");
	if (json_is_array(pools)) {
		fprintf(stderr, "poolscale %s: give --pool NAME, one of:", cmd);
		json_array_foreach(pools, i, p)
			fprintf(stderr, " %s", json_string_value(p));
		fputc('\n', stderr);
	}
	json_decref(v);
	return status == 400 ? 2 : 1;
}

static int get_json(const struct cli_opts *o, const char *path, const char *cmd,
    json_t **out, struct buf *b)
{
	long status;

	if (call(o, "GET", path, NULL, &status, b, cmd) == -1)
		return 1;
	if (status != 200)
		return api_error(cmd, status, b);
	if (o->json) {
		fwrite(b->p, 1, b->len, stdout);
		putchar('\n');
		return -1;	/* printed */
	}
	*out = json_loadb(b->p, b->len, 0, NULL);
	if (*out == NULL) {
		fprintf(stderr, "poolscale %s: the API's answer is not JSON\n", cmd);
		return 1;
	}
	return 0;
}

/* The shared start of `status` and `events`: options, one GET of the
 * pool's sub path. Returns -1 with *v set to print, or the exit code
 * (--help, --json, errors). */
static int get_command(int argc, char **argv, const char *cmd, const char *what,
    const char *sub, const char *old, struct cli_opts *o, json_t **v)
{
	struct buf b;
	char path[160];
	int rest, rc;

	rc = parse_api_opts(argc, argv, o, &rest, cmd, "", what);
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	if (rest != argc) {
		fprintf(stderr, "poolscale %s: unexpected argument \"%s\"\n", cmd, argv[rest]);
		return 2;
	}
	buf_init(&b, 4 << 20);
	rc = get_json(o, pool_path(o, sub, old, path, sizeof(path)), cmd, v, &b);
	buf_fini(&b);
	return rc == 0 ? -1 : rc == -1 ? 0 : rc;
}

/* Who leads, when controllers run as a highly available group. */
static void print_ha(json_t *ha)
{
	const char *leader = json_string_value(json_object_get(ha, "leader_name"));

	if (!json_is_object(ha))
		return;
	if (json_is_true(json_object_get(ha, "leader")))
		printf("ha: %s leads (this controller; lease %.1f s left)\n",
		    json_string_value(json_object_get(ha, "name")),
		    json_number_value(json_object_get(ha, "lease_seconds_left")));
	else if (leader != NULL && *leader != '\0')
		printf("ha: %s leads; this controller (%s) follows\n", leader,
		    json_string_value(json_object_get(ha, "name")));
	else
		printf("ha: no leader now; this controller (%s) holds%s%s\n",
		    json_string_value(json_object_get(ha, "name")),
		    json_is_true(json_object_get(ha, "etcd_ok")) ? "" : ": etcd: ",
		    json_is_true(json_object_get(ha, "etcd_ok")) ? "" :
		    json_string_value(json_object_get(ha, "etcd_error")));
}

static void print_status(json_t *v)
{
	json_t *m;
	size_t i;

	printf("pool %s (%s): desired %lld, min %lld, max %lld%s\n",
	    json_string_value(json_object_get(v, "pool")),
	    json_string_value(json_object_get(v, "provider")),
	    json_integer_value(json_object_get(v, "desired")),
	    json_integer_value(json_object_get(v, "min")),
	    json_integer_value(json_object_get(v, "max")),
	    json_is_true(json_object_get(v, "dry_run")) ? " [dry run]" : "");
	printf("%-10s %-16s %-9s %8s %6s\n", "ID", "ADDRESS", "STATE", "AGE", "FAILS");
	json_array_foreach(json_object_get(v, "members"), i, m)
		printf("%-10s %-16s %-9s %7llds %6lld\n",
		    json_string_value(json_object_get(m, "id")),
		    json_string_value(json_object_get(m, "address")),
		    json_string_value(json_object_get(m, "state")),
		    json_integer_value(json_object_get(m, "age_s")),
		    json_integer_value(json_object_get(m, "health_fails")));
	printf("last decision: %s\n",
	    json_string_value(json_object_get(json_object_get(v, "last_decision"), "reason")));
	{
		json_t *p = json_object_get(v, "policy");
		const char *why = json_string_value(json_object_get(p, "reason"));

		printf("policy: %s%s%s%s\n", json_string_value(json_object_get(p, "kind")),
		    why && *why ? " (" : "", why && *why ? why : "", why && *why ? ")" : "");
	}
	json_array_foreach(json_object_get(v, "schedule"), i, m)
		printf("schedule %s: %s\n", json_string_value(json_object_get(m, "name")),
		    json_is_true(json_object_get(m, "active")) ? "open" : "closed");
	print_ha(json_object_get(v, "ha"));
}

/* Without --pool on a controller of several pools: each in turn. */
static int status_all(struct cli_opts *o, json_t *list)
{
	json_t *p, *all = json_array();
	bool json = o->json;
	struct buf b;
	size_t i;
	int rc = 0;

	o->json = false;
	buf_init(&b, 4 << 20);
	json_array_foreach(json_object_get(list, "pools"), i, p) {
		char path[160];
		json_t *v = NULL;

		snprintf(path, sizeof(path), "/api/v1/pools/%s/status",
		    json_string_value(json_object_get(p, "name")));
		buf_reset(&b);
		rc = get_json(o, path, "status", &v, &b);
		if (rc != 0)
			break;
		if (!json) {
			if (i > 0)
				putchar('\n');
			print_status(v);
		}
		json_array_append_new(all, v);
	}
	buf_fini(&b);
	if (rc == 0 && json) {
		char *text = json_dumps(json_pack("{s:O}", "pools", all), JSON_COMPACT);

		puts(text ? text : "{}");
		free(text);
	}
	json_decref(all);
	return rc;
}

int cli_status_main(int argc, char **argv)
{
	struct cli_opts o;
	json_t *v = NULL;
	struct buf b;
	char path[160];
	bool json;
	int rest, rc;

	rc = parse_api_opts(argc, argv, &o, &rest, "status", "",
	    "Shows a pool: sizes, members with state, address and age, last decision,\n"
	    "schedule windows open or closed, and who leads when controllers share etcd.\n"
	    "Without --pool on a controller of several pools: each pool in turn.");
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	if (rest != argc) {
		fprintf(stderr, "poolscale status: unexpected argument \"%s\"\n", argv[rest]);
		return 2;
	}
	buf_init(&b, 4 << 20);
	json = o.json;
	if (o.pool == NULL) {
		o.json = false;
		rc = get_json(&o, "/api/v1/pools", "status", &v, &b);
		o.json = json;
		if (rc == 0 && json_array_size(json_object_get(v, "pools")) != 1) {
			rc = status_all(&o, v);
			json_decref(v);
			buf_fini(&b);
			return rc;
		}
		json_decref(v);
		v = NULL;
		buf_reset(&b);
	}
	if (rc == 0)
		rc = get_json(&o, pool_path(&o, "status", "/api/v1/status", path, sizeof(path)),
		    "status", &v, &b);
	buf_fini(&b);
	if (rc != 0)
		return rc == -1 ? 0 : rc;
	print_status(v);
	json_decref(v);
	return 0;
}

int cli_events_main(int argc, char **argv)
{
	json_t *v = NULL, *ev;
	size_t i;
	struct cli_opts o;
	int rc = get_command(argc, argv, "events",
	    "Shows a pool's recent decisions and actions, oldest first.",
	    "events", "/api/v1/events", &o, &v);

	if (rc != -1)
		return rc;
	json_array_foreach(json_object_get(v, "events"), i, ev) {
		time_t t = (time_t)json_real_value(json_object_get(ev, "time"));
		struct tm tm;
		char ts[32];

		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%s  %-13s %s\n", ts, json_string_value(json_object_get(ev, "kind")),
		    json_string_value(json_object_get(ev, "message")));
	}
	json_decref(v);
	return 0;
}

int cli_scale_main(int argc, char **argv)
{
	struct cli_opts o;
	struct buf b;
	char body[64], path[160], *end;
	long status, n;
	int rest, rc;

	rc = parse_api_opts(argc, argv, &o, &rest, "scale", "N ",
	    "Sets a pool's desired size to N (absolute; within [min, max]).");
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	if (rest != argc - 1) {
		fprintf(stderr, "poolscale scale: give the size, as in: poolscale scale 3\n");
		return 2;
	}
	n = strtol(argv[rest], &end, 10);
	if (*argv[rest] == '\0' || *end != '\0' || n < 0 || n > 100000) {
		fprintf(stderr, "poolscale scale: \"%s\" is not a size\n", argv[rest]);
		return 2;
	}
	snprintf(body, sizeof(body), "{\"size\": %ld}", n);
	buf_init(&b, 1 << 16);
	if (call(&o, "PUT", pool_path(&o, "size", "/api/v1/pool/size", path, sizeof(path)), body,
	    &status, &b, "scale") == -1) {
		buf_fini(&b);
		return 1;
	}
	if (status != 200) {
		rc = api_error("scale", status, &b);
		buf_fini(&b);
		return rc;
	}
	if (o.json) {
		fwrite(b.p, 1, b.len, stdout);
		putchar('\n');
	} else {
		printf("desired size set to %ld\n", n);
	}
	buf_fini(&b);
	return 0;
}

static void pool_usage(FILE *f)
{
	fputs("Usage: poolscale pool destroy --config FILE [--pool NAME] [--state-dir DIR]\n"
	    "\n"
	    "Stops every instance a local pool ever started (those in its table, and\n"
	    "any process still writing to one of its instance logs) and clears its\n"
	    "state: the local cloud's \"terraform destroy\". Every local pool of the\n"
	    "file, or the one --pool names. Stop the controller first, or it starts\n"
	    "the pool again.\n"
	    "\n"
	    "  --config FILE      the controller's configuration\n"
	    "  --pool NAME        only this pool (a file with pools:)\n"
	    "  --state-dir DIR    the state directory, when the controller ran with\n"
	    "                     --state-dir (overrides state_dir)\n"
	    "  -h, --help         this text\n", f);
}

/* Destroys one local pool: its instances, its saved size, its targets. */
static int destroy_pool(struct ctl_cfg *cfg)
{
	struct provider p;
	struct err e;
	char lock[1200], path[1200];
	int rc = 1, lock_fd;

	ctl_lock_path(cfg, lock, sizeof(lock));
	if (file_mkdirs(cfg->state_dir, &e) == -1 || (lock_fd = file_lock(lock, &e)) == -1) {
		fprintf(stderr, "poolscale pool destroy: %s (is the controller running? stop "
		    "it first, or it starts the pool again)\n", e.msg);
		return 1;
	}
	ctl_self_binary(cfg);
	if (prov_local_new(&cfg->local, &p, &e) == -1) {
		fprintf(stderr, "poolscale pool destroy: %s\n", e.msg);
		goto out;
	}
	if (p.ops->destroy(p.impl, &e) == -1)
		fprintf(stderr, "poolscale pool destroy: %s\n", e.msg);
	else
		rc = 0;
	p.ops->free(p.impl);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/controller.json", cfg->state_dir);
		remove(path);
		for (int i = 0; i < cfg->nsets; i++) {
			ctl_sd_path(cfg, i, path, sizeof(path));
			if (file_write_atomic(path, "[]", 2, &e) == -1)
				fprintf(stderr, "poolscale pool destroy: %s\n", e.msg);
		}
		printf("pool %s destroyed\n", cfg->pool);
	}
out:
	close(lock_fd);
	return rc;
}

int cli_pool_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "pool", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_overrides ov = { 0 };
	struct ctl_pools *pools;
	const char *file = NULL, *only = NULL;
	int rc, opt, done = 0;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		pool_usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "destroy") != 0) {
		pool_usage(stderr);
		return 2;
	}
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': file = optarg; break;
		case 's': ov.state_dir = optarg; break;
		case 'p': only = optarg; break;
		case 'h': pool_usage(stdout); return 0;
		case ':':
			fprintf(stderr, "poolscale pool destroy: %s needs a value\n",
			    argv[optind]);
			return 2;
		default:
			fprintf(stderr, "poolscale pool destroy: unknown option %s (see --help)\n",
			    argv[optind]);
			return 2;
		}
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "poolscale pool destroy: unexpected argument \"%s\"\n",
		    argv[optind + 1]);
		return 2;
	}
	if (file == NULL) {
		pool_usage(stderr);
		return 2;
	}
	pools = calloc(1, sizeof(*pools));
	if (pools == NULL)
		return 1;
	rc = ctl_load_config(file, &ov, pools);
	if (rc != 0)
		goto out;
	if (only != NULL && ctl_pools_find(pools, only) == NULL) {
		fprintf(stderr, "poolscale pool destroy: --pool: %s has no pool named \"%s\"\n",
		    file, only);
		rc = 2;
		goto out;
	}
	log_setup("pool", LOG_INFO);
	for (size_t i = 0; i < pools->n; i++) {
		struct ctl_cfg *cfg = pools->pool[i];

		if (only != NULL && strcmp(cfg->pool, only) != 0)
			continue;
		/* A cloud's machines belong to the tool that made the pool: asked
		 * for by name, that is an error; among a file's pools, a note. */
		if (strcmp(cfg->provider, "local") != 0) {
			fprintf(stderr, "poolscale pool destroy: pool %s: %s the %s provider does not "
			    "own its machines; tear the pool down with the tool that made it "
			    "(terraform destroy, see docs/cloud.md)\n", cfg->pool,
			    only != NULL || pools->n == 1 ? "" : "skipped:", cfg->provider);
			if (only != NULL || pools->n == 1)
				rc = 1;
			continue;
		}
		if (destroy_pool(cfg) != 0)
			rc = 1;
		done++;
	}
	if (rc == 0 && done == 0) {
		fprintf(stderr, "poolscale pool destroy: %s has no local pool\n", file);
		rc = 1;
	}
out:
	ctl_pools_fini(pools);
	free(pools);
	return rc;
}
