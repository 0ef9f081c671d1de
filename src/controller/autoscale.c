/* The glue between the controller and its policy: gathers the observation
 * (latched webhook signals, or one Prometheus query per target metric and
 * one for the backlog, matched to members),
 * calls the pure policy, applies and records its decision. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "controller/controller.h"
#include "policy/step.h"
#include "policy/target.h"

static const char *const cause_names[MCAUSE_N] = {
	[MCAUSE_CONNECT] = "connect",
	[MCAUSE_TIMEOUT] = "timeout",
	[MCAUSE_HTTP] = "http",
	[MCAUSE_BAD_RESPONSE] = "bad_response",
	[MCAUSE_QUERY_ERROR] = "query_error",
	[MCAUSE_EMPTY] = "empty",
};

const char *metric_cause_name(enum metric_cause c)
{
	return (unsigned)c < MCAUSE_N ? cause_names[c] : "unknown";
}

static enum metric_cause cause_of(const char *name)
{
	for (int i = 0; i < MCAUSE_N; i++)
		if (strcmp(cause_names[i], name) == 0)
			return (enum metric_cause)i;
	return MCAUSE_BAD_RESPONSE;
}

/* One target decision's queries: every metric's, then the backlog's, one
 * after another (the client runs one query at a time), each matched to
 * the members as they were when the tick began, so that every metric's
 * samples come in the same member order. */
struct ctl_round {
	bool running;
	size_t next;			/* the query in flight: metric i, or nmetrics = backlog */
	size_t nmembers;
	char (*address)[64];		/* the members that count, at the tick */
	bool *warming;
	struct policy_sample *samples[POLICY_MAX_METRICS];
	struct policy_metric_obs obs[POLICY_MAX_METRICS];
	char error[POLICY_MAX_METRICS][256];
	double backlog;
	size_t cap;
};

static void round_free(struct ctl_round *r);

int ctl_autoscale_init(struct controller *c, struct err *e)
{
	c->as.metric = NAN;
	c->as.need = NAN;
	for (size_t i = 0; i < POLICY_MAX_METRICS; i++)
		c->as.metric_values[i] = NAN;
	c->as.recommendation = -1;
	if (c->cfg->policy != CTL_POLICY_TARGET)
		return 0;
	c->as.tstate = malloc(sizeof(*c->as.tstate));
	if (c->as.tstate == NULL)
		return err_set(e, "out of memory");
	policy_target_init(c->as.tstate);
	c->as.round = calloc(1, sizeof(*c->as.round));
	if (c->as.round == NULL)
		return err_set(e, "out of memory");
	c->as.prom = prom_client_new(c->loop, c->cfg->prom_url, c->cfg->prom_timeout_ms, e);
	return c->as.prom ? ctl_forecast_init(c, e) : -1;
}

void ctl_autoscale_fini(struct controller *c)
{
	ctl_forecast_fini(c);
	prom_client_free(c->as.prom);
	c->as.prom = NULL;
	free(c->as.tstate);
	c->as.tstate = NULL;
	round_free(c->as.round);
	c->as.round = NULL;
}

static void apply(struct controller *c, const struct policy_decision *d)
{
	struct err e;

	c->as.decisions[d->dir]++;
	c->as.recommendation = d->recommendation;
	snprintf(c->as.last_reason, sizeof(c->as.last_reason), "%s", d->reason);
	if (d->desired == c->desired)
		return;
	if (c->cfg->dry_run) {
		log_msg(LOG_INFO, "dry run: the policy would resize",
		    "pool=%s policy=%s from=%d to=%d reason=%s", c->cfg->pool,
		    ctl_policy_name(c->cfg->policy), c->desired, d->desired, d->reason);
		return;
	}
	c->as.last_step_unix_ms = clock_wall_unix_ms();
	if (ctl_set_desired(c, d->desired, d->reason, &e) == -1)
		log_msg(LOG_ERROR, "could not apply a decision", "pool=%s error=%s", c->cfg->pool,
		    e.msg);
}

static void step_tick(struct controller *c)
{
	struct policy_obs obs = {
		.current = c->desired,
	};
	struct policy_decision d;

	ctl_bounds(c, &obs.min, &obs.max);
	policy_step_decide_latched(&c->cfg->step, &c->as.latch, &obs, &d);
	c->ha_dirty = true;	/* the latch was cleared */
	apply(c, &d);
}

/* The fail-safe's log: once when it starts holding, once when it recovers. */
static void note_hold(struct controller *c, bool held, const char *why)
{
	if (held && !c->as.held)
		log_msg(LOG_WARN, "metrics unavailable: holding the size, never scaling in",
		    "pool=%s reason=%s desired=%d", c->cfg->pool, why, c->desired);
	else if (!held && c->as.held)
		log_msg(LOG_INFO, "metrics are back: scaling resumes", "pool=%s desired=%d",
		    c->cfg->pool, c->desired);
	c->as.held = held;
}

static void round_free(struct ctl_round *r)
{
	if (r == NULL)
		return;
	free(r->address);
	free(r->warming);
	for (size_t i = 0; i < POLICY_MAX_METRICS; i++)
		free(r->samples[i]);
	free(r);
}

/* Takes the members that count (pending and running, not draining). */
static int round_begin(struct controller *c, struct ctl_round *r)
{
	int64_t now_s = clock_wall_unix_ms() / 1000;

	if (r->cap < c->n || r->cap == 0) {
		size_t cap = c->n ? c->n : 1;
		void *a = realloc(r->address, cap * sizeof(*r->address));

		if (a == NULL)
			return -1;
		r->address = a;
		if ((a = realloc(r->warming, cap * sizeof(*r->warming))) == NULL)
			return -1;
		r->warming = a;
		for (size_t i = 0; i < POLICY_MAX_METRICS; i++) {
			if ((a = realloc(r->samples[i], cap * sizeof(*r->samples[i]))) == NULL)
				return -1;
			r->samples[i] = a;
		}
		r->cap = cap;
	}
	r->nmembers = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct cmember *m = &c->m[i];

		if (m->state != MEMBER_PENDING && m->state != MEMBER_RUNNING)
			continue;
		memcpy(r->address[r->nmembers], m->address, sizeof(r->address[0]));
		r->warming[r->nmembers] = m->state == MEMBER_PENDING ||
		    (now_s - m->created_unix_s) * 1000 < c->cfg->warmup_ms;
		r->nmembers++;
	}
	memset(r->obs, 0, sizeof(r->obs));
	r->backlog = NAN;
	r->next = 0;
	r->running = true;
	return 0;
}

/* Metric i's answer, as one sample per member of the round. */
static void round_metric(struct controller *c, struct ctl_round *r, size_t i, bool ok,
    const struct prom_result *res, const char *cause, const char *msg)
{
	struct policy_metric_obs *o = &r->obs[i];
	struct policy_sample *s = r->samples[i];
	size_t matched = 0;
	const char *what = c->cfg->target.nmetrics > 1 ? "metric " : "";
	char num[32] = "";

	if (c->cfg->target.nmetrics > 1)
		snprintf(num, sizeof(num), "%zu: ", i + 1);
	o->ok = ok;
	if (!ok) {
		c->as.metric_errors[cause_of(cause)]++;
		snprintf(r->error[i], sizeof(r->error[i]), "%s%sprometheus %s: %s", what, num, cause,
		    msg);
		o->error = r->error[i];
		return;
	}
	if (res->is_scalar) {
		c->as.metric_errors[MCAUSE_QUERY_ERROR]++;
		o->ok = false;
		snprintf(r->error[i], sizeof(r->error[i]),
		    "%s%sthe query gives a scalar, not one value per instance", what, num);
		o->error = r->error[i];
		return;
	}
	for (size_t k = 0; k < r->nmembers; k++) {
		s[k] = (struct policy_sample){ .warming = r->warming[k] };
		for (size_t j = 0; j < res->n; j++) {
			char host[128];

			prom_instance_host(res->v[j].instance, host, sizeof(host));
			if (strcmp(host, r->address[k]) == 0 && isfinite(res->v[j].value)) {
				s[k].has_value = true;
				s[k].value = res->v[j].value;
				matched++;
				break;
			}
		}
	}
	o->samples = s;
	o->nsamples = r->nmembers;
	if (matched == 0 && r->nmembers > 0)	/* an empty pool answers empty */
		c->as.metric_errors[MCAUSE_EMPTY]++;
}

/* The backlog query's answer: a scalar, or the sum of a vector (the
 * queue of every member, however the query groups it). NaN when it
 * failed: the backlog term is left out, the metrics still decide. */
static void round_backlog(struct controller *c, struct ctl_round *r, bool ok,
    const struct prom_result *res, const char *cause, const char *msg)
{
	double sum = 0;

	if (!ok) {
		c->as.metric_errors[cause_of(cause)]++;
		log_msg(LOG_WARN, "backlog query failed: deciding without it",
		    "pool=%s cause=%s error=%s", c->cfg->pool, cause, msg);
		return;
	}
	if (res->is_scalar) {
		r->backlog = isfinite(res->scalar) ? res->scalar : NAN;
		return;
	}
	for (size_t j = 0; j < res->n; j++)
		if (isfinite(res->v[j].value))
			sum += res->v[j].value;
	r->backlog = res->n > 0 ? sum : NAN;
}

/* Each member's samples of this round, for the status: matched by
 * address, since members may have come or gone while the queries ran;
 * members outside the round (draining, new) have none. */
static void keep_samples(struct controller *c, const struct ctl_round *r)
{
	size_t nm = c->cfg->target.nmetrics;

	for (size_t i = 0; i < c->n; i++) {
		struct cmember *m = &c->m[i];

		memset(m->metric_known, 0, sizeof(m->metric_known));
		for (size_t k = 0; k < r->nmembers; k++) {
			if (strcmp(m->address, r->address[k]) != 0)
				continue;
			for (size_t j = 0; j < nm && j < POLICY_MAX_METRICS; j++) {
				const struct policy_metric_obs *o = &r->obs[j];

				if (!o->ok || o->samples == NULL || k >= o->nsamples ||
				    !o->samples[k].has_value)
					continue;
				m->metric_known[j] = true;
				m->metric_value[j] = o->samples[k].value;
			}
			break;
		}
	}
}

static void decide(struct controller *c, struct ctl_round *r)
{
	struct policy_obs obs = {
		.current = c->desired, .nmetrics = c->cfg->target.nmetrics,
		.backlog = r->backlog, .forecast_need = NAN,
	};
	struct policy_decision d;

	r->running = false;
	ctl_bounds(c, &obs.min, &obs.max);
	memcpy(obs.metrics, r->obs, sizeof(obs.metrics));
	obs.forecast_need = ctl_forecast_need(c, &obs.forecast_note);
	policy_target_decide(&c->cfg->target, c->as.tstate, &obs, loop_now_ms(c->loop), &d);
	ctl_forecast_feed(c, d.need);
	c->as.metric = d.metric;
	c->as.need = d.need;
	memcpy(c->as.metric_values, d.metric_values, sizeof(c->as.metric_values));
	keep_samples(c, r);
	note_hold(c, d.held, d.reason);
	c->ha_dirty = true;	/* the windows moved */
	apply(c, &d);
}

static void start_next(struct controller *c, struct ctl_round *r);

static void query_done(void *ctx, bool ok, const struct prom_result *res, const char *cause,
    const char *msg)
{
	struct controller *c = ctx;
	struct ctl_round *r = c->as.round;

	if (c->stopping || (cause != NULL && strcmp(cause, "cancelled") == 0)) {
		r->running = false;
		return;
	}
	if (r->next < c->cfg->target.nmetrics)
		round_metric(c, r, r->next, ok, res, cause, msg);
	else
		round_backlog(c, r, ok, res, cause, msg);
	r->next++;
	start_next(c, r);
}

/* Starts the round's next query, or decides when none is left. */
static void start_next(struct controller *c, struct ctl_round *r)
{
	const char *q;

	while (r->next <= c->cfg->target.nmetrics) {
		q = r->next < c->cfg->target.nmetrics ? c->cfg->metric_query[r->next] :
		    c->cfg->backlog_query;
		if (q[0] == '\0') {
			r->next++;	/* no backlog query */
			continue;
		}
		if (prom_client_query(c->as.prom, q, query_done, c) == 0)
			return;
		log_msg(LOG_ERROR, "could not start a Prometheus query", "pool=%s url=%s",
		    c->cfg->pool, c->cfg->prom_url);
		if (r->next < c->cfg->target.nmetrics) {
			r->obs[r->next] = (struct policy_metric_obs){ .ok = false,
				.error = "could not start the query" };
		}
		r->next++;
	}
	decide(c, r);
}

void ctl_autoscale_tick(struct controller *c)
{
	switch (c->cfg->policy) {
	case CTL_POLICY_STEP:
		step_tick(c);
		break;
	case CTL_POLICY_TARGET:
		if (c->as.round->running || prom_client_busy(c->as.prom)) {
			log_msg(LOG_WARN, "skipping a decision: the last queries are still running",
			    "pool=%s timeout_ms=%lld", c->cfg->pool,
			    (long long)c->cfg->prom_timeout_ms);
			break;
		}
		if (round_begin(c, c->as.round) == -1) {
			log_msg(LOG_ERROR, "skipping a decision", "pool=%s error=%s", c->cfg->pool,
			    "out of memory");
			break;
		}
		start_next(c, c->as.round);
		break;
	default:
		break;
	}
}

void ctl_webhook_latch(struct controller *c, enum webhook_source source, int up, int down)
{
	c->as.webhooks[source][0]++;
	policy_step_latch_signal(&c->as.latch, up, down);
	c->ha_dirty |= up || down;	/* a failover keeps it */
	if (up || down)
		log_msg(LOG_INFO, "scale signal", "pool=%s source=%s up=%d down=%d policy=%s",
		    c->cfg->pool, webhook_source_name(source), up, down,
		    ctl_policy_name(c->cfg->policy));
}

void ctl_webhook_rejected(struct controller *c, const struct webhook_signal *sig)
{
	c->as.webhooks[sig->source][1]++;
	log_msg(LOG_WARN, "webhook rejected", "pool=%s source=%s error=%s", c->cfg->pool,
	    webhook_source_name(sig->source), sig->error);
}

int ctl_webhook(struct controller *c, int route, const char *body, size_t len,
    struct webhook_signal *sig)
{
	if (webhook_parse(body, len, route, c->cfg->action_label, sig) == -1) {
		ctl_webhook_rejected(c, sig);
		return -1;
	}
	ctl_webhook_latch(c, sig->source, sig->up, sig->down);
	return 0;
}
