#include "provider/linode.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fileio.h"
#include "common/log.h"
#include "provider/endpoint.h"
#include "provider/linode_api.h"
#include "provider/linode_create.h"
#include "provider/linode_nb.h"

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
	struct lin_creator creator;
	/* The members the controller drains (set_draining): their nodes take
	 * no new connection. Kept, and applied on every list. */
	int64_t *draining;
	size_t ndraining;
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

/* ---- addresses ---- */

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

static bool is_draining(const struct lin *x, int64_t id)
{
	for (size_t i = 0; i < x->ndraining; i++)
		if (x->draining[i] == id)
			return true;
	return false;
}

/* What a listed instance that is not leaving wants of its node: busy,
 * migrating, rebooting and the like keep the node they have (a move or a
 * resize is not a removal), a booting one gets none yet. */
static enum lin_node_want node_want(const struct lin *x, const struct lin_instance *in)
{
	if (lin_status_phase(in->status) != LIN_PHASE_RUNNING)
		return LIN_NODE_KEEP;
	return is_draining(x, in->id) ? LIN_NODE_DRAIN : LIN_NODE_ACCEPT;
}

static int lin_list(void *impl, struct member_list *out, struct err *e)
{
	struct lin *x = impl;
	struct lin_instances l;
	/* Copies, not pointers into the cache: a later cache_put may move it. */
	char (*addrs)[sizeof(((struct member *)0)->address)] = NULL;
	struct lin_nb_want *wants = NULL;
	size_t nwants = 0;
	int rc = 0;

	if (lin_list_instances(&x->api, "tags", x->cfg.tag, &l, e) == -1)
		return -1;
	addrs = calloc(l.n + 1, sizeof(*addrs));
	wants = calloc(l.n + 1, sizeof(*wants));
	if (addrs == NULL || wants == NULL) {
		free(addrs);
		free(wants);
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
		if (ph == LIN_PHASE_STOPPING)
			continue;		/* its node goes */
		snprintf(addrs[nwants], sizeof(addrs[0]), "%s", m.address);
		wants[nwants].addr = addrs[nwants];
		wants[nwants].want = node_want(x, in);
		nwants++;
	}
	if (rc == 0 && x->has_nb && !x->cfg.read_only)
		rc = lin_nb_reconcile(&x->nb, wants, nwants, e);
	free(addrs);
	free(wants);
	lin_instances_fini(&l);
	return rc;
}

/* Only remembered here: the list that follows every call (provider/runner.h)
 * brings the nodes in line, and so does every later one. */
static int lin_set_draining(void *impl, const char *const *ids, size_t n, struct err *e)
{
	struct lin *x = impl;
	int64_t *v = calloc(n + 1, sizeof(*v));

	if (v == NULL)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < n; i++)
		v[i] = strtoll(ids[i], NULL, 10);
	free(x->draining);
	x->draining = v;
	x->ndraining = n;
	return 0;
}

/* ---- set_size ---- */

static int lin_remove(void *impl, const char *id, struct err *e);

static int lin_set_size(void *impl, int n, struct err *e)
{
	struct lin *x = impl;
	struct lin_instances l;
	int have = 0, rc = 0;

	if (x->cfg.read_only)
		return err_set(e, "linode: read-only");
	if (lin_list_instances(&x->api, "tags", x->cfg.tag, &l, e) == -1)
		return -1;
	for (size_t i = 0; i < l.n; i++) {
		const struct lin_instance *in = &l.v[i];
		char id[32];

		if (lin_status_phase(in->status) != LIN_PHASE_STOPPING) {
			have++;
			continue;
		}
		/* Powered off (by its OS, a crash or by hand) is leaving as far
		 * as the pool goes, but nothing deletes it: Linode has no pool to
		 * do it, and a stopped instance is still billed. It goes here,
		 * node first, as a removed member would. */
		if (strcmp(in->status, "offline") != 0 && strcmp(in->status, "stopped") != 0)
			continue;
		snprintf(id, sizeof(id), "%lld", (long long)in->id);
		log_msg(LOG_WARN, "linode: deleting a powered-off pool instance", "id=%s label=%s",
		    id, in->label);
		if (lin_remove(x, id, e) == -1) {
			lin_instances_fini(&l);
			return -1;
		}
	}
	lin_creator_seen(&x->creator, &l);
	while (rc == 0 && have < n) {
		char label[LIN_LABEL_MAX + 1];
		int64_t wait = lin_creator_wait_ms(&x->creator);

		/* Past the API's create limit the rest waits for the controller's
		 * next call (sizes are absolute): waiting here would hold every
		 * list, and so the members just made, for up to 30 s. */
		if (wait > 0) {
			log_msg(LOG_INFO, "linode: create limit reached; the rest on a later call",
			    "have=%d want=%d room_in_ms=%lld", have, n, (long long)wait);
			break;
		}
		lin_creator_label(&x->creator, &l, label, sizeof(label));
		rc = lin_creator_create(&x->creator, label, e);
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
	free(x->draining);
	free(x);
}

static const struct provider_ops lin_ops = {
	.name = "linode",
	.list = lin_list,
	.set_size = lin_set_size,
	.remove = lin_remove,
	.set_draining = lin_set_draining,
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
	lin_creator_init(&x->creator, &x->api, &x->cfg, x->user_data_b64);
	x->nb = (struct lin_nb){ &x->api, cfg->nodebalancer_id, cfg->nodebalancer_config_id,
		cfg->node_port };
	out->ops = &lin_ops;
	out->impl = x;
	return 0;
}
