#include "provider/linode.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "provider/endpoint.h"
#include "provider/linode_api.h"
#include "provider/linode_nb.h"

/* POST /linode/instances: 10 per 30 s per token [reference §7]. */
#define LIN_CREATE_BUDGET 10
#define LIN_CREATE_WINDOW_MS 30000
/* POSTs of one label whose outcome stayed unknown before giving up the call. */
#define LIN_CREATE_ATTEMPTS 3
#define LIN_MAX_PENDING 16
#define LIN_USER_DATA_MAX 65535		/* unencoded [reference §4] */

struct addr_entry {
	int64_t id;
	char addr[48];
};

struct lin {
	struct linode_cfg cfg;
	struct lin_api api;
	struct lin_nb nb;
	bool has_nb;
	char *user_data_b64;		/* NULL: none */
	/* Private addresses never change: asked once per instance. */
	struct addr_entry *cache;
	size_t ncache, capcache;
	/* Labels whose create may have worked: reused before any new one, so
	 * a retry can only meet its own instance, never make a second. */
	char pending[LIN_MAX_PENDING][LIN_LABEL_MAX + 1];
	size_t npending;
	int64_t created_ms[LIN_CREATE_BUDGET];	/* ring of the last POSTs */
	size_t ncreated;
};

void linode_cfg_default(struct linode_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->label_prefix, sizeof(c->label_prefix), "poolscale");
	cloud_http_cfg_default(&c->http);
}

int linode_tag_check(const char *tag, struct err *e)
{
	size_t n = strlen(tag);

	if (n < 3 || n > 50)
		return err_set(e, "\"%.60s\" is not 3..50 characters", tag);
	for (size_t i = 0; i < n; i++)
		if (tag[i] < 0x21 || tag[i] > 0x7e || tag[i] == '"' || tag[i] == '\\')
			return err_set(e, "\"%s\" has a character other than printable ASCII "
			    "without quotes, backslashes or spaces", tag);
	return 0;
}

/* ---- reading the API ---- */

static char *filter_for(const char *key, const char *value)
{
	char *s = NULL;

	/* Values are checked (labels, tags) but quoted by the rules anyway. */
	if (asprintf(&s, "{\"%s\":\"%s\"}", key, value) == -1)
		return NULL;
	return s;
}

/* Every instance the filter matches, all pages. */
static int list_instances(struct lin *x, const char *key, const char *value,
    struct lin_instances *out, struct err *e)
{
	char query[64];
	char *filter = filter_for(key, value);
	struct lin_call c = { .method = "GET", .path = "/linode/instances", .query = query,
		.filter = filter };
	struct buf b;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (filter == NULL)
		return err_set(e, "out of memory");
	buf_init(&b, 0);
	for (int64_t page = 1, pages = 1; page <= pages; page++) {
		struct lin_instances p;
		struct lin_instance *v;

		snprintf(query, sizeof(query), "page=%lld&page_size=%d", (long long)page,
		    LIN_PAGE_SIZE);
		if (lin_api_call(&x->api, &c, &b, e) == -1 ||
		    lin_parse_instances(b.p ? b.p : "", b.len, &p, e) == -1) {
			rc = -1;
			break;
		}
		pages = p.pages;
		v = reallocarray(out->v, out->n + p.n + 1, sizeof(*v));
		if (v == NULL) {
			lin_instances_fini(&p);
			rc = err_set(e, "out of memory");
			break;
		}
		out->v = v;
		memcpy(out->v + out->n, p.v, p.n * sizeof(*v));
		out->n += p.n;
		lin_instances_fini(&p);
	}
	buf_fini(&b);
	free(filter);
	if (rc == -1)
		lin_instances_fini(out);
	return rc;
}

static const char *cached(const struct lin *x, int64_t id)
{
	for (size_t i = 0; i < x->ncache; i++)
		if (x->cache[i].id == id)
			return x->cache[i].addr;
	return NULL;
}

static int cache_put(struct lin *x, int64_t id, const char *addr)
{
	if (x->ncache == x->capcache) {
		size_t cap = x->capcache ? 2 * x->capcache : 16;
		struct addr_entry *v = reallocarray(x->cache, cap, sizeof(*v));

		if (v == NULL)
			return -1;
		x->cache = v;
		x->capcache = cap;
	}
	x->cache[x->ncache].id = id;
	snprintf(x->cache[x->ncache].addr, sizeof(x->cache[0].addr), "%s", addr);
	x->ncache++;
	return 0;
}

/* Forgets the instances no longer listed. */
static void cache_prune(struct lin *x, const struct lin_instances *l)
{
	for (size_t i = 0; i < x->ncache;) {
		bool listed = false;

		for (size_t j = 0; j < l->n && !listed; j++)
			listed = l->v[j].id == x->cache[i].id;
		if (listed)
			i++;
		else
			x->cache[i] = x->cache[--x->ncache];
	}
}

/* The instance's private IPv4 into addr ("" when it has none yet); the API
 * says which address is private (/ips), whatever range it is in. 1 when
 * the instance is gone. */
static int private_addr(struct lin *x, int64_t id, char *addr, size_t cap, struct err *e)
{
	const char *c = cached(x, id);
	char path[64];
	struct lin_call call = { .method = "GET", .path = path };
	struct buf b;
	long st;
	int rc;

	if (c != NULL) {
		snprintf(addr, cap, "%s", c);
		return 0;
	}
	snprintf(path, sizeof(path), "/linode/instances/%lld/ips", (long long)id);
	buf_init(&b, 0);
	st = lin_api_do(&x->api, &call, &b, e);
	if (st == 404)
		rc = 1;
	else if (st == -1)
		rc = -1;
	else if (st < 200 || st >= 300)
		rc = lin_api_error(&call, st, &b, e);
	else
		rc = lin_parse_private_ip(b.p ? b.p : "", b.len, addr, cap, e);
	buf_fini(&b);
	if (rc == 0 && addr[0] != '\0' && cache_put(x, id, addr) == -1)
		return err_set(e, "out of memory");
	return rc;
}

/* ---- list ---- */

static int lin_list(void *impl, struct member_list *out, struct err *e)
{
	struct lin *x = impl;
	struct lin_instances l;
	const char **running = NULL;
	size_t nrunning = 0;
	int rc = 0;

	if (list_instances(x, "tags", x->cfg.tag, &l, e) == -1)
		return -1;
	running = calloc(l.n + 1, sizeof(*running));
	if (running == NULL) {
		lin_instances_fini(&l);
		return err_set(e, "out of memory");
	}
	cache_prune(x, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const struct lin_instance *in = &l.v[i];
		enum lin_phase ph = lin_status_phase(in->status);
		struct member m;
		int r;

		memset(&m, 0, sizeof(m));
		/* A leaving instance is not asked for: it may be gone already. */
		if (ph == LIN_PHASE_STOPPING && cached(x, in->id) == NULL)
			continue;
		r = private_addr(x, in->id, m.address, sizeof(m.address), e);
		if (r == -1) {
			rc = -1;
			break;
		}
		if (r == 1)
			continue;		/* deleted since the list */
		if (m.address[0] == '\0') {
			if (ph != LIN_PHASE_RUNNING)
				continue;	/* not addressable yet: next list */
			rc = err_set(e, "linode: running instance %lld (%s) has no private IPv4 "
			    "address (create it with private_ip, or untag it)", (long long)in->id,
			    in->label);
			break;
		}
		snprintf(m.id, sizeof(m.id), "%lld", (long long)in->id);
		m.stopping = ph == LIN_PHASE_STOPPING;
		m.booting = ph == LIN_PHASE_PENDING;
		m.created_unix_s = in->created_unix_s;
		if (member_list_add(out, &m) == -1) {
			rc = err_set(e, "out of memory");
			break;
		}
		if (ph == LIN_PHASE_RUNNING)
			running[nrunning++] = cached(x, in->id);
	}
	if (rc == 0 && x->has_nb && !x->cfg.read_only)
		rc = lin_nb_reconcile(&x->nb, running, nrunning, e);
	free(running);
	lin_instances_fini(&l);
	return rc;
}

/* ---- set_size ---- */

static void random_bytes(unsigned char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);

		if (r > 0)
			got += (size_t)r;
	}
}

static bool label_used(const struct lin *x, const struct lin_instances *l, const char *label)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].label, label) == 0)
			return true;
	for (size_t i = 0; i < x->npending; i++)
		if (strcmp(x->pending[i], label) == 0)
			return true;
	return false;
}

/* PREFIX-XXXXXXXX, 8 random hex digits: unique among the account's
 * instances by construction, checked against the ones listed. */
static void new_label(const struct lin *x, const struct lin_instances *l, char *dst,
    size_t cap)
{
	do {
		unsigned char r[4];

		random_bytes(r, sizeof(r));
		snprintf(dst, cap, "%s-%02x%02x%02x%02x", x->cfg.label_prefix, r[0], r[1], r[2],
		    r[3]);
	} while (label_used(x, l, dst));
}

static void pending_add(struct lin *x, const char *label)
{
	for (size_t i = 0; i < x->npending; i++)
		if (strcmp(x->pending[i], label) == 0)
			return;
	if (x->npending == LIN_MAX_PENDING) {
		/* The oldest has waited longest to show up: the list counts it
		 * if it ever does, the controller then removes the surplus. */
		memmove(x->pending[0], x->pending[1], sizeof(x->pending[0]) * (LIN_MAX_PENDING - 1));
		x->npending--;
	}
	snprintf(x->pending[x->npending++], sizeof(x->pending[0]), "%s", label);
}

static void pending_drop(struct lin *x, const char *label)
{
	for (size_t i = 0; i < x->npending; i++)
		if (strcmp(x->pending[i], label) == 0) {
			memmove(x->pending[i], x->pending[i + 1],
			    sizeof(x->pending[0]) * (x->npending - i - 1));
			x->npending--;
			return;
		}
}

/* Waits, when the last LIN_CREATE_BUDGET creates all fell in the window,
 * until the oldest leaves it: a burst is paced instead of refused. */
static int create_budget(struct lin *x, struct err *e)
{
	int64_t now = clock_mono_ms();

	if (x->ncreated == LIN_CREATE_BUDGET) {
		int64_t oldest = x->created_ms[0];

		if (now - oldest < LIN_CREATE_WINDOW_MS)
			cloud_http_nap(&x->api.http, LIN_CREATE_WINDOW_MS - (now - oldest));
		if (cloud_http_cancelled(&x->api.http))
			return err_set(e, "cancelled");
		memmove(x->created_ms, x->created_ms + 1, sizeof(x->created_ms[0]) *
		    (LIN_CREATE_BUDGET - 1));
		x->ncreated--;
	}
	x->created_ms[x->ncreated++] = clock_mono_ms();
	return 0;
}

/* Whether an instance with this label exists: 1 yes, 0 no, -1 unknown. */
static int label_exists(struct lin *x, const char *label, struct err *e)
{
	struct lin_instances l;
	int found;

	if (list_instances(x, "label", label, &l, e) == -1)
		return -1;
	found = 0;
	for (size_t i = 0; i < l.n; i++)
		found |= strcmp(l.v[i].label, label) == 0;
	lin_instances_fini(&l);
	return found;
}

/* One instance under this label, exactly once whatever the network loses. */
static int create(struct lin *x, const char *label, struct err *e)
{
	char pass[33];
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_+=.";
	unsigned char r[32];
	const char *keys[LIN_MAX_KEYS];
	struct lin_create lc = {
		.region = x->cfg.region, .type = x->cfg.type, .image = x->cfg.image,
		.label = label, .tag = x->cfg.tag, .root_pass = pass, .keys = keys,
		.nkeys = (size_t)x->cfg.nkeys, .firewall_id = x->cfg.firewall_id,
		.user_data_b64 = x->user_data_b64,
	};
	struct lin_call c = { .method = "POST", .path = "/linode/instances", .create = true };
	char *body;
	int rc = -1;

	/* Required with an image; never used (keys log in), never logged. */
	random_bytes(r, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++)
		pass[i] = set[r[i] % (sizeof(set) - 1)];
	/* One of each class for sure: the API scores strength. */
	pass[0] = (char)('A' + r[0] % 26);
	pass[1] = (char)('a' + r[1] % 26);
	pass[2] = (char)('0' + r[2] % 10);
	pass[3] = '-';
	pass[32] = '\0';
	for (int i = 0; i < x->cfg.nkeys; i++)
		keys[i] = x->cfg.authorized_keys[i];
	body = lin_create_body(&lc);
	explicit_bzero(pass, sizeof(pass));
	if (body == NULL)
		return err_set(e, "out of memory");
	c.body = body;
	pending_add(x, label);
	for (int attempt = 0; attempt < LIN_CREATE_ATTEMPTS; attempt++) {
		struct buf b;
		long st;
		int found;

		if (create_budget(x, e) == -1)
			break;
		buf_init(&b, 0);
		st = lin_api_do(&x->api, &c, &b, e);
		if (st >= 200 && st < 300) {
			buf_fini(&b);
			pending_drop(x, label);
			rc = 0;
			break;
		}
		if (st == 400 && lin_error_label_taken(b.p ? b.p : "", b.len)) {
			/* An earlier POST of this label worked after all. */
			buf_fini(&b);
			found = label_exists(x, label, e);
			if (found == 1) {
				pending_drop(x, label);
				rc = 0;
			} else if (found == 0) {
				pending_drop(x, label);
				err_set(e, "linode: label %s is taken but no instance shows it", label);
			}
			break;
		}
		if (st != -1 && st != 429 && st < 500) {
			/* Refused: nothing was made. */
			lin_api_error(&c, st, &b, e);
			buf_fini(&b);
			pending_drop(x, label);
			break;
		}
		if (st != -1)
			lin_api_error(&c, st, &b, e);
		buf_fini(&b);
		if (st == 429)
			break;		/* out of retries, and not done: next call */
		/* No answer, or a 5xx: done or not, the label tells. */
		found = label_exists(x, label, e);
		if (found == 1) {
			pending_drop(x, label);
			rc = 0;
			break;
		}
		if (found == -1)
			break;		/* still pending: the next call resolves it */
		if (attempt + 1 == LIN_CREATE_ATTEMPTS)
			err_set(e, "linode: create %s: no answer after %d attempts", label,
			    LIN_CREATE_ATTEMPTS);
	}
	free(body);
	return rc;
}

static int lin_set_size(void *impl, int n, struct err *e)
{
	struct lin *x = impl;
	struct lin_instances l;
	int have = 0, rc = 0;

	if (x->cfg.read_only)
		return err_set(e, "linode: read-only");
	if (list_instances(x, "tags", x->cfg.tag, &l, e) == -1)
		return -1;
	for (size_t i = 0; i < l.n; i++) {
		have += lin_status_phase(l.v[i].status) != LIN_PHASE_STOPPING;
		pending_drop(x, l.v[i].label);	/* made after all: counted here */
	}
	while (rc == 0 && have < n) {
		char label[LIN_LABEL_MAX + 1];

		if (x->npending > 0)
			snprintf(label, sizeof(label), "%s", x->pending[0]);
		else
			new_label(x, &l, label, sizeof(label));
		rc = create(x, label, e);
		have += rc == 0;
	}
	lin_instances_fini(&l);
	return rc;
}

/* ---- remove ---- */

static int lin_remove(void *impl, const char *id, struct err *e)
{
	struct lin *x = impl;
	char path[64], addr[48], *end;
	struct lin_call c = { .method = "DELETE", .path = path };
	long long n;
	struct buf b;
	long st;

	if (x->cfg.read_only)
		return err_set(e, "linode: read-only");
	n = strtoll(id, &end, 10);
	if (id[0] < '1' || id[0] > '9' || *end != '\0' || n <= 0)
		return err_set(e, "linode: \"%s\" is not an instance id", id);
	/* Out of the NodeBalancer before it goes: no new connection is sent
	 * to a machine being deleted. */
	if (x->has_nb) {
		int r = private_addr(x, n, addr, sizeof(addr), e);

		if (r == -1)
			return -1;
		if (r == 1)
			return 0;	/* gone; the next list drops its node */
		if (addr[0] != '\0' && lin_nb_take_out(&x->nb, addr, e) == -1)
			return -1;
	}
	snprintf(path, sizeof(path), "/linode/instances/%lld", n);
	buf_init(&b, 0);
	st = lin_api_do(&x->api, &c, &b, e);
	/* 404: a retry of a delete that had worked, or deleted by hand. */
	if (st != -1 && !(st >= 200 && st < 300) && st != 404)
		lin_api_error(&c, st, &b, e);
	buf_fini(&b);
	return st == -1 || (!(st >= 200 && st < 300) && st != 404) ? -1 : 0;
}

/* ---- the rest ---- */

static void lin_cancel(void *impl)
{
	struct lin *x = impl;

	cloud_http_cancel(&x->api.http);
}

static void lin_api_stats(void *impl, uint64_t *calls, uint64_t *retries, uint64_t *failures)
{
	struct lin *x = impl;

	cloud_http_read_stats(&x->api.http, calls, retries, failures);
}

static void lin_free(void *impl)
{
	struct lin *x = impl;

	if (x == NULL)
		return;
	explicit_bzero(x->api.token, sizeof(x->api.token));
	free(x->user_data_b64);
	free(x->cache);
	free(x);
}

static const struct provider_ops lin_ops = {
	.name = "linode",
	.list = lin_list,
	.set_size = lin_set_size,
	.remove = lin_remove,
	.cancel = lin_cancel,
	.api_stats = lin_api_stats,
	.free = lin_free,
};

static int read_token(struct lin *x, struct err *e)
{
	const char *v;

	if (x->cfg.token_file[0] != '\0')
		return cloud_read_secret(x->cfg.token_file, x->api.token, sizeof(x->api.token), e);
	v = getenv("LINODE_TOKEN");
	if (v == NULL || v[0] == '\0')
		return err_set(e, "linode: no API token: set LINODE_TOKEN, or "
		    "provider.linode.token_file");
	if (strlen(v) >= sizeof(x->api.token))
		return err_set(e, "linode: the token in LINODE_TOKEN is too long");
	snprintf(x->api.token, sizeof(x->api.token), "%s", v);
	return 0;
}

/* The cloud-init file, base64 for metadata.user_data. */
static int read_user_data(struct lin *x, struct err *e)
{
	struct buf b;

	if (x->cfg.user_data_file[0] == '\0')
		return 0;
	buf_init(&b, LIN_USER_DATA_MAX);
	if (file_read_all(x->cfg.user_data_file, &b, NULL, e) == -1) {
		buf_fini(&b);
		return -1;
	}
	if (b.len == 0) {
		buf_fini(&b);
		return err_set(e, "%s: empty", x->cfg.user_data_file);
	}
	x->user_data_b64 = malloc(4 * ((b.len + 2) / 3) + 1);
	if (x->user_data_b64 == NULL) {
		buf_fini(&b);
		return err_set(e, "out of memory");
	}
	EVP_EncodeBlock((unsigned char *)x->user_data_b64, (const unsigned char *)b.p,
	    (int)b.len);
	buf_fini(&b);
	return 0;
}

static int check(const struct linode_cfg *c, struct err *e)
{
	char label[LIN_LABEL_MAX + 1];
	struct err why;

	if (c->region[0] == '\0' || c->type[0] == '\0' || c->image[0] == '\0' ||
	    c->tag[0] == '\0')
		return err_set(e, "linode: region, type, image and tag are required");
	if (linode_tag_check(c->tag, &why) == -1)
		return err_set(e, "linode: tag %s", why.msg);
	snprintf(label, sizeof(label), "%s-00000000", c->label_prefix);
	if (!lin_label_ok(label))
		return err_set(e, "linode: label_prefix \"%s\" is not lower-case letters, digits "
		    "and single dashes, a letter first", c->label_prefix);
	if ((c->nodebalancer_id > 0) != (c->nodebalancer_config_id > 0))
		return err_set(e, "linode: give nodebalancer_id and nodebalancer_config_id "
		    "together");
	if (c->endpoint[0] != '\0' && prov_endpoint_check(c->endpoint, &why) == -1)
		return err_set(e, "linode: endpoint: %s", why.msg);
	return 0;
}

int prov_linode_new(const struct linode_cfg *cfg, struct provider *out, struct err *e)
{
	struct lin *x;
	size_t n;

	if (check(cfg, e) == -1)
		return -1;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return err_set(e, "out of memory");
	x->cfg = *cfg;
	if (read_token(x, e) == -1 || read_user_data(x, e) == -1) {
		lin_free(x);
		return -1;
	}
	snprintf(x->api.base, sizeof(x->api.base), "%s",
	    cfg->endpoint[0] ? cfg->endpoint : LIN_DEFAULT_ENDPOINT);
	n = strlen(x->api.base);
	while (n > 0 && x->api.base[n - 1] == '/')
		x->api.base[--n] = '\0';
	cloud_http_init(&x->api.http, &cfg->http);
	x->has_nb = cfg->nodebalancer_id > 0;
	x->nb = (struct lin_nb){ &x->api, cfg->nodebalancer_id, cfg->nodebalancer_config_id,
		cfg->node_port };
	out->ops = &lin_ops;
	out->impl = x;
	return 0;
}
