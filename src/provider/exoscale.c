#include "provider/exoscale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/clock.h"
#include "provider/endpoint.h"
#include "provider/exo_json.h"
#include "provider/exo_sign.h"
#include "provider/exo_zone.h"

#define EXO_EXPIRY_S 600	/* what egoscale and python-exoscale use */
#define EXO_FIRST_POLL_MS 250

struct exo {
	struct exo_cfg cfg;
	char key[128];
	char secret[256];
	char base[300];			/* endpoint, no trailing slash */
	struct cloud_http http;
};

void exo_cfg_default(struct exo_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->zone, sizeof(c->zone), "ch-gva-2");
	snprintf(c->address, sizeof(c->address), "public");
	c->operation_timeout_ms = 10 * 60 * 1000;
	c->operation_poll_ms = 3000;
	cloud_http_cfg_default(&c->http);
}

/* The URL's path and query, as the signer wants them. */
static void split_url(const char *url, char *path, size_t pcap, const char **query)
{
	const char *p = strstr(url, "://");
	const char *q;

	p = p ? strchr(p + 3, '/') : NULL;
	if (p == NULL)
		p = "/";
	q = strchr(p, '?');
	snprintf(path, pcap, "%.*s", (int)(q ? (size_t)(q - p) : strlen(p)), p);
	*query = q ? q + 1 : "";
}

static int sign(void *ctx, const struct cloud_req *r, struct cloud_header *h, size_t *nh,
    struct err *e)
{
	struct exo *x = ctx;
	char path[1024];
	struct exo_req er;
	struct buf auth;
	int rc;

	split_url(r->url, path, sizeof(path), &er.query);
	er.method = r->method;
	er.path = path;
	er.body = r->body;
	er.body_len = r->body ? r->body_len : 0;
	er.expires_unix_s = (int64_t)time(NULL) + EXO_EXPIRY_S;
	buf_init(&auth, sizeof(h[0].value) - 1);
	rc = exo_sign(&er, x->key, x->secret, &auth, e);
	if (rc == 0) {
		snprintf(h[0].name, sizeof(h[0].name), "Authorization");
		snprintf(h[0].value, sizeof(h[0].value), "%.*s", (int)auth.len, auth.p);
		*nh = 1;
	}
	buf_fini(&auth);
	return rc;
}

/* One API call; 0 with the 200 body in resp, or -1 with e saying which call
 * failed and why (the API's own message; a hint on 403). */
static int call(struct exo *x, const char *method, const char *path, const char *query,
    const char *body, struct buf *resp, struct err *e)
{
	/* msg whole: cloud_err_message fits it to the room e has left. */
	char url[1024], msg[1024];
	struct cloud_req r = {
		.method = method, .url = url, .body = body,
		.body_len = body ? strlen(body) : 0,
		.content_type = body ? "application/json" : NULL,
		.sign = sign, .sign_ctx = x,
	};
	struct err ce = { "" };
	long status;

	snprintf(url, sizeof(url), "%s%s%s%s", x->base, path, query ? "?" : "",
	    query ? query : "");
	status = cloud_http_do(&x->http, &r, resp, &ce);
	if (status == -1)
		return err_set(e, "exoscale: %s %s: %s", method, path, ce.msg);
	if (status == 200)
		return 0;
	exo_error_message(resp->p ? resp->p : "", resp->len, msg, sizeof(msg));
	if (status == 401 || status == 403)
		return cloud_err_message(e, msg, "exoscale: %s %s: HTTP %ld (check the API key "
		    "and secret, and that the key may use this pool)", method, path, status);
	return cloud_err_message(e, msg, "exoscale: %s %s: HTTP %ld", method, path, status);
}

static int get_pool(struct exo *x, struct exo_pool *pool, struct err *e)
{
	char path[128];
	struct buf b;
	int rc;

	snprintf(path, sizeof(path), "/instance-pool/%s", x->cfg.pool_id);
	buf_init(&b, 0);
	rc = call(x, "GET", path, NULL, NULL, &b, e);
	if (rc == 0)
		rc = exo_parse_pool(b.p ? b.p : "", b.len, pool, e);
	buf_fini(&b);
	return rc;
}

static bool going(const char *state)
{
	return strcmp(state, "destroying") == 0 || strcmp(state, "expunging") == 0 ||
	    strcmp(state, "destroyed") == 0;
}

static int exo_list(void *impl, struct member_list *out, struct err *e)
{
	struct exo *x = impl;
	struct exo_pool pool;
	struct exo_instances inst = { 0 };
	char query[160];
	struct buf b;
	int rc;

	if (get_pool(x, &pool, e) == -1)
		return -1;
	/* One call for every member's state and address, not one per member. */
	snprintf(query, sizeof(query), "manager-id=%s&manager-type=instance-pool",
	    x->cfg.pool_id);
	buf_init(&b, 0);
	rc = call(x, "GET", "/instance", query, NULL, &b, e);
	if (rc == 0)
		rc = exo_parse_instances(b.p ? b.p : "", b.len, &inst, e);
	buf_fini(&b);
	for (size_t i = 0; rc == 0 && i < pool.n; i++) {
		const struct exo_instance *in = NULL;
		struct member m;
		const char *addr;

		for (size_t j = 0; j < inst.n && in == NULL; j++)
			if (strcmp(inst.v[j].id, pool.ids[i]) == 0)
				in = &inst.v[j];
		/* The two reads raced a change: the list is not trusted. */
		if (in == NULL) {
			rc = err_set(e, "exoscale: member %s of the pool is not in the instance "
			    "list yet", pool.ids[i]);
			break;
		}
		addr = strcmp(x->cfg.address, "ipv6") == 0 ? in->ipv6 : in->public_ip;
		if (addr[0] == '\0') {
			if (strcmp(in->state, "running") != 0)
				continue;	/* not addressable yet: next list */
			rc = err_set(e, "exoscale: running member %s has no %s address (see "
			    "provider.exoscale.address)", in->id,
			    strcmp(x->cfg.address, "ipv6") == 0 ? "IPv6" : "public IPv4");
			break;
		}
		memset(&m, 0, sizeof(m));
		snprintf(m.id, sizeof(m.id), "%s", in->id);
		snprintf(m.address, sizeof(m.address), "%s", addr);
		m.stopping = going(in->state);
		m.booting = !m.stopping && strcmp(in->state, "running") != 0;
		m.created_unix_s = in->created_unix_s;
		if (member_list_add(out, &m) == -1)
			rc = err_set(e, "out of memory");
	}
	if (rc == 0)
		out->size = (int)pool.size;
	exo_instances_fini(&inst);
	exo_pool_fini(&pool);
	return rc;
}

/* Follows an operation until it is no longer pending: quick polls first (a
 * scale is often done in a second), then every operation_poll_ms. */
static int wait_op(struct exo *x, const char *body, size_t len, struct err *e)
{
	struct exo_operation op;
	int64_t deadline = clock_mono_ms() + x->cfg.operation_timeout_ms;
	int64_t pause = EXO_FIRST_POLL_MS;

	if (exo_parse_operation(body, len, &op, e) == -1)
		return -1;
	while (strcmp(op.state, "pending") == 0) {
		char path[96];
		struct buf b;
		int rc;

		if (clock_mono_ms() + pause > deadline)
			return err_set(e, "exoscale: operation %s still pending after %lld s", op.id,
			    (long long)(x->cfg.operation_timeout_ms / 1000));
		cloud_http_nap(&x->http, pause);
		if (cloud_http_cancelled(&x->http))
			return err_set(e, "cancelled");
		pause = pause * 2 > x->cfg.operation_poll_ms ? x->cfg.operation_poll_ms : pause * 2;
		snprintf(path, sizeof(path), "/operation/%s", op.id);
		buf_init(&b, 0);
		rc = call(x, "GET", path, NULL, NULL, &b, e);
		if (rc == 0)
			rc = exo_parse_operation(b.p ? b.p : "", b.len, &op, e);
		buf_fini(&b);
		if (rc == -1)
			return -1;
	}
	if (strcmp(op.state, "success") != 0)
		return err_set(e, "exoscale: operation %s ended in %s%s%s%s%s", op.id, op.state,
		    op.reason[0] ? ": " : "", op.reason, op.message[0] ? ": " : "", op.message);
	return 0;
}

static int mutate(struct exo *x, const char *verb, const char *body, struct err *e)
{
	char path[128];
	struct buf b;
	int rc;

	snprintf(path, sizeof(path), "/instance-pool/%s:%s", x->cfg.pool_id, verb);
	buf_init(&b, 0);
	rc = call(x, "PUT", path, NULL, body, &b, e);
	if (rc == 0)
		rc = wait_op(x, b.p ? b.p : "", b.len, e);
	buf_fini(&b);
	return rc;
}

static int exo_set_size(void *impl, int n, struct err *e)
{
	struct exo *x = impl;
	struct exo_pool pool;
	char body[48];
	int64_t size;

	if (get_pool(x, &pool, e) == -1)
		return -1;
	size = pool.size;
	exo_pool_fini(&pool);
	/* Grows only, and only when needed: asking again is harmless. */
	if (size >= n)
		return 0;
	snprintf(body, sizeof(body), "{\"size\":%d}", n);
	return mutate(x, "scale", body, e);
}

static int exo_remove(void *impl, const char *id, struct err *e)
{
	struct exo *x = impl;
	struct exo_pool pool;
	char body[96];
	struct err ge;
	bool member = false;

	if (!exo_is_uuid(id))
		return err_set(e, "exoscale: \"%s\" is not an instance id", id);
	snprintf(body, sizeof(body), "{\"instances\":[\"%s\"]}", id);
	if (mutate(x, "evict", body, e) == 0)
		return 0;
	/* A retried evict that had already worked fails on the retry: if the
	 * member is gone, the call did what was asked. */
	if (get_pool(x, &pool, &ge) == -1)
		return -1;
	for (size_t i = 0; i < pool.n; i++)
		member |= strcmp(pool.ids[i], id) == 0;
	exo_pool_fini(&pool);
	return member ? -1 : 0;
}

static void exo_cancel(void *impl)
{
	struct exo *x = impl;

	cloud_http_cancel(&x->http);
}

static void exo_api_stats(void *impl, uint64_t *calls, uint64_t *retries, uint64_t *failures)
{
	struct exo *x = impl;

	cloud_http_read_stats(&x->http, calls, retries, failures);
}

static void exo_free(void *impl)
{
	struct exo *x = impl;

	if (x == NULL)
		return;
	explicit_bzero(x->secret, sizeof(x->secret));
	free(x);
}

static const struct provider_ops exo_ops = {
	.name = "exoscale",
	.list = exo_list,
	.set_size = exo_set_size,
	.remove = exo_remove,
	.cancel = exo_cancel,
	.api_stats = exo_api_stats,
	.free = exo_free,
};

/* From the file when named, else the first variable set. */
static int credential(const char *file, const char *env1, const char *env2, const char *what,
    char *dst, size_t cap, struct err *e)
{
	const char *v;

	if (file[0] != '\0')
		return cloud_read_secret(file, dst, cap, e);
	v = getenv(env1);
	if (v == NULL || v[0] == '\0')
		v = getenv(env2);
	if (v == NULL || v[0] == '\0')
		return err_set(e, "exoscale: no API %s: set %s (or %s), or provider.exoscale.%s_file",
		    what, env1, env2, what);
	if (strlen(v) >= cap)
		return err_set(e, "exoscale: the API %s in %s is too long", what, env1);
	snprintf(dst, cap, "%s", v);
	return 0;
}

int prov_exoscale_new(const struct exo_cfg *cfg, struct provider *out, struct err *e)
{
	struct exo *x = calloc(1, sizeof(*x));
	struct err why;
	size_t n;

	if (x == NULL)
		return err_set(e, "out of memory");
	x->cfg = *cfg;
	if (!exo_is_uuid(cfg->pool_id)) {
		free(x);
		return err_set(e, "exoscale: pool_id \"%s\" is not an instance pool UUID",
		    cfg->pool_id);
	}
	/* The config and sd's flags check these with their own names; this
	 * guards any other caller. */
	if (cfg->endpoint[0] != '\0' ? exo_endpoint_check(cfg->endpoint, &why) == -1 :
	    exo_zone_check(cfg->zone, &why) == -1) {
		free(x);
		return err_set(e, "exoscale: %s", why.msg);
	}
	if (credential(cfg->key_file, "EXOSCALE_API_KEY", "EXOSCALE_KEY", "key", x->key,
	    sizeof(x->key), e) == -1 ||
	    credential(cfg->secret_file, "EXOSCALE_API_SECRET", "EXOSCALE_SECRET", "secret",
	    x->secret, sizeof(x->secret), e) == -1) {
		exo_free(x);
		return -1;
	}
	if (cfg->endpoint[0] != '\0')
		snprintf(x->base, sizeof(x->base), "%s", cfg->endpoint);
	else
		snprintf(x->base, sizeof(x->base), "https://api-%s.exoscale.com/v2", cfg->zone);
	n = strlen(x->base);
	while (n > 0 && x->base[n - 1] == '/')
		x->base[--n] = '\0';
	cloud_http_init(&x->http, &cfg->http);
	out->ops = &exo_ops;
	out->impl = x;
	return 0;
}
