/* etcd_probe: runs a script of common/etcd.h calls against real etcd
 * endpoints and prints one line per call, for tests/system/test_etcd_client.py.
 * Not part of poolscale: a test driver, built by `make all` next to it.
 *
 *   etcd_probe [-t TIMEOUT_MS] [-u USER] [--ca F] [--cert F] [--key F]
 *       URL[,URL...] 'CMD ARG...' ...
 *
 * The password is read from $ETCD_PROBE_PASSWORD (not argv: ps shows it).
 * Commands (L a lease, R a revision: a number or a variable a command set):
 *   grant VAR TTL            -> grant ok id=ID ttl=TTL         (VAR = ID)
 *   keepalive L              -> keepalive ok ttl=TTL
 *   revoke L                 -> revoke ok
 *   get KEY                  -> get ok rev=R found=0|1 [kv]
 *   campaign VAR KEY VAL L [READKEY]
 *                            -> campaign ok won=1 rev=R found=.. [kv]   (VAR = R)
 *                            -> campaign ok won=0 found=1 [kv]          (the holder)
 *   putif GUARD R KEY VAL    -> putif ok ok=1 | putif ok ok=0 found=.. [kv]
 *   delif GUARD R            -> delif ok ok=0|1
 *   pause                    -> pause, then waits for a line on stdin
 * [kv] is "value=V lease=L create=C mod=M". A failed call prints
 * "CMD fail kind=UNREACHABLE|REJECTED|BAD_REPLY msg=..." and the script goes
 * on. Exit 0 when the script ran, 2 on a usage error. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/etcd.h"

#define MAX_VARS 32
#define MAX_WORDS 8

struct var {
	char name[32];
	int64_t v;
};

struct probe {
	struct etcd *c;
	struct var vars[MAX_VARS];
	size_t nvars;
};

static const char *fail_name(enum etcd_fail f)
{
	switch (f) {
	case ETCD_OK: return "OK";
	case ETCD_UNREACHABLE: return "UNREACHABLE";
	case ETCD_REJECTED: return "REJECTED";
	case ETCD_BAD_REPLY: return "BAD_REPLY";
	}
	return "?";
}

static void set_var(struct probe *p, const char *name, int64_t v)
{
	for (size_t i = 0; i < p->nvars; i++)
		if (strcmp(p->vars[i].name, name) == 0) {
			p->vars[i].v = v;
			return;
		}
	if (p->nvars < MAX_VARS) {
		snprintf(p->vars[p->nvars].name, sizeof(p->vars[0].name), "%s", name);
		p->vars[p->nvars++].v = v;
	}
}

/* A number, or a variable's value; exits 2 on neither. */
static int64_t num(const struct probe *p, const char *s)
{
	char *end;

	if ((s[0] >= '0' && s[0] <= '9') || s[0] == '-') {
		long long v = strtoll(s, &end, 10);

		if (*end == '\0')
			return v;
	}
	for (size_t i = 0; i < p->nvars; i++)
		if (strcmp(p->vars[i].name, s) == 0)
			return p->vars[i].v;
	fprintf(stderr, "etcd_probe: %s: not a number or a set variable\n", s);
	exit(2);
}

static void print_kv(const struct etcd_kv *kv)
{
	printf(" found=%d", kv->found ? 1 : 0);
	if (kv->found)
		printf(" value=%.*s lease=%" PRId64 " create=%" PRId64 " mod=%" PRId64,
		    (int)kv->value.len, kv->value.len ? kv->value.p : "", kv->lease,
		    kv->create_revision, kv->mod_revision);
}

static void failed(const struct probe *p, const char *cmd, const struct err *e)
{
	printf("%s fail kind=%s msg=%s\n", cmd, fail_name(etcd_last_fail(p->c)), e->msg);
}

static void usage_words(const char *cmd, size_t n, size_t min, size_t max)
{
	if (n < min || n > max) {
		fprintf(stderr, "etcd_probe: %s takes %zu to %zu arguments\n", cmd, min - 1,
		    max - 1);
		exit(2);
	}
}

static void run(struct probe *p, char *line)
{
	char *w[MAX_WORDS], *save = NULL, *t;
	struct etcd_kv kv;
	struct err e = { "" };
	int64_t a, b;
	size_t n = 0;
	bool flag;

	for (t = strtok_r(line, " ", &save); t != NULL && n < MAX_WORDS;
	    t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	if (n == 0)
		return;
	etcd_kv_init(&kv, 1 << 20);
	if (strcmp(w[0], "grant") == 0) {
		usage_words(w[0], n, 3, 3);
		if (etcd_lease_grant(p->c, num(p, w[2]), &a, &b, &e) == -1)
			failed(p, w[0], &e);
		else {
			set_var(p, w[1], a);
			printf("grant ok id=%" PRId64 " ttl=%" PRId64 "\n", a, b);
		}
	} else if (strcmp(w[0], "keepalive") == 0) {
		usage_words(w[0], n, 2, 2);
		if (etcd_lease_keepalive(p->c, num(p, w[1]), &a, &e) == -1)
			failed(p, w[0], &e);
		else
			printf("keepalive ok ttl=%" PRId64 "\n", a);
	} else if (strcmp(w[0], "revoke") == 0) {
		usage_words(w[0], n, 2, 2);
		if (etcd_lease_revoke(p->c, num(p, w[1]), &e) == -1)
			failed(p, w[0], &e);
		else
			printf("revoke ok\n");
	} else if (strcmp(w[0], "get") == 0) {
		usage_words(w[0], n, 2, 2);
		if (etcd_get(p->c, w[1], &kv, &a, &e) == -1)
			failed(p, w[0], &e);
		else {
			printf("get ok rev=%" PRId64, a);
			print_kv(&kv);
			printf("\n");
		}
	} else if (strcmp(w[0], "campaign") == 0) {
		usage_words(w[0], n, 5, 6);
		if (etcd_create_if_absent(p->c, w[2], w[3], num(p, w[4]), n == 6 ? w[5] : NULL,
		    &flag, &a, &kv, &e) == -1)
			failed(p, w[0], &e);
		else {
			if (flag)
				set_var(p, w[1], a);
			printf("campaign ok won=%d", flag ? 1 : 0);
			if (flag)
				printf(" rev=%" PRId64, a);
			print_kv(&kv);
			printf("\n");
		}
	} else if (strcmp(w[0], "putif") == 0) {
		usage_words(w[0], n, 5, 5);
		if (etcd_put_if(p->c, w[1], num(p, w[2]), w[3], w[4], strlen(w[4]), &flag, &kv,
		    &e) == -1)
			failed(p, w[0], &e);
		else {
			printf("putif ok ok=%d", flag ? 1 : 0);
			if (!flag)
				print_kv(&kv);
			printf("\n");
		}
	} else if (strcmp(w[0], "delif") == 0) {
		usage_words(w[0], n, 3, 3);
		if (etcd_delete_if(p->c, w[1], num(p, w[2]), &flag, &e) == -1)
			failed(p, w[0], &e);
		else
			printf("delif ok ok=%d\n", flag ? 1 : 0);
	} else if (strcmp(w[0], "pause") == 0) {
		char buf[16];

		printf("pause\n");
		fflush(stdout);
		if (fgets(buf, sizeof(buf), stdin) == NULL)
			exit(2);
	} else {
		fprintf(stderr, "etcd_probe: unknown command %s\n", w[0]);
		exit(2);
	}
	etcd_kv_fini(&kv);
	fflush(stdout);
}

static void copy_opt(char *dst, size_t cap, const char *v)
{
	if (v == NULL || strlen(v) >= cap) {
		fprintf(stderr, "etcd_probe: option value missing or too long\n");
		exit(2);
	}
	memcpy(dst, v, strlen(v) + 1);
}

int main(int argc, char **argv)
{
	struct etcd_cfg cfg;
	struct probe p = { 0 };
	struct err e;
	const char *pw = getenv("ETCD_PROBE_PASSWORD");
	char *eps, *save = NULL, *t;
	int i = 1;

	memset(&cfg, 0, sizeof(cfg));
	cfg.timeout_ms = 2000;
	for (; i < argc && strncmp(argv[i], "-", 1) == 0; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "-t") == 0)
			cfg.timeout_ms = v ? strtoll(v, NULL, 10) : 0;
		else if (strcmp(argv[i], "-u") == 0)
			copy_opt(cfg.username, sizeof(cfg.username), v);
		else if (strcmp(argv[i], "--ca") == 0)
			copy_opt(cfg.ca_file, sizeof(cfg.ca_file), v);
		else if (strcmp(argv[i], "--cert") == 0)
			copy_opt(cfg.cert_file, sizeof(cfg.cert_file), v);
		else if (strcmp(argv[i], "--key") == 0)
			copy_opt(cfg.key_file, sizeof(cfg.key_file), v);
		else {
			fprintf(stderr, "etcd_probe: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: etcd_probe [-t MS] [-u USER] [--ca F] [--cert F] "
		    "[--key F] URL[,URL...] 'CMD ARG...' ...\n");
		return 2;
	}
	if (pw != NULL)
		copy_opt(cfg.password, sizeof(cfg.password), pw);
	eps = argv[i++];
	for (t = strtok_r(eps, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (cfg.nendpoints == ETCD_MAX_ENDPOINTS)
			return 2;
		copy_opt(cfg.endpoints[cfg.nendpoints++], sizeof(cfg.endpoints[0]), t);
	}
	p.c = etcd_new(&cfg, &e);
	if (p.c == NULL) {
		fprintf(stderr, "etcd_probe: %s\n", e.msg);
		return 2;
	}
	for (; i < argc; i++)
		run(&p, argv[i]);
	etcd_free(p.c);
	return 0;
}
