/* The controller's HTTP API. */
#include "controller/api.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "controller/statuspage.h"

#define JSON "application/json"

static void reply_json(struct http_conn *conn, int status, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT);

	json_decref(v);
	if (text == NULL) {
		http_respond_error(conn, 500, "out of memory");
		return;
	}
	http_respond(conn, status, JSON, NULL, text, strlen(text));
	free(text);
}

/* ---- answers that wait for etcd (HA) ---- */

/* A size change or a latched signal is answered only once etcd holds it:
 * a 200 or 202 then means a leader that dies next does not lose it. */
struct ctl_waiter {
	struct http_conn *conn;
	uint64_t seq;
	int status;
	char *body;
};

static void answer(struct http_conn *conn, int status, const char *body)
{
	http_respond(conn, status, JSON, NULL, body, strlen(body));
}

/* A latched signal that etcd could not be handed (out of memory). */
#define UNSAVED "out of memory: the signal could not be handed to etcd; send it again"

static const char lost_leadership[] =
	"{\"error\":\"leadership was lost before etcd held the change: it is not applied; "
	"send it again (to the leader)\"}";

void ctl_api_durable(struct controller *c)
{
	size_t k = 0;

	for (size_t i = 0; i < c->nwaiters; i++) {
		struct ctl_waiter *w = &c->waiters[i];

		if (c->ha_leading && w->seq > c->ha_written_seq) {
			c->waiters[k++] = *w;
			continue;
		}
		if (c->ha_leading)
			answer(w->conn, w->status, w->body);
		else
			http_respond(w->conn, 503, JSON, "Retry-After: 1\r\n", lost_leadership,
			    sizeof(lost_leadership) - 1);
		free(w->body);
	}
	c->nwaiters = k;
}

void ctl_api_abort(struct fleet *f)
{
	static const char msg[] = "{\"error\":\"the controller is stopping\"}";

	for (size_t p = 0; p < f->n; p++) {
		struct controller *c = f->pool[p];

		for (size_t i = 0; i < c->nwaiters; i++) {
			http_respond(c->waiters[i].conn, 503, JSON, NULL, msg, sizeof(msg) - 1);
			free(c->waiters[i].body);
		}
		free(c->waiters);
		c->waiters = NULL;
		c->nwaiters = 0;
	}
}

void ctl_api_done(void *ctx, int tag, const struct http_request *req, int status,
    int64_t dur_ns)
{
	struct fleet *f = ctx;

	(void)tag;
	(void)req;
	(void)dur_ns;
	if (status >= 0 && status < 600)
		f->api_requests[status]++;
}

/* Answers now, or once etcd holds what the request changed. */
static enum http_handled reply_durable(struct controller *c, struct http_conn *conn,
    int status, json_t *v)
{
	struct ctl_waiter *ws;
	char *text;

	if (ctl_ha_durable(c)) {
		reply_json(conn, status, v);
		return HTTP_HANDLED_DONE;
	}
	text = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	ws = text ? realloc(c->waiters, (c->nwaiters + 1) * sizeof(*ws)) : NULL;
	if (ws == NULL) {
		free(text);
		http_respond_error(conn, 500, "out of memory");
		return HTTP_HANDLED_DONE;
	}
	c->waiters = ws;
	ws[c->nwaiters++] = (struct ctl_waiter){ conn, c->ha_need_seq, status, text };
	return HTTP_HANDLED_PENDING;
}

/* An error whose message may need JSON escaping (it quotes user input). */
static void reply_error(struct http_conn *conn, int status, const char *msg)
{
	reply_json(conn, status, json_pack("{s:s}", "error", msg));
}

/* Constant time in the token's content, so a guess learns nothing from timing. */
static bool token_matches(const char *want, struct slice got)
{
	size_t n = strlen(want);
	unsigned diff = got.len != n;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned)(unsigned char)want[i] ^
		    (unsigned)(unsigned char)(i < got.len ? got.p[i] : 0);
	return diff == 0;
}

static bool authorized(const struct fleet *f, const struct http_request *req)
{
	const struct http_header *h;
	struct slice v;

	if (f->token[0] == '\0')
		return true;
	h = http_header_find(req, "authorization");
	if (h == NULL || h->value.len < 7 || strncasecmp(h->value.p, "Bearer ", 7) != 0)
		return false;
	v = (struct slice){ h->value.p + 7, h->value.len - 7 };
	return token_matches(f->token, v);
}

/* A follower's answer to what only the leader does: 503, which
 * Alertmanager and Grafana retry, naming the leader for anyone else. */
static void not_leader(struct controller *c, struct http_conn *conn)
{
	struct ha_info hi;
	json_t *v;
	char *text;

	ha_info(c->ha, &hi);
	v = json_pack("{s:s, s:s?, s:s?}", "error", hi.leader_name[0] ?
	    "this controller follows: send it to the leader" :
	    "no controller leads now (etcd unreachable or an election under way): try again",
	    "leader", hi.leader_name[0] ? hi.leader_name : NULL,
	    "leader_url", hi.leader_url[0] ? hi.leader_url : NULL);
	text = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (text == NULL) {
		http_respond_error(conn, 500, "out of memory");
		return;
	}
	http_respond(conn, 503, JSON, "Retry-After: 1\r\n", text, strlen(text));
	free(text);
}

static enum http_handled put_size(struct controller *c, struct http_conn *conn,
    struct slice body)
{
	json_error_t je;
	json_t *root, *size;
	char msg[192];
	struct err e;
	int prev = c->desired, min, max;
	json_int_t n;

	root = json_loadb(body.p, body.len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		snprintf(msg, sizeof(msg), "body is not JSON: %s", je.text);
		reply_error(conn, 400, msg);
		return HTTP_HANDLED_DONE;
	}
	size = json_object_get(root, "size");
	if (!json_is_object(root) || json_object_size(root) != 1 || !json_is_integer(size)) {
		json_decref(root);
		reply_error(conn, 400, "expected {\"size\": N} with a whole number N");
		return HTTP_HANDLED_DONE;
	}
	n = json_integer_value(size);
	json_decref(root);
	ctl_bounds(c, &min, &max);
	if (n < min || n > max) {
		char open[256];

		if (c->sched.b.active != 0)
			snprintf(msg, sizeof(msg), "size %lld is outside [min, max] = [%d, %d] "
			    "(schedule window %s open)", (long long)n, min, max,
			    ctl_sched_active_names(c, open, sizeof(open)));
		else if (min != c->cfg->min || max != c->cfg->max)
			snprintf(msg, sizeof(msg), "size %lld is outside [min, max] = [%d, %d] "
			    "(the configured [%d, %d] within the %s provider's own bounds [%d, %d])",
			    (long long)n, min, max, c->cfg->min, c->cfg->max, c->prov.ops->name,
			    c->prov_min, c->prov_max);
		else
			snprintf(msg, sizeof(msg), "size %lld is outside [min, max] = [%d, %d]",
			    (long long)n, min, max);
		reply_error(conn, 400, msg);
		return HTTP_HANDLED_DONE;
	}
	if (ctl_set_desired(c, (int)n, "api", &e) == -1) {
		reply_error(conn, 500, e.msg);
		return HTTP_HANDLED_DONE;
	}
	return reply_durable(c, conn, 200, json_pack("{s:i, s:i}", "previous", prev, "desired",
	    c->desired));
}

static void sd(struct controller *c, struct http_conn *conn, const struct http_request *req)
{
	struct slice v;
	char set[40], msg[96];
	char *json;

	if (!http_query_param(req->query, "set", &v) || v.len == 0 || v.len >= sizeof(set)) {
		reply_error(conn, 400, "give the target set: /api/v1/sd?set=NAME");
		return;
	}
	memcpy(set, v.p, v.len);
	set[v.len] = '\0';
	json = ctl_sd_json(c, set);
	if (json == NULL) {
		snprintf(msg, sizeof(msg), "no target set named \"%s\"", set);
		reply_error(conn, 404, msg);
		return;
	}
	http_respond(conn, 200, JSON, NULL, json, strlen(json));
	free(json);
}

static enum http_handled webhook(struct controller *c, struct http_conn *conn, int route,
    struct slice body)
{
	struct webhook_signal sig;
	const char *signal;

	if (!ctl_acting(c)) {
		/* Checked all the same: a sender must not retry a bad one. */
		if (webhook_parse(body.p, body.len, route, c->cfg->action_label, &sig) == -1)
			reply_error(conn, 400, sig.error);
		else
			not_leader(c, conn);
		return HTTP_HANDLED_DONE;
	}
	if (ctl_webhook(c, route, body.p, body.len, &sig) == -1) {
		reply_error(conn, 400, sig.error);
		return HTTP_HANDLED_DONE;
	}
	signal = sig.up ? "up" : sig.down ? "down" : "none";
	if ((sig.up || sig.down) && !ctl_ha_save(c, true)) {
		http_respond_error(conn, 503, UNSAVED);
		return HTTP_HANDLED_DONE;
	}
	/* 202 once latched (and, with HA, in etcd): the next interval acts on it. */
	return reply_durable(c, conn, 202, json_pack("{s:b, s:s, s:s, s:s, s:i, s:i}", "accepted", 1,
	    "source", webhook_source_name(sig.source), "signal", signal,
	    "policy", ctl_policy_name(c->cfg->policy), "current", ctl_active(c),
	    "desired", c->desired));
}

/* GET /api/v1/history[?since=UNIX_S]: the points after since (all without). */
static void history(struct controller *c, struct http_conn *conn, const struct http_request *req)
{
	struct slice v;
	char num[32], *end;
	double since_s = 0;

	if (http_query_param(req->query, "since", &v)) {
		if (v.len == 0 || v.len >= sizeof(num)) {
			reply_error(conn, 400, "since: expected unix seconds");
			return;
		}
		memcpy(num, v.p, v.len);
		num[v.len] = '\0';
		since_s = strtod(num, &end);
		if (*end != '\0' || !isfinite(since_s) || since_s < 0 || since_s > 1e11) {
			reply_error(conn, 400, "since: expected unix seconds");
			return;
		}
	}
	reply_json(conn, 200, history_json(&c->history, (int64_t)llround(since_s * 1000),
	    c->cfg->interval_ms));
}

/* The status page (controller/statuspage.h): a shell that holds no data,
 * so it needs no token; its script asks for one when the API does. The
 * policy keeps the page to itself: nothing loads from elsewhere and its
 * fetches go to this API only. */
static void page(struct http_conn *conn)
{
	static const char headers[] =
	    "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
	    "style-src 'unsafe-inline'; connect-src 'self'; img-src data:; "
	    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "Cache-Control: no-store\r\n";

	http_respond(conn, 200, "text/html; charset=utf-8", headers, ctl_status_page,
	    strlen(ctl_status_page));
}

/* What a path asks for: something of the controller's, or of one pool. */
enum route_kind {
	R_PAGE = 0, R_POOLS, R_METRICS, R_HEALTHY, R_READY,
	R_STATUS, R_HISTORY, R_SIZE, R_EVENTS, R_SD, R_ALERTS, R_UP, R_DOWN,
};

struct route {
	const char *path;
	const char *method;	/* GET routes also answer HEAD */
	bool open;		/* served without the token: holds no data */
	enum route_kind kind;
};

static const struct route routes[] = {
	{ "/", "GET", true, R_PAGE },
	{ "/api/v1/pools", "GET", false, R_POOLS },
	{ "/metrics", "GET", false, R_METRICS },
	{ "/-/healthy", "GET", false, R_HEALTHY },
	{ "/-/ready", "GET", false, R_READY },
	/* A pool's, at their single-pool paths. */
	{ "/api/v1/status", "GET", false, R_STATUS },
	{ "/api/v1/history", "GET", false, R_HISTORY },
	{ "/api/v1/pool/size", "PUT", false, R_SIZE },
	{ "/api/v1/events", "GET", false, R_EVENTS },
	{ "/api/v1/sd", "GET", false, R_SD },
	{ "/api/v1/alerts", "POST", false, R_ALERTS },
	{ "/up", "POST", false, R_UP },
	{ "/down", "POST", false, R_DOWN },
};

/* A pool's, under /api/v1/pools/NAME/ (and /pools/NAME/ for up and down,
 * as /up and /down sit at the root). */
static const struct route pool_routes[] = {
	{ "status", "GET", false, R_STATUS },
	{ "history", "GET", false, R_HISTORY },
	{ "size", "PUT", false, R_SIZE },
	{ "events", "GET", false, R_EVENTS },
	{ "sd", "GET", false, R_SD },
	{ "alerts", "POST", false, R_ALERTS },
	{ "up", "POST", false, R_UP },
	{ "down", "POST", false, R_DOWN },
};

#define NROUTES(a) (sizeof(a) / sizeof((a)[0]))

static bool starts(struct slice s, const char *prefix, struct slice *rest)
{
	size_t n = strlen(prefix);

	if (s.len < n || memcmp(s.p, prefix, n) != 0)
		return false;
	*rest = (struct slice){ s.p + n, s.len - n };
	return true;
}

/* The route of path; *pool is the name it gives (len 0: none). */
static const struct route *match(struct slice path, struct slice *pool)
{
	struct slice rest;
	const char *slash;
	bool api;

	*pool = (struct slice){ NULL, 0 };
	for (size_t i = 0; i < NROUTES(routes); i++)
		if (slice_eq(path, routes[i].path))
			return &routes[i];
	api = starts(path, "/api/v1/pools/", &rest);
	if (!api && !starts(path, "/pools/", &rest))
		return NULL;
	slash = memchr(rest.p, '/', rest.len);
	if (slash == NULL || slash == rest.p)
		return NULL;
	*pool = (struct slice){ rest.p, (size_t)(slash - rest.p) };
	rest = (struct slice){ slash + 1, rest.len - pool->len - 1 };
	for (size_t i = 0; i < NROUTES(pool_routes); i++)
		if (slice_eq(rest, pool_routes[i].path) &&
		    (api || pool_routes[i].kind == R_UP || pool_routes[i].kind == R_DOWN))
			return &pool_routes[i];
	return NULL;
}

static json_t *names_json(const struct fleet *f)
{
	json_t *a = json_array();

	for (size_t i = 0; i < f->n; i++)
		json_array_append_new(a, json_string(f->pool[i]->cfg->pool));
	return a;
}

/* GET /api/v1/pools: each pool in a line of figures. */
static void pools(struct fleet *f, struct http_conn *conn)
{
	json_t *a = json_array();

	for (size_t i = 0; i < f->n; i++) {
		struct controller *c = f->pool[i];
		int min, max;

		ctl_bounds(c, &min, &max);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:b}",
		    "name", c->cfg->pool, "provider", c->cfg->provider,
		    "policy", ctl_policy_name(c->cfg->policy), "min", min, "max", max,
		    "desired", c->desired, "active", ctl_active(c), "ready", c->ready));
	}
	reply_json(conn, 200, json_pack("{s:o}", "pools", a));
}

/* A request that names no pool of ours, or none: the error, and the
 * pools there are, {"error", "pools"}. */
static void pools_error(struct fleet *f, struct http_conn *conn, int status, const char *msg)
{
	reply_json(conn, status, json_pack("{s:s, s:o}", "error", msg, "pools", names_json(f)));
}

/* A pool's route at its old path on a controller with several pools. */
static void which_pool(struct fleet *f, struct http_conn *conn, const struct route *r)
{
	char names[512], msg[700];
	const char *sub = r->path;

	for (size_t i = 0; i < NROUTES(pool_routes); i++)
		if (pool_routes[i].kind == r->kind)
			sub = pool_routes[i].path;
	snprintf(msg, sizeof(msg), "this controller runs %zu pools (%s): use /api/v1/pools/NAME/%s",
	    f->n, fleet_names(f, names, sizeof(names)), sub);
	pools_error(f, conn, 400, msg);
}

static void no_such_pool(struct fleet *f, struct http_conn *conn, struct slice name)
{
	char names[512], msg[700];

	snprintf(msg, sizeof(msg), "no pool named \"%.*s\" (this controller runs: %s)",
	    (int)(name.len > 64 ? 64 : name.len), name.p, fleet_names(f, names, sizeof(names)));
	pools_error(f, conn, 404, msg);
}

/* POST /api/v1/alerts with several pools: each firing alert goes to the
 * pool its poolscale_pool label names. One that names none of ours
 * refuses the whole body, so nothing is half-applied. */
static enum http_handled alerts(struct fleet *f, struct http_conn *conn, struct slice body)
{
	struct controller *to[WEBHOOK_MAX_POOLS], *saved = NULL;
	bool unsaved = false;
	struct webhook_signal sig;
	char names[512], msg[700];
	json_t *a, *v;

	if (webhook_parse(body.p, body.len, 0, f->pool[0]->cfg->action_label, &sig) == -1) {
		f->alerts_unrouted++;
		reply_error(conn, 400, sig.error);
		return HTTP_HANDLED_DONE;
	}
	for (size_t i = 0; i < sig.npools; i++) {
		const char *p = sig.by_pool[i].pool;

		to[i] = p[0] ? fleet_find(f, p, strlen(p)) : fleet_only(f);
		if (to[i] != NULL)
			continue;
		f->alerts_unrouted++;
		fleet_names(f, names, sizeof(names));
		if (p[0])
			snprintf(msg, sizeof(msg), "an alert names pool \"%s\" (label "
			    WEBHOOK_POOL_LABEL "), which this controller does not run (it runs: %s)",
			    p, names);
		else
			snprintf(msg, sizeof(msg), "a firing alert has no " WEBHOOK_POOL_LABEL
			    " label and this controller runs %zu pools (%s): add the label, or "
			    "send to /api/v1/pools/NAME/alerts", f->n, names);
		pools_error(f, conn, 400, msg);
		return HTTP_HANDLED_DONE;
	}
	if (fleet_only(f) != NULL)	/* one pool: its own path and answer */
		return webhook(fleet_only(f), conn, 0, body);
	/* The pools lead together (controller/failover.c): all or none. */
	if (!ctl_acting(f->pool[0])) {
		not_leader(f->pool[0], conn);
		return HTTP_HANDLED_DONE;
	}
	a = json_array();
	for (size_t i = 0; i < sig.npools; i++) {
		const struct webhook_pool_signal *g = &sig.by_pool[i];

		ctl_webhook_latch(to[i], sig.source, g->up, g->down);
		if (g->up || g->down) {
			unsaved |= !ctl_ha_save(to[i], true);
			saved = to[i];
		}
		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:i}", "pool", to[i]->cfg->pool,
		    "signal", g->up ? "up" : g->down ? "down" : "none",
		    "current", ctl_active(to[i]), "desired", to[i]->desired));
	}
	v = json_pack("{s:b, s:s, s:o}", "accepted", 1, "source", webhook_source_name(sig.source),
	    "pools", a);
	/* etcd's one document holds every pool: the last write covers them all. */
	if (unsaved) {
		json_decref(v);
		http_respond_error(conn, 503, UNSAVED);
		return HTTP_HANDLED_DONE;
	}
	if (saved != NULL)
		return reply_durable(saved, conn, 202, v);
	reply_json(conn, 202, v);
	return HTTP_HANDLED_DONE;
}

static enum http_handled pool_route(struct controller *c, struct http_conn *conn,
    const struct http_request *req, enum route_kind kind, struct slice body)
{
	switch (kind) {
	case R_STATUS:
		reply_json(conn, 200, ctl_status_json(c));
		break;
	case R_HISTORY:
		history(c, conn, req);
		break;
	case R_SIZE:
		if (ctl_acting(c))
			return put_size(c, conn, body);
		not_leader(c, conn);
		break;
	case R_EVENTS:
		reply_json(conn, 200, events_json(&c->events));
		break;
	case R_SD:
		sd(c, conn, req);
		break;
	case R_UP:
		return webhook(c, conn, 1, body);
	case R_DOWN:
		return webhook(c, conn, -1, body);
	case R_ALERTS:
		return webhook(c, conn, 0, body);
	default:
		http_respond_error(conn, 404, "not found");
	}
	return HTTP_HANDLED_DONE;
}

enum http_handled ctl_api_handle(void *ctx, struct http_conn *conn,
    const struct http_request *req, struct slice body)
{
	struct fleet *f = ctx;
	const struct route *r;
	struct controller *c;
	struct slice name, v;
	bool head_ok;

	r = match(req->path, &name);
	if (r == NULL) {
		http_respond_error(conn, 404, "not found");
		return HTTP_HANDLED_DONE;
	}
	if (!r->open && !authorized(f, req)) {
		static const char msg[] = "{\"error\":\"missing or wrong bearer token\"}\n";

		http_respond(conn, 401, JSON, "WWW-Authenticate: Bearer\r\n", msg, sizeof(msg) - 1);
		return HTTP_HANDLED_DONE;
	}
	head_ok = strcmp(r->method, "GET") == 0 && slice_eq(req->method, "HEAD");
	if (!slice_eq(req->method, r->method) && !head_ok) {
		char allow[64], msg[] = "{\"error\":\"method not allowed\"}\n";

		snprintf(allow, sizeof(allow), "Allow: %s%s\r\n", r->method,
		    strcmp(r->method, "GET") == 0 ? ", HEAD" : "");
		http_respond(conn, 405, JSON, allow, msg, sizeof(msg) - 1);
		return HTTP_HANDLED_DONE;
	}
	switch (r->kind) {
	case R_PAGE:
		page(conn);
		return HTTP_HANDLED_DONE;
	case R_POOLS:
		pools(f, conn);
		return HTTP_HANDLED_DONE;
	case R_METRICS: {
		struct buf b;

		buf_init(&b, 64 << 20);
		fleet_metrics(f, &b);
		http_respond(conn, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.p, b.len);
		buf_fini(&b);
		return HTTP_HANDLED_DONE;
	}
	case R_HEALTHY:
		http_respond(conn, 200, "text/plain; charset=utf-8", NULL, "Healthy\n", 8);
		return HTTP_HANDLED_DONE;
	case R_READY:
		if (fleet_ready(f))
			http_respond(conn, 200, "text/plain; charset=utf-8", NULL, "Ready\n", 6);
		else
			http_respond(conn, 503, "text/plain; charset=utf-8", NULL, "Not ready\n", 10);
		return HTTP_HANDLED_DONE;
	default:
		break;
	}
	/* A pool's: by the path, by ?pool= (http_sd, whose URL is all
	 * Prometheus lets one set), by the alerts' labels, or the only one. */
	if (name.len == 0 && r->kind == R_SD && http_query_param(req->query, "pool", &v))
		name = v;
	if (name.len == 0 && r->kind == R_ALERTS)
		return alerts(f, conn, body);
	if (name.len > 0) {
		c = fleet_find(f, name.p, name.len);
		if (c == NULL) {
			no_such_pool(f, conn, name);
			return HTTP_HANDLED_DONE;
		}
	} else if ((c = fleet_only(f)) == NULL) {
		which_pool(f, conn, r);
		return HTTP_HANDLED_DONE;
	}
	return pool_route(c, conn, req, r->kind, body);
}
