/* The request-count peers in the simulator; see peers.h. */
#include <math.h>
#include <stdlib.h>

#include "policy/aws.h"
#include "policy/awspredict.h"
#include "policy/hpa.h"
#include "sim/peers.h"

#define MINUTE_MS 60000

struct sim_peer {
	enum sim_policy pol;
	const struct sim_cfg *c;
	struct aws_cfg aws;
	struct aws_state as;
	struct hpa_cfg hpa;
	struct hpa_state hs;
	struct awsp_cfg pc;
	struct awsp_state ps;
	struct policy_sample *s;
	size_t cap;
};

bool sim_peer_is(enum sim_policy p)
{
	return p == SIM_AWS_REQ || p == SIM_HPA_EXT || p == SIM_AWS_PREDICT;
}

int64_t sim_peer_interval_ms(enum sim_policy p, const struct sim_cfg *c)
{
	return p == SIM_HPA_EXT ? c->hpa_sync_ms : MINUTE_MS;
}

struct sim_peer *sim_peer_new(enum sim_policy p, const struct sim_cfg *c)
{
	struct sim_peer *pp = calloc(1, sizeof(*pp));
	double per_s = sim_cfg_util(c) * c->capacity_rps;
	int64_t hc = c->health_check_ms;
	int64_t boot = c->boot_max_ms > c->boot_ms ? c->boot_max_ms : c->boot_ms;

	if (pp == NULL)
		return NULL;
	pp->pol = p;
	pp->c = c;
	/* ALBRequestCountPerTarget: requests per target per minute */
	policy_aws_defaults(&pp->aws, per_s * 60);
	pp->aws.low_ratio = c->aws_low_ratio;
	pp->aws.scale_in_cooldown_ms = c->aws_scale_in_cooldown_ms;
	policy_aws_init(&pp->as);
	policy_hpa_defaults(&pp->hpa, sim_cfg_util(c));
	pp->hpa.tolerance = c->hpa_tolerance;
	pp->hpa.down_stabilization_ms = c->hpa_stabilization_ms;
	pp->hpa.external = true;
	pp->hpa.average_value = per_s;
	policy_hpa_init(&pp->hs);
	/* SchedulingBufferTime = the boot time (to the health check that
	 * finds it ready): the forecast's instances serve from the hour on */
	pp->pc = (struct awsp_cfg){ .per_instance = per_s,
		.buffer_ms = (boot + hc - 1) / hc * hc };
	policy_awsp_init(&pp->ps);
	return pp;
}

void sim_peer_free(struct sim_peer *pp)
{
	if (pp)
		free(pp->s);
	free(pp);
}

double sim_offered(const struct load_rate *load, double lead_rps, int64_t from_ms,
    int64_t to_ms)
{
	double a = (double)from_ms / 1000, b = (double)to_ms / 1000, n = 0;

	if (a < 0)
		n += lead_rps * (fmin(b, 0) - a);
	if (b > 0)
		n += load_rate_count(load, b) - load_rate_count(load, fmax(a, 0));
	return n;
}

/* ALBRequestCountPerTarget: the minute's RequestCount over the healthy
 * targets, one sample per member. A booting member is no target yet: it
 * counts as capacity, not metric (policy/aws.h). A ready one is in the
 * metric at once: AWS sets the instance warm-up to the time an instance
 * needs to initialise, and here that ends when it is InService (no CPU
 * spike after boot unless simulate.boot_cpu says so). */
static size_t alb_samples(struct sim_peer *pp, const struct spool *pool, double count)
{
	size_t n = 0;

	for (size_t i = 0; i < pool->n; i++) {
		const struct smember *m = &pool->m[i];

		if (m->state != SM_BOOTING && m->state != SM_READY)
			continue;
		pp->s[n++] = (struct policy_sample){
			.has_value = m->state == SM_READY && pool->ready > 0,
			.value = pool->ready > 0 ? count / pool->ready : NAN,
			.warming = m->state == SM_BOOTING,
		};
	}
	return n;
}

int sim_peer_decide(struct sim_peer *pp, const struct spool *pool, const struct load_rate *load,
    double lead_rps, struct policy_obs *obs, int64_t now_ms, struct policy_decision *d)
{
	const struct sim_cfg *c = pp->c;
	size_t need = (size_t)spool_active(pool) + 1;

	if (need > pp->cap) {
		struct policy_sample *s = realloc(pp->s, 2 * need * sizeof(*s));

		if (s == NULL)
			return -1;
		pp->s = s;
		pp->cap = 2 * need;
	}
	obs->nmetrics = 1;
	obs->metrics[0].ok = true;
	obs->metrics[0].samples = pp->s;
	if (pp->pol == SIM_HPA_EXT) {
		/* the load balancer's request rate over the rate window: one
		 * series, not per pod */
		pp->s[0] = (struct policy_sample){ .has_value = true,
			.value = sim_offered(load, lead_rps, now_ms - c->rate_window_ms, now_ms) /
			    ((double)c->rate_window_ms / 1000) };
		obs->metrics[0].nsamples = 1;
		policy_hpa_decide(&pp->hpa, &pp->hs, obs, now_ms, d);
		return 0;
	}
	{
		double count = sim_offered(load, lead_rps, now_ms - MINUTE_MS, now_ms);

		obs->metrics[0].nsamples = alb_samples(pp, pool, count);
		if (pp->pol == SIM_AWS_REQ) {
			policy_aws_decide(&pp->aws, &pp->as, obs, now_ms, d);
			return 0;
		}
		/* predictive scaling learns from the run's own history only */
		if (now_ms > 0)
			policy_awsp_observe(&pp->ps, count / 60, MINUTE_MS, now_ms);
		policy_awsp_decide(&pp->pc, &pp->ps, &pp->aws, &pp->as, obs, now_ms, d);
	}
	return 0;
}
