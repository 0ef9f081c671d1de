/* The control loop: observe (provider + health), decide, act, publish. */
#include "controller/controller.h"

#include <jansson.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/promtext.h"
#include "discovery/filesd.h"
#include "discovery/publish.h"

#define CTL_FAST_MS 250
#define CTL_EVENTS 256
#define CTL_PENDING_CHECK_MS 500
/* A failed list is asked again after 250 ms, then 0.5, 1, 2 s ... up to
 * this (or list_interval when longer), so a cloud that refuses us (a bad
 * key, throttling) is not hammered 4 times a second. */
#define CTL_LIST_BACKOFF_MAX_MS 30000
/* A failed remove (the provider already retried inside the call) is asked
 * again after 1 s, doubling up to 30 s. */
#define CTL_REMOVE_BACKOFF_MS 1000
#define CTL_REMOVE_BACKOFF_MAX_MS 30000

enum { OP_LIST = 0, OP_SET_SIZE, OP_REMOVE, OP_DISCOVERY, OP_SET_DRAINING };

static const char *const state_names[MEMBER_NSTATES] = {
	[MEMBER_PENDING] = "pending",
	[MEMBER_RUNNING] = "running",
	[MEMBER_DRAINING] = "draining",
	[MEMBER_STOPPING] = "stopping",
};

const char *member_state_name(enum member_state s)
{
	return (unsigned)s < MEMBER_NSTATES ? state_names[s] : "unknown";
}

void ctl_event(struct controller *c, const char *kind, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	events_add(&c->events, clock_wall_unix_ms(), kind, "%s", msg);
	log_msg(LOG_INFO, msg, "event=%s pool=%s", kind, c->cfg->pool);
}

struct cmember *ctl_member(struct controller *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->m[i].id, id) == 0)
			return &c->m[i];
	return NULL;
}

static int count(const struct controller *c, enum member_state s)
{
	int n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->m[i].state == s;
	return n;
}

/* Draining members the provider will still count when a call submitted
 * now runs: not those whose remove call is already submitted, since the
 * runner runs calls in order (provider/runner.h). */
static int draining_at_provider(const struct controller *c)
{
	int n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->m[i].state == MEMBER_DRAINING && !c->m[i].removing;
	return n;
}

int ctl_active(const struct controller *c)
{
	return count(c, MEMBER_PENDING) + count(c, MEMBER_RUNNING);
}

void ctl_bounds(const struct controller *c, int *min, int *max)
{
	*min = c->sched.b.min;	/* the config's, or an open window's */
	*max = c->sched.b.max;
	if (c->prov_max >= 0 && *max > c->prov_max)
		*max = c->prov_max;
	if (c->prov_min >= 0 && *max < c->prov_min)
		*max = c->prov_min;
	if (c->prov_min >= 0 && *min < c->prov_min)
		*min = c->prov_min;
	if (*min > *max)
		*min = *max;
}

/* ---- persisted state: the desired size survives restarts ---- */

static void state_path(const struct controller *c, char *dst, size_t cap)
{
	snprintf(dst, cap, "%s/controller.json", c->cfg->state_dir);
}

static int save_state(struct controller *c, struct err *e)
{
	char path[1200], text[128];

	/* With HA the size that counts is etcd's, written before acting on it. */
	ctl_ha_save(c, true);
	state_path(c, path, sizeof(path));
	snprintf(text, sizeof(text), "{\"desired\": %d}\n", c->desired);
	return file_write_atomic(path, text, strlen(text), e);
}

/* Whether a desired size was saved; else c->desired is `initial`. */
static bool load_state(struct controller *c)
{
	char path[1200];
	struct buf b;
	struct err e;
	json_t *root;
	int missing = 0, min, max;
	bool found = false;

	c->desired = c->cfg->initial;
	state_path(c, path, sizeof(path));
	buf_init(&b, 4096);
	if (file_read_all(path, &b, &missing, &e) == 0) {
		root = json_loadb(b.p, b.len, 0, NULL);
		found = json_is_integer(json_object_get(root, "desired"));
		if (found)
			c->desired = (int)json_integer_value(json_object_get(root, "desired"));
		else
			log_msg(LOG_WARN, "ignoring unreadable state", "pool=%s file=%s",
			    c->cfg->pool, path);
		json_decref(root);
	}
	buf_fini(&b);
	/* The config's bounds, or an open schedule window's (evaluated first):
	 * a size saved while a window lifted max survives a restart in it. */
	ctl_bounds(c, &min, &max);
	if (c->desired < min)
		c->desired = min;
	if (c->desired > max)
		c->desired = max;
	return found;
}

/* ---- publishing ---- */

char *ctl_sd_json(struct controller *c, const char *set)
{
	struct sd_target *t;
	size_t n = 0;
	char *out;
	int port = -1;

	for (int i = 0; i < c->cfg->nsets; i++)
		if (strcmp(c->cfg->sets[i].name, set) == 0)
			port = c->cfg->sets[i].port;
	if (port < 0)
		return NULL;
	t = calloc(c->n ? c->n : 1, sizeof(*t));
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		if (!publish_member(&c->m[i].prov, c->m[i].state == MEMBER_RUNNING))
			continue;
		t[n].id = c->m[i].id;
		t[n].address = c->m[i].address;
		n++;
	}
	out = filesd_render(c->cfg->pool, c->cfg->provider, t, n, port);
	free(t);
	return out;
}

static void prov_failed(struct controller *c, int op, const char *what, const char *msg);
static void prov_ok(struct controller *c, int op, const char *what);

/* Rewrites each discovery file whose content changed. A failed write is
 * retried on every fast tick but logged once per cause. */
static void publish(struct controller *c)
{
	bool failed = false;

	c->publish_needed = false;
	for (int i = 0; i < c->cfg->nsets; i++) {
		char path[1200];
		struct err e;
		char *json = ctl_sd_json(c, c->cfg->sets[i].name);

		if (json == NULL) {
			c->publish_needed = true;
			continue;
		}
		if (c->sd_last[i] != NULL && strcmp(c->sd_last[i], json) == 0) {
			free(json);
			continue;
		}
		ctl_sd_path(c->cfg, i, path, sizeof(path));
		if (file_write_atomic(path, json, strlen(json), &e) == -1) {
			/* The first failing file names the cause; the others
			 * would alternate with it and defeat "once per cause". */
			if (!failed)
				prov_failed(c, OP_DISCOVERY, "could not write discovery file",
				    e.msg);
			else
				c->stats.provider_errors[OP_DISCOVERY]++;
			failed = true;
			free(json);
			c->publish_needed = true;	/* retried on the next fast tick */
			continue;
		}
		free(c->sd_last[i]);
		c->sd_last[i] = json;
	}
	if (!failed)
		prov_ok(c, OP_DISCOVERY, "discovery files written again");
}

static void set_state(struct controller *c, struct cmember *m, enum member_state s)
{
	if (m->state == s)
		return;
	/* Leaving or entering RUNNING changes what is published. */
	if (m->state == MEMBER_RUNNING || s == MEMBER_RUNNING)
		c->publish_needed = true;
	if (m->state == MEMBER_DRAINING || s == MEMBER_DRAINING)
		c->draining_changed = c->ha_dirty = true;
	m->state = s;
}

/* ---- observing the provider ---- */

static void remove_index(struct controller *c, size_t i)
{
	if (publish_member(&c->m[i].prov, c->m[i].state == MEMBER_RUNNING))
		c->publish_needed = true;
	if (c->m[i].state == MEMBER_DRAINING)
		c->draining_changed = c->ha_dirty = true;
	c->m[i] = c->m[--c->n];
}

static int member_addr(const char *address, int port, struct net_addr *out)
{
	struct err e;
	char addr[96];

	return net_addr_parse(net_host_port(address, port, addr, sizeof(addr)), out, &e);
}

static int add_member(struct controller *c, const struct member *pm)
{
	struct cmember *m;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		struct cmember *v = realloc(c->m, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		c->m = v;
		c->cap = cap;
	}
	m = &c->m[c->n];
	memset(m, 0, sizeof(*m));
	m->prov = *pm;
	snprintf(m->id, sizeof(m->id), "%s", pm->id);
	snprintf(m->address, sizeof(m->address), "%s", pm->address);
	m->created_unix_s = pm->created_unix_s;
	m->state = pm->stopping ? MEMBER_STOPPING : MEMBER_PENDING;
	m->seen_ms = loop_now_ms(c->loop);
	m->next_check_ms = m->seen_ms;
	m->in_flight = -1;
	if (member_addr(m->address, c->cfg->app_port, &m->app_addr) == -1 ||
	    member_addr(m->address, c->cfg->metrics_port, &m->metrics_addr) == -1)
		return -1;
	c->n++;
	return 0;
}

/* A provider error is counted every time and logged once per cause, so a
 * cloud that is down for an hour does not fill the log. */
static void prov_failed(struct controller *c, int op, const char *what, const char *msg)
{
	c->stats.provider_errors[op]++;
	if (strcmp(c->prov_error[op], msg) == 0)
		return;
	snprintf(c->prov_error[op], sizeof(c->prov_error[op]), "%s", msg);
	log_msg(LOG_ERROR, what, "pool=%s provider=%s error=%s", c->cfg->pool, c->prov.ops->name,
	    msg);
}

static void prov_ok(struct controller *c, int op, const char *what)
{
	if (c->prov_error[op][0] == '\0')
		return;
	log_msg(LOG_INFO, what, "pool=%s provider=%s after=%s", c->cfg->pool, c->prov.ops->name,
	    c->prov_error[op]);
	c->prov_error[op][0] = '\0';
}

/* Brings the table in line with a list the provider gave; returns how many
 * members are new. */
static size_t apply_members(struct controller *c, const struct member_list *l)
{
	size_t added = 0;

	for (size_t i = 0; i < c->n;) {
		struct cmember *m = &c->m[i];
		bool found = false;

		for (size_t j = 0; j < l->n && !found; j++)
			found = strcmp(l->v[j].id, m->id) == 0;
		if (found) {
			i++;
			continue;
		}
		/* One the controller was taking away is removed, even when the
		 * reply to its remove call was lost. */
		if (m->state == MEMBER_STOPPING || m->state == MEMBER_DRAINING ||
		    m->remove_why != NULL) {
			c->stats.removed++;
			ctl_event(c, "removed", "removed %s (%s)", m->id, m->address);
		} else if (!ctl_acting(c)) {
			/* The leader's doing, or a death the leader replaces. */
			ctl_event(c, "gone", "%s (%s) left the pool (seen by a follower)", m->id,
			    m->address);
		} else {
			c->stats.replaced++;
			ctl_event(c, "died", "%s (%s) died while %s; it will be replaced", m->id,
			    m->address, member_state_name(m->state));
		}
		remove_index(c, i);
	}
	for (size_t j = 0; j < l->n; j++) {
		struct cmember *m = ctl_member(c, l->v[j].id);

		if (m == NULL) {
			if (add_member(c, &l->v[j]) == -1)
				log_msg(LOG_ERROR, "bad member", "pool=%s id=%s address=%s",
				    c->cfg->pool, l->v[j].id,
				    l->v[j].address);
			else
				added++;
			continue;
		}
		if (publish_member(&m->prov, true) != publish_member(&l->v[j], true))
			c->publish_needed = true;
		m->prov = l->v[j];
		if (l->v[j].stopping && m->state != MEMBER_STOPPING)
			set_state(c, m, MEMBER_STOPPING);
	}
	return added;
}

/* Takes the provider's bounds from a list. A desired size now outside them
 * moves to the nearest bound, as an Auto Scaling group's own desired
 * capacity does when its MinSize or MaxSize changes: the provider would
 * refuse it anyway, and status must not show a size that never comes. */
static void follow_bounds(struct controller *c, const struct member_list *l)
{
	int min, max, prev = c->desired;
	struct err e;

	c->prov_min = l->min_size;
	c->prov_max = l->max_size;
	/* At the first start the desired size is a placeholder that adoption
	 * is about to replace, within these bounds: no event for it. */
	if (c->adopt.first)
		return;
	ctl_bounds(c, &min, &max);
	if (c->desired >= min && c->desired <= max)
		return;
	c->desired = c->desired < min ? min : max;
	if (save_state(c, &e) == -1)
		log_msg(LOG_ERROR, "could not save the desired size", "pool=%s error=%s",
		    c->cfg->pool, e.msg);
	ctl_event(c, "desired", "desired size %d -> %d (outside the %s provider's bounds [%d, %d])",
	    prev, c->desired, c->prov.ops->name, l->min_size, l->max_size);
}

/* Takes the desired size from the provider where controller/adopt.h says
 * so: at the first start, and after a resize made outside the controller. */
static void take_size(struct controller *c, const struct member_list *l, bool ours)
{
	struct adopt_list al = { .size = l->size, .ours = ours };
	int was = c->adopt.seen, prev = c->desired, found = 0, want = 0, min, max;
	struct err e;

	for (size_t i = 0; i < l->n; i++)
		al.members += !l->v[i].stopping;
	al.draining = count(c, MEMBER_DRAINING);
	ctl_bounds(c, &min, &max);
	switch (adopt_take(&c->adopt, &al, min, max, &found, &want)) {
	case ADOPT_NONE:
		return;
	case ADOPT_FIRST_START:
		log_msg(LOG_INFO, "first start: adopting the pool's size",
		    "pool=%s found=%d desired=%d "
		    "min=%d max=%d from=%s", c->cfg->pool, found, want, min, max,
		    l->size >= 0 ? "provider_size" : "members");
		break;
	case ADOPT_OUTSIDE:
		if (want == prev)
			break;	/* the bounds moved it there already */
		ctl_event(c, "desired", "desired size %d -> %d: the provider's size went from %d to %d "
		    "outside the controller (kept within [%d, %d])", prev, want, was, found,
		    min, max);
		break;
	}
	c->desired = want;
	if (save_state(c, &e) == -1)
		log_msg(LOG_ERROR, "could not save the desired size", "pool=%s error=%s",
		    c->cfg->pool, e.msg);
}

/* A list's outcome. The controller never acts on a membership it could not
 * read: until a list succeeds again, reconcile holds, and the list is asked
 * again with a growing pause. ours: the list followed a call of ours. */
static size_t take_list(struct controller *c, int rc, const struct err *e,
    const struct member_list *l, bool ours)
{
	int64_t now = loop_now_ms(c->loop);
	size_t added;

	if (rc == -1) {
		int64_t cap = c->cfg->list_interval_ms > CTL_LIST_BACKOFF_MAX_MS ?
		    c->cfg->list_interval_ms : CTL_LIST_BACKOFF_MAX_MS;

		c->listed = false;
		c->list_fails++;
		c->next_list_ms = now + backoff_ms(c->list_fails, CTL_FAST_MS, cap, &c->seed);
		/* What our call did to the size is unknown: take the next size
		 * seen as the baseline, not as an outside change. */
		if (ours)
			adopt_forget(&c->adopt);
		prov_failed(c, OP_LIST, "provider list failed", e->msg);
		return 0;
	}
	c->listed = true;
	c->list_fails = 0;
	c->next_list_ms = now + c->cfg->list_interval_ms;
	prov_ok(c, OP_LIST, "provider list works again");
	follow_bounds(c, l);
	added = apply_members(c, l);
	take_size(c, l, ours);
	return added;
}

/* Lists on the calling thread: only at start, before the loop runs. */
static int list_now(struct controller *c, struct err *e)
{
	struct member_list l;
	int rc;

	member_list_init(&l);
	rc = c->prov.ops->list(c->prov.impl, &l, e);
	take_list(c, rc, e, &l, false);
	member_list_fini(&l);
	return rc;
}

static void request_list(struct controller *c)
{
	if (c->list_busy)
		return;
	if (prov_runner_submit(c->runner, PROV_OP_LIST, 0, NULL) == 0)
		c->list_busy = true;
}

/* Back on the loop: a provider call ended (with the list that followed). */
static void on_provider(void *owner, const struct prov_result *r)
{
	struct controller *c = owner;
	struct cmember *m;
	size_t added;

	if (r->op == PROV_OP_LIST) {
		c->list_busy = false;
	} else if (r->op == PROV_OP_SET_SIZE) {
		c->grow_busy = false;
		if (r->rc == -1)
			prov_failed(c, OP_SET_SIZE, "provider set_size failed", r->e.msg);
		else
			prov_ok(c, OP_SET_SIZE, "provider set_size works again");
	} else if (r->op == PROV_OP_SET_DRAINING) {
		/* The provider keeps the set it was given and applies it on its
		 * next list too: a failed call is repaired without a resend. */
		if (r->rc == -1)
			prov_failed(c, OP_SET_DRAINING, "provider set_draining failed", r->e.msg);
		else
			prov_ok(c, OP_SET_DRAINING, "provider set_draining works again");
	} else if ((m = ctl_member(c, r->id)) != NULL) {
		m->removing = false;
		if (r->rc == -1) {
			m->remove_fails++;
			m->next_remove_ms = loop_now_ms(c->loop) + backoff_ms(m->remove_fails,
			    CTL_REMOVE_BACKOFF_MS, CTL_REMOVE_BACKOFF_MAX_MS, &c->seed);
			prov_failed(c, OP_REMOVE, "provider remove failed", r->e.msg);
		} else {
			m->remove_fails = 0;
			prov_ok(c, OP_REMOVE, "provider remove works again");
			set_state(c, m, MEMBER_STOPPING);
		}
	}
	added = take_list(c, r->list_rc, &r->list_e, &r->members, r->op != PROV_OP_LIST);
	if (r->op == PROV_OP_SET_SIZE && r->rc == 0 && added > 0) {
		c->stats.started += added;
		ctl_event(c, "scale_out", "scaled out to %d: %zu started", r->n, added);
	}
	/* A remove that failed before this size was set left a member the
	 * size did not count (draining_at_provider): ask again now rather
	 * than an interval later. */
	if (r->op == PROV_OP_SET_SIZE &&
	    c->stats.provider_errors[OP_REMOVE] != c->grow_remove_errors &&
	    ctl_active(c) < c->desired)
		ctl_reconcile_now(c);
	if (c->publish_needed)
		publish(c);
}

/* ---- acting ---- */

/* Asks the provider to remove a member the controller decided to remove,
 * unless a call is under way or a failed one's pause has not passed;
 * fast_tick calls it until the member is stopping. */
static void provider_remove(struct controller *c, struct cmember *m, int64_t now)
{
	if (m->remove_why == NULL || m->removing || m->state == MEMBER_STOPPING ||
	    now < m->next_remove_ms || !ctl_acting(c))
		return;
	if (c->cfg->dry_run) {
		log_msg(LOG_INFO, "dry run: would remove", "pool=%s id=%s reason=%s", c->cfg->pool,
		    m->id, m->remove_why);
		m->next_remove_ms = INT64_MAX;		/* said once */
		return;
	}
	if (prov_runner_submit(c->runner, PROV_OP_REMOVE, 0, m->id) == -1) {
		prov_failed(c, OP_REMOVE, "provider remove failed", "provider queue full");
		m->next_remove_ms = now + CTL_FAST_MS;
		return;
	}
	log_msg(LOG_INFO, "removing", "pool=%s id=%s reason=%s attempt=%d", c->cfg->pool, m->id,
	    m->remove_why,
	    m->remove_fails + 1);
	m->removing = true;
}

/* Tells the provider which members are draining, when that changed and
 * it has a load balancer of its own to tell. */
static void provider_draining(struct controller *c)
{
	const char **ids;
	size_t n = 0;

	if (!c->draining_changed || c->prov.ops->set_draining == NULL || c->cfg->dry_run ||
	    !ctl_acting(c))
		return;
	ids = calloc(c->n + 1, sizeof(*ids));
	if (ids == NULL)
		return;			/* tried again on the next fast tick */
	for (size_t i = 0; i < c->n; i++)
		if (c->m[i].state == MEMBER_DRAINING)
			ids[n++] = c->m[i].id;
	if (prov_runner_submit_draining(c->runner, ids, n) == 0)
		c->draining_changed = false;
	free(ids);
}

/* The decision to remove a member is taken once (its event is the
 * caller's); the calls that carry it out are retried, with backoff, until
 * the provider has it stopping. why: a static string. */
static void doom(struct controller *c, struct cmember *m, const char *why)
{
	/* A follower leaves every removal to the leader. */
	if (m->remove_why != NULL || !ctl_acting(c))
		return;
	m->remove_why = why;
	c->ha_dirty = true;
	provider_remove(c, m, loop_now_ms(c->loop));
}

static void decide(struct controller *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void decide(struct controller *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->last_decision, sizeof(c->last_decision), fmt, ap);
	va_end(ap);
	c->last_decision_unix_ms = clock_wall_unix_ms();
}

/* Victim order for scale-in: one already being removed first (unhealthy,
 * boot timeout: it goes anyway), then PENDING before RUNNING (a booting
 * instance serves nobody yet), then the youngest first (the oldest have
 * proven themselves and hold warm caches); ties by id. */
static int victim_before(const struct cmember *a, const struct cmember *b)
{
	if ((a->remove_why != NULL) != (b->remove_why != NULL))
		return a->remove_why != NULL;
	if (a->state != b->state)
		return a->state == MEMBER_PENDING;
	if (a->created_unix_s != b->created_unix_s)
		return a->created_unix_s > b->created_unix_s;
	return strcmp(a->id, b->id) > 0;
}

static void scale_in(struct controller *c, int excess)
{
	while (excess-- > 0) {
		struct cmember *v = NULL;

		for (size_t i = 0; i < c->n; i++) {
			struct cmember *m = &c->m[i];

			if (m->state != MEMBER_PENDING && m->state != MEMBER_RUNNING)
				continue;
			if (v == NULL || victim_before(m, v))
				v = m;
		}
		if (v == NULL)
			return;
		if (c->cfg->dry_run) {
			log_msg(LOG_INFO, "dry run: would drain", "pool=%s id=%s", c->cfg->pool,
			    v->id);
			return;
		}
		ctl_event(c, "drain", "draining %s (%s, %s) for scale-in", v->id, v->address,
		    member_state_name(v->state));
		set_state(c, v, MEMBER_DRAINING);
		v->drain_start_ms = loop_now_ms(c->loop);
		v->in_flight = -1;
	}
}

/* Puts back in service, most recent drain first, up to need members still
 * draining whose removal is not decided yet: when the pool must grow again,
 * a member it was letting go is capacity already there, booted and warm.
 * Returns how many came back. */
static int undrain(struct controller *c, int need)
{
	int back = 0;

	while (back < need) {
		struct cmember *v = NULL;

		for (size_t i = 0; i < c->n; i++) {
			struct cmember *m = &c->m[i];

			if (m->state == MEMBER_DRAINING && m->remove_why == NULL &&
			    (v == NULL || m->drain_start_ms > v->drain_start_ms))
				v = m;
		}
		if (v == NULL)
			break;
		ctl_event(c, "undrain", "%s (%s) back in service: the pool needs it again", v->id,
		    v->address);
		set_state(c, v, MEMBER_RUNNING);
		v->fails = 0;
		v->next_check_ms = loop_now_ms(c->loop);
		back++;
	}
	return back;
}

static void reconcile(struct controller *c)
{
	int64_t t0 = clock_mono_ns();
	int active, draining, want = c->desired;

	if (!c->listed) {
		decide(c, "held: could not list members");
		return;
	}
	if (!ctl_acting(c)) {
		struct ha_info hi;

		ha_info(c->ha, &hi);
		if (hi.leader_name[0] != '\0' && !hi.leader)
			decide(c, "following: %s leads", hi.leader_name);
		else
			decide(c, "held: no leader with a live lease");
		publish(c);
		c->ready = true;
		return;
	}
	if (!ctl_ha_durable(c)) {
		decide(c, "held: waiting for etcd to hold desired %d before acting on it",
		    c->desired);
		return;
	}
	active = count(c, MEMBER_PENDING) + count(c, MEMBER_RUNNING);
	if (active < want && !c->cfg->dry_run)
		active += undrain(c, want - active);
	/* The size is absolute, and the provider counts members still
	 * leaving, but not one whose remove runs first: counted, it made one
	 * instance too many. */
	draining = draining_at_provider(c);
	if (active < want) {
		int ask = want + draining;

		/* Past the provider's own maximum it would refuse the whole call.
		 * Ask for what it takes; the rest comes once they are gone. */
		if (c->prov_max >= 0 && ask > c->prov_max)
			ask = c->prov_max > active + draining ? c->prov_max : active + draining;
		decide(c, "scale out: %d active, desired %d", active, want);
		if (c->cfg->dry_run) {
			log_msg(LOG_INFO, "dry run: would scale out", "pool=%s from=%d to=%d",
			    c->cfg->pool, active, want);
		} else if (!c->grow_busy && ask > active + draining) {
			/* The size is absolute: asking again while the pool grows
			 * (members not listed yet) changes nothing. */
			if (prov_runner_submit(c->runner, PROV_OP_SET_SIZE, ask, NULL) == 0) {
				c->grow_busy = true;
				c->grow_remove_errors = c->stats.provider_errors[OP_REMOVE];
			} else {
				prov_failed(c, OP_SET_SIZE, "provider set_size failed",
				    "provider queue full");
			}
		}
	} else if (active > want) {
		decide(c, "scale in: %d active, desired %d", active, want);
		scale_in(c, active - want);
		/* The drains just begun, to etcd now: a new leader carries
		 * them on rather than starting its own. */
		if (c->ha_dirty)
			ctl_ha_save(c, false);
	} else {
		decide(c, "steady at %d", want);
	}
	publish(c);
	c->ready = true;
	c->stats.reconciles++;
	c->stats.last_reconcile_seconds = (double)(clock_mono_ns() - t0) / 1e9;
	c->stats.reconcile_seconds_sum += c->stats.last_reconcile_seconds;
}

/* ---- health checks and drains ---- */

struct check_ctx {
	struct controller *c;
	char id[40];
};

static void health_done(void *ctx, int status, const char *body, size_t len, const char *err)
{
	struct check_ctx *k = ctx;
	struct controller *c = k->c;
	struct cmember *m = ctl_member(c, k->id);

	(void)body;
	(void)len;
	free(k);
	if (m == NULL || status == HTTP_CLIENT_CANCELLED)
		return;
	m->check_running = false;
	if ((m->state != MEMBER_PENDING && m->state != MEMBER_RUNNING) || m->remove_why != NULL)
		return;
	if (status == 200) {
		m->fails = 0;
		/* Healthy is not enough while the provider says it is not
		 * running yet: the same rule as what is published. */
		if (m->state == MEMBER_PENDING && publish_member(&m->prov, true)) {
			set_state(c, m, MEMBER_RUNNING);
			ctl_event(c, "ready", "%s (%s) is healthy after %.1f s", m->id, m->address,
			    (double)(loop_now_ms(c->loop) - m->seen_ms) / 1000.0);
		}
		return;
	}
	if (m->state != MEMBER_RUNNING)
		return;		/* booting: boot_timeout decides */
	m->fails++;
	log_msg(LOG_WARN, "health check failed", "pool=%s id=%s status=%d error=%s fails=%d",
	    c->cfg->pool, m->id,
	    status, err ? err : "", m->fails);
	/* A follower keeps counting, for its status; the leader replaces. */
	if (m->fails >= c->cfg->health_fails && ctl_acting(c)) {
		c->stats.replaced++;
		ctl_event(c, "unhealthy", "%s (%s) failed %d health checks; replacing it", m->id,
		    m->address, m->fails);
		doom(c, m, "unhealthy");
	}
}

static void start_check(struct controller *c, struct cmember *m)
{
	struct check_ctx *k = malloc(sizeof(*k));

	if (k == NULL)
		return;
	k->c = c;
	snprintf(k->id, sizeof(k->id), "%s", m->id);
	if (http_client_get(c->hc, &m->app_addr, c->cfg->health_path, c->cfg->health_timeout_ms,
	    4096, health_done, k) == -1) {
		free(k);
		return;
	}
	m->check_running = true;
}

/* The drain metric's sum in a member's metrics page, or -1 when the page
 * has none or is malformed. */
static double parse_in_flight(const struct controller *c, const char *body, size_t len)
{
	double sum;

	return prom_text_sum(body, len, c->cfg->drain_metric, &sum) > 0 ? sum : -1;
}

static void drain_done(void *ctx, int status, const char *body, size_t len, const char *err)
{
	struct check_ctx *k = ctx;
	struct controller *c = k->c;
	struct cmember *m = ctl_member(c, k->id);

	(void)err;
	free(k);
	if (m == NULL || status == HTTP_CLIENT_CANCELLED)
		return;
	m->drain_check_running = false;
	if (m->state != MEMBER_DRAINING || m->remove_why != NULL)
		return;
	m->in_flight = status == 200 ? parse_in_flight(c, body, len) : -1;
	if (m->in_flight == 0) {
		ctl_event(c, "drained", "%s (%s) drained after %.1f s", m->id, m->address,
		    (double)(loop_now_ms(c->loop) - m->drain_start_ms) / 1000.0);
		doom(c, m, "scale-in");
	}
}

static void drain_step(struct controller *c, struct cmember *m, int64_t now)
{
	/* Drained or timed out: what is left is its removal (fast_tick). */
	if (m->remove_why != NULL)
		return;
	if (now - m->drain_start_ms >= c->cfg->drain_timeout_ms) {
		double timeout_s = (double)c->cfg->drain_timeout_ms / 1000.0;

		if (m->in_flight > 0)
			ctl_event(c, "drain_timeout", "%s (%s) still had %.0f requests in flight after "
			    "the %.1f s drain timeout; stopping it", m->id, m->address, m->in_flight,
			    timeout_s);
		else
			ctl_event(c, "drain_timeout", "%s (%s): its requests in flight could not be read "
			    "within the %.1f s drain timeout; stopping it", m->id, m->address,
			    timeout_s);
		doom(c, m, "drain timeout");
		return;
	}
	if (!m->drain_check_running) {
		struct check_ctx *k = malloc(sizeof(*k));

		if (k == NULL)
			return;
		k->c = c;
		snprintf(k->id, sizeof(k->id), "%s", m->id);
		/* By default the app's own /metrics on its serving port: on a
		 * cloud VM the metrics port belongs to node exporter. A member
		 * that passes its serving port on (a balancer) says drain.port. */
		if (http_client_get(c->hc, c->cfg->drain_on_metrics_port ? &m->metrics_addr :
		    &m->app_addr, "/metrics", c->cfg->health_timeout_ms,
		    1 << 20, drain_done, k) == -1) {
			free(k);
			return;
		}
		m->drain_check_running = true;
	}
}

/* Every CTL_FAST_MS: deaths, health checks that are due, drains, publishing. */
static int64_t fast_tick(struct loop *l, void *ctx)
{
	struct controller *c = ctx;
	int64_t now = loop_now_ms(l);

	if (now >= c->next_list_ms)
		request_list(c);
	for (size_t i = 0; i < c->n; i++) {
		struct cmember *m = &c->m[i];

		if (m->remove_why != NULL) {
			provider_remove(c, m, now);
			continue;
		}
		switch (m->state) {
		case MEMBER_PENDING:
			if (now - m->seen_ms >= c->cfg->boot_timeout_ms && ctl_acting(c)) {
				c->stats.replaced++;
				ctl_event(c, "boot_timeout", "%s (%s) not %s %lld s after start; "
				    "replacing it", m->id, m->address, m->prov.booting ?
				    "reported running by the provider" : "healthy",
				    (long long)(c->cfg->boot_timeout_ms / 1000));
				doom(c, m, "boot timeout");
				break;
			}
			/* Pending members are health-checked too. */
			__attribute__((fallthrough));
		case MEMBER_RUNNING:
			if (!m->check_running && now >= m->next_check_ms) {
				int64_t every = c->cfg->health_interval_ms;

				/* A booting member is asked more often, so it serves
				 * as soon as it can. */
				if (m->state == MEMBER_PENDING && every > CTL_PENDING_CHECK_MS)
					every = CTL_PENDING_CHECK_MS;
				m->next_check_ms = now + every;
				start_check(c, m);
			}
			break;
		case MEMBER_DRAINING:
			drain_step(c, m, now);
			break;
		default:
			break;
		}
	}
	provider_draining(c);
	if (c->ha_dirty)
		ctl_ha_save(c, false);
	if (c->publish_needed)
		publish(c);
	return CTL_FAST_MS;
}

/* The interval's point for the chart: the size now and the policy's last
 * decision (the target policy's queries for this one are still running).
 * The metric is the first one's, so the line keeps one unit when several
 * metrics take turns deciding. */
static void record(struct controller *c)
{
	struct history_point p = {
		.unix_ms = clock_wall_unix_ms(), .desired = c->desired,
		.metric = c->as.metric_values[0], .need = c->as.need,
	};

	for (size_t i = 0; i < c->n; i++)
		p.ready += c->m[i].state == MEMBER_RUNNING;
	history_add(&c->history, &p);
}

static int64_t tick(struct loop *l, void *ctx)
{
	struct controller *c = ctx;

	(void)l;
	ctl_sched_update(c, clock_wall_unix_ms() / 1000);
	reconcile(c);
	record(c);
	/* Only the leader decides: a follower's decisions would change the
	 * windows it takes back from etcd when it comes to lead. */
	if (ctl_acting(c))
		ctl_autoscale_tick(c);
	return c->cfg->interval_ms;
}

int ctl_set_desired(struct controller *c, int n, const char *why, struct err *e)
{
	int prev = c->desired;

	c->desired = n;
	if (save_state(c, e) == -1) {
		c->desired = prev;
		return -1;
	}
	if (n != prev)
		ctl_event(c, "desired", "desired size %d -> %d (%s)", prev, n, why);
	reconcile(c);
	return 0;
}

void ctl_lock_path(const struct ctl_cfg *cfg, char *dst, size_t cap)
{
	snprintf(dst, cap, "%s/controller.lock", cfg->state_dir);
}

int ctl_init(struct controller *c, struct ctl_cfg *cfg, struct loop *l, struct err *e)
{
	char lock[1200];
	double start = c->start_unix_s;
	bool lenient = c->start_lenient;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->loop = l;
	c->start_unix_s = start;
	c->start_lenient = lenient;
	c->lock_fd = -1;
	c->prov_min = c->prov_max = -1;
	c->seed = (unsigned)clock_mono_ns() ^ (unsigned)getpid();
	if (events_init(&c->events, CTL_EVENTS) == -1 ||
	    history_init(&c->history, history_cap_for(cfg->interval_ms)) == -1)
		return err_set(e, "out of memory");
	if (ctl_sched_init(c, e) == -1)
		return -1;
	if (file_mkdirs(cfg->state_dir, e) == -1 || file_mkdirs(cfg->sd_dir, e) == -1)
		return -1;
	ctl_lock_path(cfg, lock, sizeof(lock));
	c->lock_fd = file_lock(lock, e);
	if (c->lock_fd == -1)
		return -1;
	if (ctl_provider_open(cfg, &c->prov, e) == -1)
		return -1;
	c->hc = http_client_new(l);
	if (c->hc == NULL)
		return err_set(e, "out of memory");
	/* No saved size and no `initial`: the first list sets it (adopt.h). */
	adopt_init(&c->adopt, !load_state(c) && !cfg->initial_given);
	if (ctl_autoscale_init(c, e) == -1)
		return -1;
	/* Loud at start: a wrong key or pool id stops here, with the cause
	 * (with several pools it is logged, and the list asked again). */
	if (list_now(c, e) == -1) {
		if (!c->start_lenient)
			return -1;
		log_msg(LOG_ERROR, "provider list failed at start; the pool starts and asks "
		    "again", "pool=%s error=%s", cfg->pool, e->msg);
	}
	c->runner = prov_runner_new(&c->prov, l, on_provider, c, e);
	if (c->runner == NULL)
		return -1;
	c->publish_needed = true;
	publish(c);
	c->fast_timer = loop_add_timer(l, CTL_FAST_MS, fast_tick, c);
	/* The first reconcile comes once adopted members had a health check. */
	c->tick_timer = loop_add_timer(l, cfg->health_timeout_ms + CTL_FAST_MS, tick, c);
	if (c->fast_timer == 0 || c->tick_timer == 0)
		return err_set(e, "out of memory");
	return 0;
}

void ctl_fini(struct controller *c)
{
	c->stopping = true;
	ctl_autoscale_fini(c);
	ctl_sched_fini(c);
	if (c->loop != NULL) {
		if (c->fast_timer)
			loop_cancel_timer(c->loop, c->fast_timer);
		if (c->tick_timer)
			loop_cancel_timer(c->loop, c->tick_timer);
	}
	http_client_free(c->hc);
	ha_mute(c->ha);
	prov_runner_free(c->runner);	/* its fence asks c->ha: freed after */
	ctl_ha_fini(c);
	if (c->prov.ops)
		c->prov.ops->free(c->prov.impl);
	for (int i = 0; i < CTL_MAX_SETS; i++)
		free(c->sd_last[i]);
	events_fini(&c->events);
	history_fini(&c->history);
	free(c->m);
	if (c->lock_fd > 0)
		close(c->lock_fd);
}

/* ---- for controller/failover.c ---- */

void ctl_member_drain(struct controller *c, struct cmember *m, int64_t since_ms, bool removing)
{
	set_state(c, m, MEMBER_DRAINING);
	m->drain_start_ms = since_ms;
	m->in_flight = -1;
	if (removing)
		doom(c, m, "drained (before a failover)");
}

void ctl_member_undrain(struct controller *c, struct cmember *m)
{
	set_state(c, m, MEMBER_RUNNING);
	m->fails = 0;
	m->next_check_ms = loop_now_ms(c->loop);
}

void ctl_reconcile_now(struct controller *c)
{
	reconcile(c);
}
