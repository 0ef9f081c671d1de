/* One simulated run: the event loop, the load, and the glue that builds
 * each policy's observation as the controller (or the peer's own system)
 * would, calls the policy and applies its decision. See sim.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/aws.h"
#include "policy/forecast.h"
#include "policy/hpa.h"
#include "policy/schedule.h"
#include "policy/step.h"
#include "policy/target.h"
#include "sim/alerts.h"
#include "sim/evq.h"
#include "sim/latency.h"
#include "sim/oracle.h"
#include "sim/peers.h"
#include "sim/pool.h"
#include "sim/sim.h"

/* At one time, events run in this order: a query sees the scrape taken
 * at its instant, a webhook reaches the tick at its instant, and a
 * scoring interval closes after everything in it. */
enum {
	EV_LOAD,	/* the offered rate changes */
	EV_SCRAPE,	/* Prometheus scrapes member arg */
	EV_RULE,	/* Prometheus evaluates the alert rules (step policies) */
	EV_FLUSH,	/* Alertmanager flushes alert arg's group */
	EV_TICK,	/* the policy decides */
	EV_READY,	/* member arg passes its first health check */
	EV_GONE,	/* member arg has drained and stops */
	EV_SCORE,	/* a scoring interval ends */
};

struct world {
	const struct sim_cfg *cfg;
	enum sim_policy pol;
	const struct load_rate *load;
	struct sim_result *out;
	struct evq q;
	struct spool pool;
	struct lat_model lat;
	double backlog;
	int desired;
	int64_t t_ms;		/* simulated up to here */
	int64_t end_ms;
	double lead_rps;	/* offered before t = 0 */
	size_t seg;		/* load cursor */
	bool failed;
	struct err *e;

	/* the policy of this run */
	int64_t interval_ms, window_ms;
	struct sim_alerts alerts;
	struct step_cfg step;
	struct alerts_state al;
	struct step_latch latch;
	struct target_state *ts;
	struct forecast_cfg fc;
	struct forecast_state *fs;	/* SIM_TARGET with a forecast: its own past as history */
	struct aws_cfg aws;
	struct aws_state as;
	struct hpa_cfg hpa;
	struct hpa_state *hs;
	struct sched_state *sched;	/* the config's schedule, by simulated time */
	struct oracle_plan plan;	/* oracle */
	struct sim_peer *peer;		/* aws-target-req, hpa-ext, aws-predictive */
	/* one sample buffer per metric, and what each metric measures */
	struct policy_sample *samples[POLICY_MAX_METRICS];
	size_t cap_samples[POLICY_MAX_METRICS];
	enum spool_metric model[POLICY_MAX_METRICS];
	int *ids;		/* scratch for spool_resize: started, then drained */
	size_t cap_ids;
	double due;		/* requests due from t = 0 to t_ms */

	/* the scoring interval in progress */
	double row_arr, row_viol, row_util, row_util_s, row_p95;
	unsigned row_ups, row_downs;
};

static int64_t ms_of(double s)
{
	return (int64_t)llround(s * 1000.0);
}

static void push(struct world *w, int64_t at, int kind, int arg)
{
	if (evq_push(&w->q, at, kind, arg) == -1 && !w->failed) {
		w->failed = true;
		err_set(w->e, "out of memory");
	}
}

/* When the offered rate next changes after t: a segment's end, or 1 s on
 * inside a ramp (the model holds the rate constant between events). */
static int64_t next_load_change(struct world *w, int64_t t)
{
	const struct load_rate *r = w->load;

	if (t < 0)
		return 0;
	while (w->seg < r->nsegs && ms_of(r->segs[w->seg].t1) <= t)
		w->seg++;
	if (w->seg == r->nsegs)
		return INT64_MAX;
	if (ms_of(r->segs[w->seg].t0) > t)
		return ms_of(r->segs[w->seg].t0);
	if (r->segs[w->seg].r0 != r->segs[w->seg].r1 && t + 1000 < ms_of(r->segs[w->seg].t1))
		return t + 1000;
	return ms_of(r->segs[w->seg].t1);
}

/* Serves the load from t_ms to `to` with the pool as it is. */
static void advance(struct world *w, int64_t to)
{
	struct lat_seg s;
	double dt, rps;
	int supply;

	if (to <= w->t_ms)
		return;
	dt = (double)(to - w->t_ms) / 1000.0;
	if (to <= 0) {
		/* The lead-in: a warm pool has been serving the first load. */
		rps = w->lead_rps;
	} else {
		/* the schedule's integral, once per event: arrivals are exact */
		double due = load_rate_count(w->load, (double)to / 1000.0);

		rps = (due - w->due) / dt;
		w->due = due;
	}
	lat_advance(&w->lat, &w->backlog, rps, w->pool.ready, dt, &s);
	spool_burn(&w->pool, s.util, w->t_ms, to - w->t_ms);
	spool_receive(&w->pool, s.arrivals);
	w->pool.backlog = w->backlog;
	w->t_ms = to;
	if (to <= 0)
		return;		/* the lead-in before t = 0 is not scored */
	supply = spool_supply(&w->pool);
	w->out->arrivals += s.arrivals;
	w->out->violations += s.violations;
	w->out->failed += s.failed;
	w->out->instance_s += supply * dt;
	if (supply > w->out->max_supply)
		w->out->max_supply = supply;
	w->row_arr += s.arrivals;
	w->row_viol += s.violations;
	if (w->pool.ready > 0) {
		w->row_util += s.util * dt;
		w->row_util_s += dt;
	}
	if (s.p95_s * 1000 > w->row_p95 && s.arrivals > 0)
		w->row_p95 = s.p95_s * 1000;
}

/* Makes *v hold at least need elements of size bytes, doubling; false
 * (and the run failed) when out of memory. */
static bool reserve(struct world *w, void **v, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	p = realloc(*v, n * size);
	if (p == NULL) {
		w->failed = true;
		err_set(w->e, "out of memory");
		return false;
	}
	*v = p;
	*cap = n;
	return true;
}

static void apply(struct world *w, const struct policy_decision *d)
{
	struct sim_result *r = w->out;
	size_t nstart, ndrain, room;
	int64_t now = w->q.now_ms;

	if (d->desired == w->desired)
		return;
	if (now < 0) {
		/* the lead-in: applied, not scored */
	} else if (!reserve(w, (void **)&r->dec, &r->capdec, r->ndec + 1, sizeof(*r->dec))) {
		return;
	} else {
		r->dec[r->ndec] = (struct sim_decision){ (double)now / 1000.0, w->desired,
			d->desired, "" };
		snprintf(r->dec[r->ndec].reason, sizeof(r->dec[r->ndec].reason), "%s", d->reason);
		r->ndec++;
		if (d->desired > w->desired) {
			r->ups++;
			w->row_ups++;
		} else {
			r->downs++;
			w->row_downs++;
		}
	}
	w->desired = d->desired;
	room = (size_t)abs(spool_active(&w->pool) - w->desired);
	if (room == 0)
		return;
	if (!reserve(w, (void **)&w->ids, &w->cap_ids, 2 * room, sizeof(*w->ids)))
		return;
	if (spool_resize(&w->pool, w->desired, now, w->ids, &nstart, w->ids + room,
	    &ndrain) == -1) {
		w->failed = true;
		err_set(w->e, "out of memory");
	}
	for (size_t i = 0; i < nstart; i++)
		push(w, spool_find(&w->pool, w->ids[i])->ready_ms, EV_READY, w->ids[i]);
	for (size_t i = 0; i < ndrain; i++)
		push(w, spool_find(&w->pool, w->ids[room + i])->gone_ms, EV_GONE,
		    w->ids[room + i]);
}

/* One sample of metric model per active member into buffer k, warming as
 * the policy's system defines it; the number of samples. */
static size_t observe(struct world *w, int64_t now, enum spool_metric model, size_t k)
{
	size_t n = 0;

	if (!reserve(w, (void **)&w->samples[k], &w->cap_samples[k],
	    (size_t)spool_active(&w->pool), sizeof(*w->samples[k])))
		return 0;
	for (size_t i = 0; i < w->pool.n; i++) {
		const struct smember *m = &w->pool.m[i];
		struct policy_sample *s = &w->samples[k][n];
		bool booting = m->state == SM_BOOTING;

		if (m->state != SM_BOOTING && m->state != SM_READY)
			continue;
		s->value = spool_metric(&w->pool, model, i, w->window_ms, now);
		s->has_value = !isnan(s->value);
		switch (w->pol) {
		case SIM_AWS:	/* warm-up runs from InService */
			s->warming = booting || now - m->ready_ms < w->cfg->aws_warmup_ms;
			break;
		case SIM_HPA:	/* unready pods are ignored */
			s->warming = booting;
			break;
		default:	/* the controller: pending, or younger than warmup */
			s->warming = booting || now - m->created_ms < w->cfg->ctl.warmup_ms;
			break;
		}
		n++;
	}
	return n;
}

/* Fills metric k of obs with model's samples. */
static void observe_metric(struct world *w, int64_t now, enum spool_metric model, size_t k,
    struct policy_obs *obs)
{
	size_t n = observe(w, now, model, k);

	obs->metrics[k] = (struct policy_metric_obs){ .ok = !w->failed, .samples = w->samples[k],
		.nsamples = n, .error = w->failed ? "out of memory" : NULL };
}

enum spool_metric sim_metric_of_query(const char *query)
{
	return strstr(query, "requests_received") ? SPOOL_METRIC_REQUESTS : SPOOL_METRIC_CPU;
}

/* The schedule's bounds at simulated time now (t = 0 is simulate.start),
 * applied as the controller does (controller/sched.c): a desired size
 * outside them moves to the nearest bound first. true when that failed. */
static bool schedule(struct world *w, int64_t now, struct policy_obs *obs)
{
	const struct sim_cfg *c = w->cfg;
	struct sched_clock clk = { tz_db_offset_s, (void *)&c->tz };
	struct sched_bounds b;
	int64_t at = c->start_unix_s + (now >= 0 ? now / 1000 : -((-now + 999) / 1000));

	sched_bounds(c->ctl.schedule, (size_t)c->ctl.nschedule, w->sched, at, &clk, c->ctl.min,
	    c->ctl.max, &b);
	obs->min = b.min;
	obs->max = b.max;
	if (w->desired < b.min || w->desired > b.max) {
		struct policy_decision d = { .desired = w->desired < b.min ? b.min : b.max };

		snprintf(d.reason, sizeof(d.reason), "schedule bounds [%d, %d]", b.min, b.max);
		apply(w, &d);
		obs->current = w->desired;
	}
	return w->failed;
}

static void tick(struct world *w)
{
	int64_t now = w->q.now_ms;
	const struct target_cfg *tc = &w->cfg->ctl.target;
	struct policy_obs obs = {
		.current = w->desired, .min = w->cfg->ctl.min, .max = w->cfg->ctl.max,
		.nmetrics = 1, .backlog = NAN, .forecast_need = NAN,
	};
	struct policy_decision d;
	struct forecast_out fo;

	if (w->sched != NULL && schedule(w, now, &obs))
		return;
	switch (w->pol) {
	case SIM_STEP:
	case SIM_SEED_STEP:
		policy_step_decide_latched(&w->step, &w->latch, &obs, &d);
		break;
	case SIM_TARGET:
		obs.nmetrics = tc->nmetrics ? tc->nmetrics : 1;
		for (size_t k = 0; k < obs.nmetrics; k++)
			observe_metric(w, now, w->model[k], k, &obs);
		if (w->cfg->ctl.backlog_query[0] && tc->backlog_drain_ms > 0)
			obs.backlog = spool_queue(&w->pool);
		if (w->fs != NULL) {
			forecast_predict(&w->fc, w->fs, now, &fo);
			obs.forecast_need = fo.need;
			obs.forecast_note = fo.note;
		}
		policy_target_decide(tc, w->ts, &obs, now, &d);
		if (w->fs != NULL)
			forecast_observe(&w->fc, w->fs, now, d.need);
		break;
	case SIM_AWS:
		/* The peers on CPU, as they were configured so far; passing
		 * SPOOL_METRIC_REQUESTS feeds them the request rate instead. */
		observe_metric(w, now, SPOOL_METRIC_CPU, 0, &obs);
		policy_aws_decide(&w->aws, &w->as, &obs, now, &d);
		break;
	case SIM_HPA:
		observe_metric(w, now, SPOOL_METRIC_CPU, 0, &obs);
		policy_hpa_decide(&w->hpa, w->hs, &obs, now, &d);
		break;
	case SIM_AWS_REQ:
	case SIM_HPA_EXT:
	case SIM_AWS_PREDICT:
		if (sim_peer_decide(w->peer, &w->pool, w->load, w->lead_rps, &obs, now, &d) == -1) {
			w->failed = true;
			err_set(w->e, "out of memory");
			return;
		}
		break;
	case SIM_ORACLE:
		d = (struct policy_decision){ .desired = oracle_at(&w->plan, now),
			.metric = NAN };
		snprintf(d.reason, sizeof(d.reason), "planned one boot ahead");
		break;
	default:
		return;
	}
	apply(w, &d);
}

static void rule(struct world *w)
{
	int64_t now = w->q.now_ms;
	bool had[ALERT_N];

	for (int i = 0; i < ALERT_N; i++)
		had[i] = w->al.a[i].grouped;
	alerts_eval(&w->alerts, &w->al, spool_mean_cpu(&w->pool, w->window_ms, now), now);
	for (int i = 0; i < ALERT_N; i++)
		if (!had[i] && w->al.a[i].grouped)
			push(w, w->al.a[i].next_flush_ms, EV_FLUSH, i);
}

static void flush(struct world *w, int i)
{
	int64_t now = w->q.now_ms;

	if (w->al.a[i].next_flush_ms != now)
		return;		/* a flush of a group that has gone since */
	if (alerts_flush(&w->alerts, &w->al, i, now)) {
		policy_step_latch_signal(&w->latch, i == ALERT_UP, i != ALERT_UP);
	}
	if (w->al.a[i].next_flush_ms >= 0)
		push(w, w->al.a[i].next_flush_ms, EV_FLUSH, i);
}

/* When the policy next decides after a tick at now. */
static int64_t next_tick(struct world *w, int64_t now)
{
	switch (w->pol) {
	case SIM_FIXED:
		return INT64_MAX;
	case SIM_ORACLE:
		return oracle_next(&w->plan, now < 0 ? -1 : now);
	default:
		return now + w->interval_ms;
	}
}

/* Closes the scoring interval that ends now. */
static void score(struct world *w)
{
	struct sim_result *r = w->out;
	double span = w->cfg->score_ms / 1000.0;

	if (!reserve(w, (void **)&r->rows, &r->caprows, r->nrows + 1, sizeof(*r->rows)))
		return;
	r->rows[r->nrows++] = (struct sim_row){
		.t_s = (double)w->q.now_ms / 1000.0,
		.offered_rps = w->row_arr / span,
		.demand = lat_demand(&w->lat, w->row_arr / span),
		.supply = spool_supply(&w->pool),
		.ready = w->pool.ready,
		.desired = w->desired,
		.util = w->row_util_s > 0 ? w->row_util / w->row_util_s : NAN,
		.p95_ms = w->row_arr > 0 ? w->row_p95 : NAN,
		.violations_pct = w->row_arr > 0 ? 100.0 * w->row_viol / w->row_arr : 0,
		.ups = w->row_ups,
		.downs = w->row_downs,
	};
	w->row_arr = w->row_viol = w->row_util = w->row_util_s = w->row_p95 = 0;
	w->row_ups = w->row_downs = 0;
}

static void configure(struct world *w)
{
	const struct sim_cfg *c = w->cfg;

	w->interval_ms = c->ctl.interval_ms;
	w->window_ms = c->rate_window_ms;
	/* Which model each target metric reads: its query names it. */
	for (size_t k = 0; k < POLICY_MAX_METRICS; k++)
		w->model[k] = sim_metric_of_query(c->ctl.metric_query[k]);
	w->alerts = c->alerts;
	w->step = c->ctl.step;
	switch (w->pol) {
	case SIM_SEED_STEP:
		/* The seeds: mean CPU > 80% / < 20% for 1m, one step per 60 s,
		 * delivered as deploy/alertmanager does (every minute). */
		w->interval_ms = 60000;
		w->alerts = (struct sim_alerts){ .high = c->seed_high, .low = c->seed_low,
			.for_ms = 60000,
			.rule_interval_ms = c->alerts.rule_interval_ms, .group_wait_ms = 0,
			.group_interval_ms = 60000, .repeat_interval_ms = 60000 };
		w->step.step = 1;
		break;
	case SIM_AWS:
		/* One-minute datapoints over one-minute windows. */
		policy_aws_defaults(&w->aws, sim_cfg_util(c));
		w->aws.low_ratio = c->aws_low_ratio;
		w->aws.scale_in_cooldown_ms = c->aws_scale_in_cooldown_ms;
		w->interval_ms = 60000;
		w->window_ms = 60000 > 2 * c->scrape_ms ? 60000 : 2 * c->scrape_ms;
		break;
	case SIM_HPA:
		policy_hpa_defaults(&w->hpa, sim_cfg_util(c));
		w->hpa.tolerance = c->hpa_tolerance;
		w->hpa.down_stabilization_ms = c->hpa_stabilization_ms;
		w->interval_ms = c->hpa_sync_ms;
		break;
	default:
		if (sim_peer_is(w->pol))
			w->interval_ms = sim_peer_interval_ms(w->pol, c);
		break;
	}
}

static int start(struct world *w)
{
	const struct sim_cfg *c = w->cfg;
	/* A lead-in before t = 0 fills Prometheus' window, as a pool that has
	 * been running would have it. */
	int64_t t0 = -(w->window_ms / c->scrape_ms + 2) * c->scrape_ms;

	evq_init(&w->q, t0);
	w->t_ms = t0;
	w->lat = sim_cfg_lat(c);
	w->desired = c->ctl.initial;
	if (c->warm_start) {
		/* As if the pool had been running at this load: the size the
		 * target utilisation needs for the first minute, the same start
		 * for every policy. */
		double first = load_rate_count(w->load, 60) / fmin(60, w->load->end_s);
		double n = ceil(first / (c->capacity_rps * sim_cfg_util(c)) - 1e-9);

		w->lead_rps = first;
		w->desired = n < c->ctl.min ? c->ctl.min : n > c->ctl.max ? c->ctl.max : (int)n;
	}
	if (w->pol == SIM_FIXED)
		w->desired = c->fixed;
	if (w->pol == SIM_ORACLE) {
		struct lat_model lm = sim_cfg_lat(c);
		int64_t boot = c->boot_max_ms > c->boot_ms ? c->boot_max_ms : c->boot_ms;
		int64_t hc = c->health_check_ms;

		/* the pool's own boot: ready at the first health check after it */
		if (oracle_plan(&w->plan, w->load, &lm, sim_cfg_util(c), c->ctl.min,
		    c->ctl.max, (boot + hc - 1) / hc * hc, w->end_ms) == -1)
			return err_set(w->e, "out of memory");
		/* what [0, lead] needs is there at the start, as a warm pool is */
		w->desired = oracle_at(&w->plan, 0);
	}
	alerts_init(&w->al);
	if (spool_init(&w->pool, c, w->desired, w->window_ms) == -1)
		return err_set(w->e, "out of memory");
	if (w->pol == SIM_TARGET && (w->ts = malloc(sizeof(*w->ts))) == NULL)
		return err_set(w->e, "out of memory");
	if (w->ts)
		policy_target_init(w->ts);
	ctl_forecast_cfg(&c->ctl, &w->fc);
	if (w->pol == SIM_TARGET && w->fc.enabled && (w->fs = malloc(sizeof(*w->fs))) == NULL)
		return err_set(w->e, "out of memory");
	if (w->fs)
		forecast_init(w->fs);
	if (w->pol == SIM_HPA && (w->hs = malloc(sizeof(*w->hs))) == NULL)
		return err_set(w->e, "out of memory");
	if (w->hs)
		policy_hpa_init(w->hs);
	if (w->pol == SIM_AWS)
		policy_aws_init(&w->as);
	if (c->ctl.nschedule > 0 && (w->sched = calloc(1, sizeof(*w->sched))) == NULL)
		return err_set(w->e, "out of memory");
	if (sim_peer_is(w->pol) && (w->peer = sim_peer_new(w->pol, c)) == NULL)
		return err_set(w->e, "out of memory");
	push(w, 0, EV_LOAD, 0);
	for (size_t i = 0; i < w->pool.n; i++)
		push(w, spool_next_scrape(&w->pool, w->pool.m[i].id, t0), EV_SCRAPE,
		    w->pool.m[i].id);
	if (w->pol == SIM_STEP || w->pol == SIM_SEED_STEP)
		push(w, t0, EV_RULE, 0);
	push(w, t0, EV_TICK, 0);
	push(w, c->score_ms, EV_SCORE, 0);
	return w->failed ? -1 : 0;
}

int sim_run(const struct sim_cfg *cfg, enum sim_policy p, const struct load_rate *load,
    double duration_s, struct sim_result *out, struct err *e)
{
	struct world w = { .cfg = cfg, .pol = p, .load = load, .out = out, .e = e };
	struct sim_event ev;
	int64_t end = ms_of(duration_s > 0 ? duration_s : load->end_s);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->policy = p;
	out->score_s = cfg->score_ms / 1000.0;
	configure(&w);
	/* Whole scoring intervals: the last one is padded with what follows
	 * the load (nothing, or the profile's last rate). */
	w.end_ms = (end + cfg->score_ms - 1) / cfg->score_ms * cfg->score_ms;
	if (w.end_ms <= 0) {
		err_set(e, "nothing to simulate: the load lasts 0 s");
		goto out;
	}
	if (start(&w) == -1)
		goto out;
	while (!w.failed && evq_pop(&w.q, &ev)) {
		int64_t now = ev.at_ms;

		advance(&w, now);
		switch (ev.kind) {
		case EV_LOAD: {
			int64_t next = next_load_change(&w, now);

			if (next != INT64_MAX)
				push(&w, next, EV_LOAD, 0);
			break;
		}
		case EV_SCRAPE:
			if (spool_scrape(&w.pool, ev.arg, now))
				push(&w, now + cfg->scrape_ms, EV_SCRAPE, ev.arg);
			break;
		case EV_RULE:
			rule(&w);
			push(&w, now + w.alerts.rule_interval_ms, EV_RULE, 0);
			break;
		case EV_FLUSH:
			flush(&w, ev.arg);
			break;
		case EV_TICK:
			tick(&w);
			if (next_tick(&w, now) != INT64_MAX)
				push(&w, next_tick(&w, now), EV_TICK, 0);
			break;
		case EV_READY:
			spool_ready(&w.pool, ev.arg);
			/* in file_sd now: Prometheus scrapes it at its offset */
			push(&w, spool_next_scrape(&w.pool, ev.arg, now), EV_SCRAPE, ev.arg);
			break;
		case EV_GONE:
			spool_gone(&w.pool, ev.arg);
			break;
		case EV_SCORE:
			score(&w);
			if (now < w.end_ms)
				push(&w, now + cfg->score_ms, EV_SCORE, 0);
			break;
		default:
			break;
		}
		if (ev.kind == EV_SCORE && now >= w.end_ms)
			break;
	}
	if (w.failed)
		goto out;
	out->charged_s = spool_charged_s(&w.pool, w.t_ms);
	{
		double *d = malloc(out->nrows * sizeof(*d)), *s = malloc(out->nrows * sizeof(*s));

		if (d == NULL || s == NULL) {
			free(d);
			free(s);
			err_set(e, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < out->nrows; i++) {
			d[i] = out->rows[i].demand;
			s[i] = out->rows[i].supply;
		}
		elasticity_score(d, s, out->nrows, out->score_s, &out->el);
		free(d);
		free(s);
	}
	rc = 0;
out:
	evq_fini(&w.q);
	spool_fini(&w.pool);
	free(w.ts);
	free(w.fs);
	free(w.hs);
	free(w.sched);
	oracle_fini(&w.plan);
	sim_peer_free(w.peer);
	for (size_t k = 0; k < POLICY_MAX_METRICS; k++)
		free(w.samples[k]);
	free(w.ids);
	return rc;
}

void sim_result_fini(struct sim_result *r)
{
	free(r->rows);
	free(r->dec);
	memset(r, 0, sizeof(*r));
}

double sim_violation_pct(const struct sim_result *r)
{
	return r->arrivals > 0 ? 100.0 * r->violations / r->arrivals : 0;
}
