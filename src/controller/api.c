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

void ctl_api_abort(struct controller *c)
{
	static const char msg[] = "{\"error\":\"the controller is stopping\"}";

	for (size_t i = 0; i < c->nwaiters; i++) {
		http_respond(c->waiters[i].conn, 503, JSON, NULL, msg, sizeof(msg) - 1);
		free(c->waiters[i].body);
	}
	free(c->waiters);
	c->waiters = NULL;
	c->nwaiters = 0;
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

static bool authorized(const struct controller *c, const struct http_request *req)
{
	const struct http_header *h;
	struct slice v;

	if (c->cfg->token[0] == '\0')
		return true;
	h = http_header_find(req, "authorization");
	if (h == NULL || h->value.len < 7 || strncasecmp(h->value.p, "Bearer ", 7) != 0)
		return false;
	v = (struct slice){ h->value.p + 7, h->value.len - 7 };
	return token_matches(c->cfg->token, v);
}

/* Its samples in the last target decision, one per metric (null: none);
 * empty for the step policy, which reads no metric. */
static json_t *member_metrics_json(const struct controller *c, const struct cmember *m)
{
	json_t *a = json_array();

	if (c->cfg->policy != CTL_POLICY_TARGET)
		return a;
	for (size_t j = 0; j < c->cfg->target.nmetrics && j < POLICY_MAX_METRICS; j++)
		json_array_append_new(a, m->metric_known[j] ? json_real(m->metric_value[j]) :
		    json_null());
	return a;
}

static json_t *member_json(const struct controller *c, const struct cmember *m)
{
	int64_t now = clock_wall_unix_ms() / 1000;

	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:o}", "id", m->id,
	    "address", m->address, "state", member_state_name(m->state),
	    "created", (json_int_t)m->created_unix_s,
	    "age_s", (json_int_t)(now - m->created_unix_s), "health_fails", m->fails,
	    "metrics", member_metrics_json(c, m));
}

/* Each window: its settings, whether it is open and since when. */
static json_t *schedule_json(const struct controller *c)
{
	json_t *a = json_array();

	for (int i = 0; i < c->cfg->nschedule; i++) {
		const struct sched_entry *s = &c->cfg->schedule[i];
		bool open = c->sched.b.active >> i & 1;

		json_array_append_new(a, json_pack("{s:s, s:b, s:o, s:o, s:o, s:s}",
		    "name", s->name, "active", open,
		    "since", open ? json_integer(c->sched.b.since_s[i]) : json_null(),
		    "min", s->min >= 0 ? json_integer(s->min) : json_null(),
		    "max", s->max >= 0 ? json_integer(s->max) : json_null(),
		    "timezone", s->zone[0] ? s->zone : "UTC"));
	}
	return a;
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* The forecast in the status: null when off. */
static json_t *forecast_json(const struct controller *c)
{
	struct ctl_forecast_info fi;

	ctl_forecast_info(c, &fi);
	if (!fi.enabled)
		return json_null();
	return json_pack("{s:o, s:o, s:f, s:s, s:s, s:s, s:f, s:b, s:I, s:s}",
	    "need", num_or_null(fi.last.need), "level", num_or_null(fi.last.level),
	    "horizon_s", (double)fi.horizon_ms / 1000, "basis", forecast_basis_name(fi.last.basis),
	    "season", forecast_season_name(fi.last.season), "note", fi.last.note,
	    "history_hours", fi.last.history_s / 3600, "history_from_prometheus", fi.history,
	    "history_points", (json_int_t)fi.history_points, "history_error", fi.history_error);
}

/* The target policy's metrics, in the order of each member's "metrics":
 * kind, target value and the value the last decision measured (mean or
 * total); empty for the step policy. */
static json_t *policy_metrics_json(const struct controller *c)
{
	json_t *a = json_array();

	if (c->cfg->policy != CTL_POLICY_TARGET)
		return a;
	for (size_t j = 0; j < c->cfg->target.nmetrics && j < POLICY_MAX_METRICS; j++) {
		const struct target_metric *t = &c->cfg->target.metrics[j];

		json_array_append_new(a, json_pack("{s:s, s:f, s:o}", "kind",
		    t->kind == POLICY_METRIC_TOTAL ? "total" : "average", "target", t->value,
		    "value", num_or_null(c->as.metric_values[j])));
	}
	return a;
}

/* HA's part of the status: null without `ha:`. */
static json_t *ha_json(struct controller *c)
{
	struct ha_info hi;

	if (c->ha == NULL)
		return json_null();
	ha_info(c->ha, &hi);
	return json_pack("{s:b, s:s, s:s, s:s, s:f, s:I, s:b, s:s}", "leader",
	    hi.leader && ctl_acting(c), "name", hi.name, "leader_name", hi.leader_name,
	    "leader_url", hi.leader_url, "lease_seconds_left", hi.lease_seconds_left,
	    "leader_changes", (json_int_t)hi.leader_changes, "etcd_ok", hi.etcd_ok,
	    "etcd_error", hi.etcd_error);
}

static void status(struct controller *c, struct http_conn *conn)
{
	json_t *members = json_array(), *v;
	int min, max;

	ctl_bounds(c, &min, &max);
	for (size_t i = 0; i < c->n; i++)
		json_array_append_new(members, member_json(c, &c->m[i]));
	v = json_pack("{s:s, s:s, s:i, s:i, s:i, s:b, s:o, s:{s:s, s:f}, s:{s:s, s:s, s:o, s:o, "
	    "s:o, s:b, s:o}}",
	    "pool", c->cfg->pool, "provider", c->cfg->provider, "min", min,
	    "max", max, "desired", c->desired, "dry_run", c->cfg->dry_run,
	    "members", members, "last_decision", "reason", c->last_decision,
	    "time", (double)c->last_decision_unix_ms / 1000.0,
	    "policy", "kind", ctl_policy_name(c->cfg->policy), "reason", c->as.last_reason,
	    "metric", num_or_null(c->as.metric), "need", num_or_null(c->as.need),
	    "target", c->cfg->policy == CTL_POLICY_TARGET ?
	    num_or_null(c->cfg->target.metrics[0].value) : json_null(),
	    "holding", c->as.held, "forecast", forecast_json(c));
	json_object_set_new(v, "schedule", schedule_json(c));
	json_object_set_new(json_object_get(v, "policy"), "metrics", policy_metrics_json(c));
	json_object_set_new(v, "ha", ha_json(c));
	reply_json(conn, 200, v);
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
	if (sig.up || sig.down)
		ctl_ha_save(c, true);
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

struct route {
	const char *path;
	const char *method;	/* GET routes also answer HEAD */
	bool open;		/* served without the token: holds no data */
};

static const struct route routes[] = {
	{ "/", "GET", true },
	{ "/api/v1/status", "GET", false },
	{ "/api/v1/history", "GET", false },
	{ "/api/v1/pool/size", "PUT", false },
	{ "/api/v1/events", "GET", false },
	{ "/api/v1/sd", "GET", false },
	{ "/metrics", "GET", false },
	{ "/-/healthy", "GET", false },
	{ "/-/ready", "GET", false },
	{ "/up", "POST", false },
	{ "/down", "POST", false },
	{ "/api/v1/alerts", "POST", false },
};

enum http_handled ctl_api_handle(void *ctx, struct http_conn *conn,
    const struct http_request *req, struct slice body)
{
	struct controller *c = ctx;
	const struct route *r = NULL;
	bool head_ok;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (slice_eq(req->path, routes[i].path))
			r = &routes[i];
	if (r == NULL) {
		http_respond_error(conn, 404, "not found");
		return HTTP_HANDLED_DONE;
	}
	if (!r->open && !authorized(c, req)) {
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
	if (slice_eq(req->path, "/")) {
		page(conn);
	} else if (slice_eq(req->path, "/api/v1/status")) {
		status(c, conn);
	} else if (slice_eq(req->path, "/api/v1/history")) {
		history(c, conn, req);
	} else if (slice_eq(req->path, "/api/v1/pool/size")) {
		if (ctl_acting(c))
			return put_size(c, conn, body);
		not_leader(c, conn);
	} else if (slice_eq(req->path, "/api/v1/events")) {
		reply_json(conn, 200, events_json(&c->events));
	} else if (slice_eq(req->path, "/api/v1/sd")) {
		sd(c, conn, req);
	} else if (slice_eq(req->path, "/metrics")) {
		struct buf b;

		buf_init(&b, 1 << 20);
		ctl_metrics_render(c, &b);
		http_respond(conn, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.p, b.len);
		buf_fini(&b);
	} else if (slice_eq(req->path, "/up")) {
		return webhook(c, conn, 1, body);
	} else if (slice_eq(req->path, "/down")) {
		return webhook(c, conn, -1, body);
	} else if (slice_eq(req->path, "/api/v1/alerts")) {
		return webhook(c, conn, 0, body);
	} else if (slice_eq(req->path, "/-/healthy")) {
		http_respond(conn, 200, "text/plain; charset=utf-8", NULL, "Healthy\n", 8);
	} else if (c->ready) {
		http_respond(conn, 200, "text/plain; charset=utf-8", NULL, "Ready\n", 6);
	} else {
		http_respond(conn, 503, "text/plain; charset=utf-8", NULL, "Not ready\n", 10);
	}
	return HTTP_HANDLED_DONE;
}
