/* The controller's side of high availability (controller/ha.h): when it
 * may act, the state it hands to etcd (controller/hastate.h) and takes back
 * when it comes to lead, and what leading or following changes. The pools
 * of one process share one election (struct ha_group): they lead and
 * follow together, so an API answer or an Alertmanager body that touches
 * several of them never meets a split, and etcd holds one document with
 * each pool's part. */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "controller/api.h"
#include "controller/controller.h"
#include "controller/hastate.h"

bool ctl_acting(const struct controller *c)
{
	if (c->ha == NULL)
		return true;
	return c->ha_leading && ha_may_act(c->ha, 0);
}

bool ctl_ha_durable(const struct controller *c)
{
	return c->ha == NULL || c->ha_written_seq >= c->ha_need_seq;
}

/* What the target policy's windows can still use: the longest of the
 * stabilization window and the rate-limit periods, plus an interval. */
static int64_t keep_ms(const struct controller *c)
{
	const struct target_cfg *t = &c->cfg->target;
	int64_t k = t->stabilization_ms;

	if (t->up_period_ms > k)
		k = t->up_period_ms;
	if (t->down_period_ms > k)
		k = t->down_period_ms;
	return k + c->cfg->interval_ms;
}

/* Monotonic times of this process to wall-clock and back. */
static int64_t to_unix(int64_t mono_ms, int64_t now_mono, int64_t now_unix)
{
	return mono_ms - now_mono + now_unix;
}

static void copy_points(const struct target_point *src, size_t n, struct target_point *dst,
    size_t *nout, int64_t from, int64_t shift)
{
	*nout = 0;
	for (size_t i = 0; i < n; i++) {
		if (src[i].at_ms < from)
			continue;
		dst[*nout] = src[i];
		dst[(*nout)++].at_ms += shift;
	}
}

/* ha_need_seq when the document of a new term could not be handed over
 * (out of memory): acting waits for the next write that works. */
#define NEED_THIS_TERM UINT64_MAX

struct ha_group {
	struct ha *ha;
	struct controller *pool[CTL_MAX_POOLS];	/* NULL once detached (stopping) */
	char name[CTL_MAX_POOLS][sizeof(((struct ctl_cfg *)0)->pool)];
	/* Each pool's state as last handed to etcd while leading this term;
	 * NULL while following, so no part outlives the term it was made in. */
	char *part[CTL_MAX_POOLS];
	size_t n, attached;
	bool told;			/* an unusable document in etcd was logged */
};

/* This pool's failover state as JSON (malloc'd), or NULL. */
static char *format_part(struct controller *c, size_t *len)
{
	struct ha_state *s;
	int64_t now = loop_now_ms(c->loop), unix_now = clock_wall_unix_ms();
	char *json;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->desired = c->desired;
	s->latch = c->as.latch;
	s->last_step_unix_ms = c->as.last_step_unix_ms;
	snprintf(s->by, sizeof(s->by), "%s", c->cfg->ha.name);
	s->written_unix_ms = unix_now;
	if (c->as.tstate != NULL) {
		int64_t from = now - keep_ms(c), shift = unix_now - now;

		copy_points(c->as.tstate->recs, c->as.tstate->nrecs, s->target.recs,
		    &s->target.nrecs, from, shift);
		copy_points(c->as.tstate->changes, c->as.tstate->nchanges, s->target.changes,
		    &s->target.nchanges, from, shift);
	}
	for (size_t i = 0; i < c->n && s->ndrains < HA_STATE_MAX_DRAINS; i++) {
		const struct cmember *m = &c->m[i];

		if (m->state != MEMBER_DRAINING)
			continue;
		snprintf(s->drains[s->ndrains].id, sizeof(s->drains[0].id), "%s", m->id);
		s->drains[s->ndrains].since_unix_ms = to_unix(m->drain_start_ms, now, unix_now);
		s->drains[s->ndrains++].removing = m->remove_why != NULL;
	}
	json = ha_state_format(s, len);
	free(s);
	return json;
}

/* Refreshes pool c's part; false when out of memory (its old one stays). */
static bool refresh_part(struct controller *c)
{
	size_t len = 0;
	char *json = format_part(c, &len);

	if (json == NULL)
		return false;
	free(c->hag->part[c->ha_index]);
	c->hag->part[c->ha_index] = json;
	return true;
}

/* Hands etcd every pool's part of this term (one pool: its state alone,
 * the form a controller of one pool has always written). A document
 * missing a pool would lose its state: none is written then. 0 when out
 * of memory. */
static uint64_t put_doc(struct ha_group *g)
{
	const char *names[CTL_MAX_POOLS];
	char *doc;
	size_t len;
	uint64_t seq;

	for (size_t i = 0; i < g->n; i++) {
		if (g->part[i] == NULL && (g->pool[i] == NULL || !refresh_part(g->pool[i])))
			return 0;
		names[i] = g->name[i];
	}
	if (g->n == 1)
		return ha_put_state(g->ha, g->part[0], strlen(g->part[0]));
	doc = ha_doc_join(names, g->part, g->n, &len);
	if (doc == NULL)
		return 0;
	seq = ha_put_state(g->ha, doc, len);
	free(doc);
	return seq;
}

bool ctl_ha_save(struct controller *c, bool before_acting)
{
	uint64_t seq;

	if (c->ha == NULL || !c->ha_leading)
		return true;
	if (!refresh_part(c) || (seq = put_doc(c->hag)) == 0)
		return false;		/* ha_dirty stays: tried again */
	c->ha_dirty = false;
	if (before_acting || c->ha_need_seq == NEED_THIS_TERM)
		c->ha_need_seq = seq;
	return true;
}

/* Takes back the state the last leader wrote: the size, the latch, the
 * windows (so no scale-in the old window would have held back, no step
 * made twice) and the drains (carried on, not started again). */
static int restore(struct controller *c, const char *json, size_t len)
{
	struct ha_state *s = calloc(1, sizeof(*s));
	int64_t now = loop_now_ms(c->loop), unix_now = clock_wall_unix_ms();
	struct err e;
	int min, max;

	if (s == NULL)
		return -1;
	if (ha_state_parse(json, len, s, &e) == -1) {
		log_msg(LOG_ERROR, "the state in etcd is unreadable: keeping this controller's own",
		    "pool=%s error=%s", c->cfg->pool, e.msg);
		free(s);
		return -1;
	}
	ctl_bounds(c, &min, &max);
	c->desired = s->desired < min ? min : s->desired > max ? max : s->desired;
	c->as.latch = s->latch;
	c->as.last_step_unix_ms = s->last_step_unix_ms;
	if (c->as.tstate != NULL) {
		int64_t shift = now - unix_now;

		policy_target_init(c->as.tstate);
		copy_points(s->target.recs, s->target.nrecs, c->as.tstate->recs,
		    &c->as.tstate->nrecs, INT64_MIN, shift);
		copy_points(s->target.changes, s->target.nchanges, c->as.tstate->changes,
		    &c->as.tstate->nchanges, INT64_MIN, shift);
	}
	for (size_t i = 0; i < c->n; i++) {
		struct cmember *m = &c->m[i];
		const struct ha_drain *d = NULL;

		for (size_t k = 0; k < s->ndrains; k++)
			if (strcmp(s->drains[k].id, m->id) == 0)
				d = &s->drains[k];
		if (d != NULL && m->state != MEMBER_STOPPING)
			ctl_member_drain(c, m, d->since_unix_ms - unix_now + now, d->removing);
		else if (d == NULL && m->state == MEMBER_DRAINING && m->remove_why == NULL)
			ctl_member_undrain(c, m);
	}
	log_msg(LOG_INFO, "resuming from the state in etcd", "pool=%s by=%s age_ms=%lld desired=%d "
	    "drains=%zu", c->cfg->pool, s->by, (long long)(unix_now - s->written_unix_ms),
	    c->desired,
	    s->ndrains);
	free(s);
	return 0;
}

/* Pool c's part of the document in ev (NULL: none), logged when it
 * cannot be had. */
static char *part_of(struct controller *c, const struct ha_event *ev, size_t *len)
{
	struct ha_group *g = c->hag;
	char *part = NULL;
	struct err e;

	*len = 0;
	if (ev->state == NULL)
		return NULL;
	/* Said once: a follower sees the document again at every look. */
	if (ha_doc_part(ev->state, ev->state_len, c->cfg->pool, g->n > 1, &part, len, &e) == -1 &&
	    !g->told) {
		g->told = true;
		log_msg(LOG_ERROR, g->n > 1 ? "the state in etcd is not for this controller's "
		    "pools: each pool keeps its own" : "the state in etcd is unreadable: keeping "
		    "this controller's own", "error=%s", e.msg);
	}
	return part;
}

static void on_pool(struct controller *c, const struct ha_event *ev)
{
	struct ha_state *s;
	struct err e;
	size_t len;
	char *part;
	bool waited;

	switch (ev->kind) {
	case HA_LEADING:
		c->ha_leading = true;	/* first: restore may carry on removals */
		if ((part = part_of(c, ev, &len)) != NULL)
			(void)restore(c, part, len);
		free(part);
		ctl_event(c, "leader", "leading (%s)", ev->why);
		break;
	case HA_FOLLOWING:
		if (c->ha_leading)
			ctl_event(c, "follower", "no longer leading: %s", ev->why);
		c->ha_leading = false;
		ctl_api_durable(c);	/* what waited for etcd: 503 */
		break;
	case HA_STATE_WRITTEN:
		if (ev->seq <= c->ha_written_seq)
			break;
		waited = c->ha_need_seq > c->ha_written_seq;
		c->ha_written_seq = ev->seq;
		ctl_api_durable(c);
		/* The decision that waited for it can be carried out now (a
		 * write for another pool leaves this one be). */
		if (c->ha_leading && waited && c->ha_written_seq >= c->ha_need_seq)
			ctl_reconcile_now(c);
		break;
	case HA_STATE_SEEN:
		/* A follower shows the leader's size; it acts on nothing. */
		if (c->ha_leading || (part = part_of(c, ev, &len)) == NULL)
			break;
		s = calloc(1, sizeof(*s));
		if (s != NULL && ha_state_parse(part, len, s, &e) == 0)
			c->desired = s->desired;
		free(s);
		free(part);
		break;
	}
}

static void on_ha(void *owner, const struct ha_event *ev)
{
	struct ha_group *g = owner;
	uint64_t seq;

	/* No part outlives its term: following drops them, and leading
	 * makes each again (put_doc) from what its pool took back. */
	if (ev->kind == HA_FOLLOWING || ev->kind == HA_LEADING) {
		for (size_t i = 0; i < g->n; i++) {
			free(g->part[i]);
			g->part[i] = NULL;
		}
	}
	for (size_t i = 0; i < g->n; i++)
		if (g->pool[i] != NULL)
			on_pool(g->pool[i], ev);
	if (ev->kind != HA_LEADING)
		return;
	/* Every pool took its part back above, before any write: the
	 * document written next holds them all, so none may still be the
	 * old leader's (or missing). It goes back to etcd under this
	 * controller's own key revision before any pool acts on it. */
	seq = put_doc(g);
	for (size_t i = 0; i < g->n; i++) {
		if (g->pool[i] == NULL)
			continue;
		/* Written or not, acting waits for this term's document. */
		g->pool[i]->ha_dirty = seq == 0;
		g->pool[i]->ha_need_seq = seq != 0 ? seq : NEED_THIS_TERM;
	}
}

/* The runner's fence: a mutation goes out only while this controller
 * leads for longer than the call may take. */
static bool fence(void *ctx, int64_t margin_ms)
{
	return ha_may_act(ctx, margin_ms);
}

int ctl_ha_init(struct controller *const *pools, size_t n, const char *advertise,
    struct err *e)
{
	struct ha_group *g;

	if (n == 0 || !pools[0]->cfg->ha.enabled)
		return 0;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return err_set(e, "out of memory");
	g->n = g->attached = n;
	for (size_t i = 0; i < n; i++) {
		g->pool[i] = pools[i];
		snprintf(g->name[i], sizeof(g->name[i]), "%s", pools[i]->cfg->pool);
		pools[i]->hag = g;
		pools[i]->ha_index = i;
	}
	/* The shared ha: block (config_pools.c) is the same in every pool. */
	g->ha = ha_new(&pools[0]->cfg->ha, advertise, pools[0]->loop, on_ha, g, e);
	if (g->ha == NULL) {
		for (size_t i = 0; i < n; i++)
			pools[i]->hag = NULL;
		free(g);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		pools[i]->ha = g->ha;
		prov_runner_set_fence(pools[i]->runner, fence, g->ha,
		    ctl_provider_timeout_ms(pools[i]->cfg));
	}
	return 0;
}

void ctl_ha_fini(struct controller *c)
{
	struct ha_group *g = c->hag;

	c->ha = NULL;
	c->hag = NULL;
	if (g == NULL)
		return;
	g->pool[c->ha_index] = NULL;	/* its part, if any, is the group's */
	if (--g->attached > 0)
		return;
	ha_free(g->ha);		/* the last pool: the election goes */
	for (size_t i = 0; i < g->n; i++)
		free(g->part[i]);
	free(g);
}
