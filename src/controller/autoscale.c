/* The glue between the controller and its policy: gathers the observation
 * (latched webhook signals, or a Prometheus query matched to members),
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

int ctl_autoscale_init(struct controller *c, struct err *e)
{
	c->as.metric = NAN;
	c->as.recommendation = -1;
	if (c->cfg->policy != CTL_POLICY_TARGET)
		return 0;
	c->as.tstate = malloc(sizeof(*c->as.tstate));
	if (c->as.tstate == NULL)
		return err_set(e, "out of memory");
	policy_target_init(c->as.tstate);
	c->as.prom = prom_client_new(c->loop, c->cfg->prom_url, c->cfg->prom_timeout_ms, e);
	return c->as.prom ? 0 : -1;
}

void ctl_autoscale_fini(struct controller *c)
{
	prom_client_free(c->as.prom);
	c->as.prom = NULL;
	free(c->as.tstate);
	c->as.tstate = NULL;
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
		log_msg(LOG_INFO, "dry run: the policy would resize", "policy=%s from=%d to=%d "
		    "reason=%s", ctl_policy_name(c->cfg->policy), c->desired, d->desired, d->reason);
		return;
	}
	if (ctl_set_desired(c, d->desired, d->reason, &e) == -1)
		log_msg(LOG_ERROR, "could not apply a decision", "error=%s", e.msg);
}

static void step_tick(struct controller *c)
{
	struct policy_obs obs = {
		.current = c->desired,
	};
	struct policy_decision d;

	ctl_bounds(c, &obs.min, &obs.max);
	policy_step_decide_latched(&c->cfg->step, &c->as.latch, &obs, &d);
	apply(c, &d);
}

/* The fail-safe's log: once when it starts holding, once when it recovers. */
static void note_hold(struct controller *c, bool held, const char *why)
{
	if (held && !c->as.held)
		log_msg(LOG_WARN, "metrics unavailable: holding the size, never scaling in",
		    "reason=%s desired=%d", why, c->desired);
	else if (!held && c->as.held)
		log_msg(LOG_INFO, "metrics are back: scaling resumes", "desired=%d", c->desired);
	c->as.held = held;
}

static void query_done(void *ctx, bool ok, const struct prom_result *res, const char *cause,
    const char *msg)
{
	struct controller *c = ctx;
	struct policy_sample *s;
	struct policy_obs obs = {
		.current = c->desired, .nmetrics = 1, .backlog = NAN, .forecast_need = NAN,
	};
	struct policy_decision d;
	int64_t now_s = clock_wall_unix_ms() / 1000;
	size_t n = 0, matched = 0;
	char why[256];

	if (c->stopping || (cause != NULL && strcmp(cause, "cancelled") == 0))
		return;
	ctl_bounds(c, &obs.min, &obs.max);
	s = calloc(c->n ? c->n : 1, sizeof(*s));
	if (s == NULL)
		return;
	obs.metrics[0].ok = ok;
	obs.metrics[0].error = msg;
	if (!ok) {
		c->as.metric_errors[cause_of(cause)]++;
		snprintf(why, sizeof(why), "prometheus %s: %s", cause, msg);
		obs.metrics[0].error = why;
	} else if (res->is_scalar) {
		c->as.metric_errors[MCAUSE_QUERY_ERROR]++;
		obs.metrics[0].ok = false;
		obs.metrics[0].error = "the query gives a scalar, not one value per instance";
	} else {
		for (size_t i = 0; i < c->n; i++) {
			const struct cmember *m = &c->m[i];

			if (m->state != MEMBER_PENDING && m->state != MEMBER_RUNNING)
				continue;
			s[n].warming = m->state == MEMBER_PENDING ||
			    (now_s - m->created_unix_s) * 1000 < c->cfg->warmup_ms;
			for (size_t j = 0; j < res->n; j++) {
				char host[128];

				prom_instance_host(res->v[j].instance, host, sizeof(host));
				if (strcmp(host, m->address) == 0 && isfinite(res->v[j].value)) {
					s[n].has_value = true;
					s[n].value = res->v[j].value;
					matched++;
					break;
				}
			}
			n++;
		}
		obs.metrics[0].samples = s;
		obs.metrics[0].nsamples = n;
		if (matched == 0)
			c->as.metric_errors[MCAUSE_EMPTY]++;
	}
	policy_target_decide(&c->cfg->target, c->as.tstate, &obs, loop_now_ms(c->loop), &d);
	free(s);
	c->as.metric = d.metric;
	note_hold(c, d.held, d.reason);
	apply(c, &d);
}

void ctl_autoscale_tick(struct controller *c)
{
	switch (c->cfg->policy) {
	case CTL_POLICY_STEP:
		step_tick(c);
		break;
	case CTL_POLICY_TARGET:
		if (prom_client_busy(c->as.prom)) {
			log_msg(LOG_WARN, "skipping a decision: the last query is still running",
			    "timeout_ms=%lld", (long long)c->cfg->prom_timeout_ms);
			break;
		}
		if (prom_client_query(c->as.prom, c->cfg->query, query_done, c) == -1)
			log_msg(LOG_ERROR, "could not start a Prometheus query", "url=%s",
			    c->cfg->prom_url);
		break;
	default:
		break;
	}
}

int ctl_webhook(struct controller *c, int route, const char *body, size_t len,
    struct webhook_signal *sig)
{
	if (webhook_parse(body, len, route, c->cfg->action_label, sig) == -1) {
		c->as.webhooks[sig->source][1]++;
		log_msg(LOG_WARN, "webhook rejected", "source=%s error=%s",
		    webhook_source_name(sig->source), sig->error);
		return -1;
	}
	c->as.webhooks[sig->source][0]++;
	policy_step_latch_signal(&c->as.latch, sig->up, sig->down);
	if (sig->up || sig->down)
		log_msg(LOG_INFO, "scale signal", "source=%s up=%d down=%d policy=%s",
		    webhook_source_name(sig->source), sig->up, sig->down,
		    ctl_policy_name(c->cfg->policy));
	return 0;
}
