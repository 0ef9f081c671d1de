/* The etcd v3 gateway client's transport: endpoints, HTTP, auth tokens;
 * see etcd.h. The JSON is etcd_json.c's. */
#include "common/etcd.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/etcd_json.h"

#define REPLY_MAX_BYTES (1u << 20)
#define REQUEST_MAX_BYTES (4u << 20)
/* etcd's simple tokens are ~20 bytes, JWTs a few hundred */
#define TOKEN_MAX_BYTES 2048

struct sink {
	struct buf *b;
	bool overflow;
};

struct etcd {
	struct etcd_cfg cfg;
	CURL *curl;
	size_t first;			/* the endpoint that answered last */
	enum etcd_fail fail;
	char token[TOKEN_MAX_BYTES];	/* "" until authenticated; never logged */
	struct buf req, reply;
	struct sink sink;
	char errbuf[CURL_ERROR_SIZE];
};

/* What one POST came to. */
enum outcome {
	OUT_OK,		/* 2xx; the reply is in c->reply */
	OUT_NEXT,	/* no answer, or 5xx / unavailable: try the next endpoint */
	OUT_AUTH,	/* 401 or code 16: the token is stale */
	OUT_REJECTED,	/* an error answer (4xx) */
	OUT_BAD,	/* an answer we cannot read */
};

/* Why each endpoint failed gets into one message; a secret must not. Runs
 * on every message set; secrets under 4 bytes would match ordinary words. */
static void scrub1(struct err *e, const char *secret)
{
	size_t n = strlen(secret);
	char *p;

	if (e == NULL || n < 4)
		return;
	while ((p = strstr(e->msg, secret)) != NULL) {
		memset(p, '*', 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

static void scrub(const struct etcd *c, struct err *e)
{
	scrub1(e, c->cfg.password);
	scrub1(e, c->token);
}

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;

	if (buf_append(s->b, p, size * n) == -1) {
		s->overflow = true;
		return 0;
	}
	return size * n;
}

static bool has_scheme(const char *url)
{
	return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

struct etcd *etcd_new(const struct etcd_cfg *cfg, struct err *e)
{
	struct etcd *c;

	if (cfg->nendpoints == 0 || cfg->nendpoints > ETCD_MAX_ENDPOINTS) {
		err_set(e, "etcd: %zu endpoints (1 to %d)", cfg->nendpoints, ETCD_MAX_ENDPOINTS);
		return NULL;
	}
	for (size_t i = 0; i < cfg->nendpoints; i++)
		if (!has_scheme(cfg->endpoints[i]) ||
		    strnlen(cfg->endpoints[i], sizeof(cfg->endpoints[i])) ==
		    sizeof(cfg->endpoints[i])) {
			err_set(e, "etcd: endpoint %.64s is not http:// or https://",
			    cfg->endpoints[i]);
			return NULL;
		}
	if (!memchr(cfg->ca_file, '\0', sizeof(cfg->ca_file)) ||
	    !memchr(cfg->cert_file, '\0', sizeof(cfg->cert_file)) ||
	    !memchr(cfg->key_file, '\0', sizeof(cfg->key_file)) ||
	    !memchr(cfg->username, '\0', sizeof(cfg->username)) ||
	    !memchr(cfg->password, '\0', sizeof(cfg->password))) {
		err_set(e, "etcd: a TLS file, user name or password is not terminated");
		return NULL;
	}
	if (cfg->timeout_ms <= 0) {
		err_set(e, "etcd: timeout %" PRId64 " ms is not > 0", cfg->timeout_ms);
		return NULL;
	}
	if (cfg->key_file[0] != '\0' && cfg->cert_file[0] == '\0') {
		err_set(e, "etcd: a client key without a certificate");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		err_set(e, "etcd: out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	for (size_t i = 0; i < c->cfg.nendpoints; i++) {
		char *u = c->cfg.endpoints[i];
		size_t n = strlen(u);

		while (n > 0 && u[n - 1] == '/')
			u[--n] = '\0';
	}
	buf_init(&c->req, REQUEST_MAX_BYTES);
	buf_init(&c->reply, REPLY_MAX_BYTES);
	c->sink.b = &c->reply;
	/* refcounted; etcd_free balances it */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		err_set(e, "etcd: curl_easy_init failed");
		etcd_free(c);
		return NULL;
	}
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->sink);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->ca_file[0] != '\0')
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->cfg.ca_file);
	if (cfg->cert_file[0] != '\0')
		curl_easy_setopt(c->curl, CURLOPT_SSLCERT, c->cfg.cert_file);
	if (cfg->key_file[0] != '\0')
		curl_easy_setopt(c->curl, CURLOPT_SSLKEY, c->cfg.key_file);
	return c;
}

void etcd_free(struct etcd *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL) {
		curl_easy_cleanup(c->curl);
		curl_global_cleanup();
	}
	explicit_bzero(c->cfg.password, sizeof(c->cfg.password));
	explicit_bzero(c->token, sizeof(c->token));
	if (c->reply.p != NULL)
		explicit_bzero(c->reply.p, c->reply.cap);
	buf_fini(&c->req);
	buf_fini(&c->reply);
	free(c);
}

enum etcd_fail etcd_last_fail(const struct etcd *c)
{
	return c->fail;
}

/* An empty reply has no storage yet. */
static const char *reply_body(const struct etcd *c)
{
	return c->reply.p != NULL ? c->reply.p : "";
}

/* Says why no answer came, as "connect: Connection refused". */
static void transport_error(struct etcd *c, const char *ep, CURLcode rc, struct err *e)
{
	long oserr = 0;

	curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
	if (rc == CURLE_COULDNT_CONNECT && oserr != 0)
		err_set(e, "etcd %s: connect: %s", ep, strerror((int)oserr));
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		err_set(e, "etcd %s: no answer in %" PRId64 " ms", ep, c->cfg.timeout_ms);
	else
		err_set(e, "etcd %s: %s", ep, c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
}

/* Appends to *h; on failure frees the list, and *oom makes it stick. */
static void add_header(struct curl_slist **h, bool *oom, const char *line)
{
	struct curl_slist *n;

	if (*oom)
		return;
	n = curl_slist_append(*h, line);
	if (n == NULL) {
		curl_slist_free_all(*h);
		*h = NULL;
		*oom = true;
		return;
	}
	*h = n;
}

/* One POST of body to ep's /v3/<rpc>, the reply left in c->reply. */
static enum outcome post(struct etcd *c, const char *ep, const char *rpc,
    const struct buf *body, bool hasleader, bool with_token, struct etcd_json_error *je,
    struct err *e)
{
	char url[sizeof(c->cfg.endpoints[0]) + 64];
	char auth[sizeof(c->token) + 32];
	struct curl_slist *h = NULL;
	bool oom = false;
	enum outcome out;
	long status = 0;
	CURLcode rc;

	memset(je, 0, sizeof(*je));
	snprintf(url, sizeof(url), "%s/v3/%s", ep, rpc);
	buf_reset(&c->reply);
	c->sink.overflow = false;
	c->errbuf[0] = '\0';
	add_header(&h, &oom, "Content-Type: application/json");
	/* no 100-continue round trip for the odd large put */
	add_header(&h, &oom, "Expect:");
	/* without it a member that lost quorum keeps the stream open (2.3, 4) */
	if (hasleader)
		add_header(&h, &oom, "Grpc-Metadata-Hasleader: true");
	/* etcd takes the raw token: "Bearer <t>" is a 401 (6.2) */
	if (with_token && c->token[0] != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: %s", c->token);
		add_header(&h, &oom, auth);
		explicit_bzero(auth, sizeof(auth));
	}
	if (oom) {
		err_set(e, "etcd %s: out of memory", ep);
		return OUT_NEXT;
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body->p);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)body->len);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	for (struct curl_slist *p = h; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
	if (rc == CURLE_WRITE_ERROR && c->sink.overflow) {
		err_set(e, "etcd %s: %s: reply over %u bytes", ep, rpc, REPLY_MAX_BYTES);
		return OUT_BAD;
	}
	if (rc != CURLE_OK) {
		transport_error(c, ep, rc, e);
		return OUT_NEXT;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status <= 299)
		return OUT_OK;
	if (etcd_json_parse_error(reply_body(c), c->reply.len, je))
		err_set(e, "etcd %s: %s: HTTP %ld: %s (code %d)", ep, rpc, status, je->message,
		    je->code);
	else
		err_set(e, "etcd %s: %s: HTTP %ld", ep, rpc, status);
	if (status == 401 || je->code == 16)
		out = OUT_AUTH;
	else if (status >= 500)
		out = OUT_NEXT;
	else if (status >= 400)
		out = OUT_REJECTED;
	else
		out = OUT_BAD;
	return out;
}

/* Fetches a token from ep into c->token. */
static enum outcome authenticate(struct etcd *c, const char *ep, struct err *e)
{
	struct etcd_json_error je;
	enum outcome out;
	struct err pe;
	struct buf body;	/* not c->req: that holds the call's own body */

	c->token[0] = '\0';
	buf_init(&body, 4096);
	if (etcd_json_authenticate(&body, c->cfg.username, c->cfg.password, e) == -1) {
		buf_fini(&body);
		return OUT_REJECTED;
	}
	out = post(c, ep, "auth/authenticate", &body, false, false, &je, e);
	explicit_bzero(body.p, body.len);
	buf_fini(&body);
	if (out == OUT_AUTH)	/* a 401 on authenticate itself is a refusal */
		out = OUT_REJECTED;
	if (out == OUT_OK && etcd_json_parse_token(reply_body(c), c->reply.len, c->token,
	    sizeof(c->token), &pe) == -1) {
		err_set(e, "etcd %s: auth/authenticate: %s", ep, pe.msg);
		out = OUT_BAD;
	}
	if (c->reply.p != NULL)
		explicit_bzero(c->reply.p, c->reply.len);
	return out;
}

/* Reads a 2xx reply, or says what an error reply means for this call. */
struct rpc {
	const char *path;		/* after /v3/ */
	bool hasleader;
	/* A 2xx: OUT_OK, OUT_BAD (e set, without the endpoint) or OUT_NEXT. */
	enum outcome (*parse)(struct etcd *c, void *ctx, struct err *e);
	/* An error answer that is a success for this call (revoke: gone). */
	bool (*accept)(const struct etcd_json_error *je);
	void *ctx;
};

/* One pass over the endpoints from the one that answered last, the body in
 * c->req. Sets c->fail. */
static int call(struct etcd *c, const struct rpc *r, struct err *e)
{
	bool auth = c->cfg.username[0] != '\0', reauthed = false;
	size_t n = c->cfg.nendpoints;
	struct etcd_json_error je;
	struct err pe;
	enum outcome out;

	c->fail = ETCD_OK;
	for (size_t i = 0; i < n; i++) {
		size_t idx = (c->first + i) % n;
		const char *ep = c->cfg.endpoints[idx];

		if (auth && c->token[0] == '\0') {
			out = authenticate(c, ep, e);
			if (out == OUT_NEXT)
				continue;
			if (out != OUT_OK)
				goto answered;
		}
		out = post(c, ep, r->path, &c->req, r->hasleader, auth, &je, e);
		if (out == OUT_AUTH && auth && !reauthed) {
			/* simple tokens expire after 5 min idle (6.3): once per call */
			reauthed = true;
			out = authenticate(c, ep, e);
			if (out == OUT_NEXT)
				continue;
			if (out == OUT_OK)
				out = post(c, ep, r->path, &c->req, r->hasleader, auth, &je, e);
		}
		if (out == OUT_NEXT)
			continue;
		if (out == OUT_OK) {
			out = r->parse(c, r->ctx, &pe);
			if (out != OUT_OK)
				err_set(e, "etcd %s: %s: %s", ep, r->path, pe.msg);
			if (out == OUT_NEXT)
				continue;
		} else if (out != OUT_BAD && r->accept != NULL && r->accept(&je)) {
			out = OUT_OK;
		}
answered:
		c->first = idx;
		if (out == OUT_OK)
			return 0;
		c->fail = out == OUT_BAD ? ETCD_BAD_REPLY : ETCD_REJECTED;
		scrub(c, e);
		return -1;
	}
	c->fail = ETCD_UNREACHABLE;
	if (n > 1 && e != NULL) {
		pe = *e;
		err_set(e, "%s (all %zu endpoints failed)", pe.msg, n);
	}
	scrub(c, e);
	return -1;
}

/* --- the calls ---------------------------------------------------------------- */

static int prepare(struct etcd *c, int rc)
{
	if (rc == -1)
		c->fail = ETCD_REJECTED;	/* our own bad argument: no endpoint asked */
	return rc;
}

struct grant_ctx {
	int64_t id, ttl_s;
};

static enum outcome parse_grant(struct etcd *c, void *ctx, struct err *e)
{
	struct grant_ctx *g = ctx;

	return etcd_json_parse_grant(reply_body(c), c->reply.len, &g->id, &g->ttl_s, e) == 0 ?
	    OUT_OK : OUT_BAD;
}

int etcd_lease_grant(struct etcd *c, int64_t ttl_s, int64_t *id, int64_t *ttl_out_s,
    struct err *e)
{
	struct grant_ctx g = { 0, 0 };
	struct rpc r = { "lease/grant", false, parse_grant, NULL, &g };

	*id = *ttl_out_s = 0;
	buf_reset(&c->req);
	if (prepare(c, etcd_json_grant(&c->req, ttl_s, e)) == -1 || call(c, &r, e) == -1)
		return -1;
	*id = g.id;
	*ttl_out_s = g.ttl_s;
	return 0;
}

struct keepalive_ctx {
	int64_t id, ttl_s;
};

static enum outcome parse_keepalive(struct etcd *c, void *ctx, struct err *e)
{
	struct keepalive_ctx *k = ctx;
	struct etcd_json_error se;
	int64_t id;

	if (etcd_json_parse_keepalive(reply_body(c), c->reply.len, &id, &k->ttl_s, &se, e) == -1)
		/* a stream error after the headers: no leader is the next one's turn */
		return se.code == 14 ? OUT_NEXT : se.code > 0 ? OUT_REJECTED : OUT_BAD;
	if (id != 0 && id != k->id) {
		err_set(e, "keepalive of lease %" PRId64 " answered for %" PRId64, k->id, id);
		return OUT_BAD;
	}
	return OUT_OK;
}

int etcd_lease_keepalive(struct etcd *c, int64_t id, int64_t *ttl_s, struct err *e)
{
	struct keepalive_ctx k = { id, 0 };
	struct rpc r = { "lease/keepalive", true, parse_keepalive, NULL, &k };

	*ttl_s = 0;
	buf_reset(&c->req);
	if (prepare(c, etcd_json_lease_id(&c->req, id, e)) == -1 || call(c, &r, e) == -1)
		return -1;
	*ttl_s = k.ttl_s;
	return 0;
}

static enum outcome parse_header(struct etcd *c, void *ctx, struct err *e)
{
	int64_t rev;

	(void)ctx;
	return etcd_json_parse_header(reply_body(c), c->reply.len, &rev, e) == 0 ? OUT_OK : OUT_BAD;
}

/* "requested lease not found": already revoked or expired, which is what
 * the caller wanted. */
static bool lease_gone(const struct etcd_json_error *je)
{
	return je->code == 5;
}

int etcd_lease_revoke(struct etcd *c, int64_t id, struct err *e)
{
	struct rpc r = { "lease/revoke", false, parse_header, lease_gone, NULL };

	buf_reset(&c->req);
	if (prepare(c, etcd_json_lease_id(&c->req, id, e)) == -1)
		return -1;
	return call(c, &r, e);
}

struct range_ctx {
	struct etcd_kv *kv;
	int64_t revision;
};

static enum outcome parse_range(struct etcd *c, void *ctx, struct err *e)
{
	struct range_ctx *g = ctx;

	return etcd_json_parse_range(reply_body(c), c->reply.len, g->kv, &g->revision, e) == 0 ?
	    OUT_OK : OUT_BAD;
}

int etcd_get(struct etcd *c, const char *key, struct etcd_kv *kv, int64_t *revision,
    struct err *e)
{
	struct range_ctx g = { kv, 0 };
	struct rpc r = { "kv/range", false, parse_range, NULL, &g };

	*revision = 0;
	buf_reset(&c->req);
	if (prepare(c, etcd_json_range(&c->req, key, e)) == -1 || call(c, &r, e) == -1)
		return -1;
	*revision = g.revision;
	return 0;
}

struct campaign_ctx {
	bool has_read_key, won;
	int64_t revision;
	struct etcd_kv *out;
};

static enum outcome parse_campaign(struct etcd *c, void *ctx, struct err *e)
{
	struct campaign_ctx *g = ctx;

	return etcd_json_parse_create_if_absent(reply_body(c), c->reply.len, g->has_read_key,
	    &g->won, &g->revision, g->out, e) == 0 ? OUT_OK : OUT_BAD;
}

int etcd_create_if_absent(struct etcd *c, const char *key, const char *value, int64_t lease,
    const char *read_key, bool *won, int64_t *revision, struct etcd_kv *out, struct err *e)
{
	struct campaign_ctx g = { read_key != NULL, false, 0, out };
	struct rpc r = { "kv/txn", false, parse_campaign, NULL, &g };

	*won = false;
	*revision = 0;
	buf_reset(&c->req);
	if (prepare(c, etcd_json_create_if_absent(&c->req, key, value, lease, read_key, e)) ==
	    -1 || call(c, &r, e) == -1)
		return -1;
	*won = g.won;
	*revision = g.revision;
	return 0;
}

struct put_if_ctx {
	bool ok;
	struct etcd_kv *holder;
};

static enum outcome parse_put_if(struct etcd *c, void *ctx, struct err *e)
{
	struct put_if_ctx *g = ctx;

	return etcd_json_parse_put_if(reply_body(c), c->reply.len, &g->ok, g->holder, e) == 0 ?
	    OUT_OK : OUT_BAD;
}

int etcd_put_if(struct etcd *c, const char *guard_key, int64_t guard_revision,
    const char *key, const char *value, size_t len, bool *ok, struct etcd_kv *holder,
    struct err *e)
{
	struct put_if_ctx g = { false, holder };
	struct rpc r = { "kv/txn", false, parse_put_if, NULL, &g };

	*ok = false;
	buf_reset(&c->req);
	if (prepare(c, etcd_json_put_if(&c->req, guard_key, guard_revision, key, value, len,
	    e)) == -1 || call(c, &r, e) == -1)
		return -1;
	*ok = g.ok;
	return 0;
}

static enum outcome parse_delete_if(struct etcd *c, void *ctx, struct err *e)
{
	return etcd_json_parse_delete_if(reply_body(c), c->reply.len, ctx, e) == 0 ?
	    OUT_OK : OUT_BAD;
}

int etcd_delete_if(struct etcd *c, const char *guard_key, int64_t guard_revision, bool *ok,
    struct err *e)
{
	struct rpc r = { "kv/txn", false, parse_delete_if, NULL, ok };

	*ok = false;
	buf_reset(&c->req);
	if (prepare(c, etcd_json_delete_if(&c->req, guard_key, guard_revision, e)) == -1)
		return -1;
	return call(c, &r, e);
}
