#include "lb/pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "common/log.h"

int lb_pool_init(struct lb_pool *p, enum lb_strategy s)
{
	memset(p, 0, sizeof(*p));
	p->strategy = s;
	p->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)p;
	return pthread_mutex_init(&p->mu, NULL) == 0 ? 0 : -1;
}

void lb_pool_fini(struct lb_pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->b[i]);
	free(p->b);
	free(p->eligible);
	free(p->active);
	pthread_mutex_destroy(&p->mu);
}

const double lb_duration_bounds_s[LB_DURATION_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

void lb_req_stats_add(struct lb_req_stats *s, int status, int64_t duration_us)
{
	size_t k = 0;
	int cls = status >= 100 && status < 600 ? status / 100 : 0;

	while (k < LB_DURATION_BUCKETS && (double)duration_us > lb_duration_bounds_s[k] * 1e6)
		k++;
	atomic_fetch_add_explicit(&s->by_class[cls], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->duration[k], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->duration_sum_us, (uint64_t)(duration_us > 0 ? duration_us : 0),
	    memory_order_relaxed);
}

bool lb_backend_eligible(const struct lb_backend *be)
{
	return be->in_set && be->health.up;
}

static struct lb_backend *find(struct lb_pool *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->b[i]->name, name) == 0)
			return p->b[i];
	return NULL;
}

/* Under mu. A new backend starts healthy: the controller publishes only
 * members that passed its own checks; ours eject it if it is not. */
static struct lb_backend *add(struct lb_pool *p, const char *name, struct err *e)
{
	struct lb_backend *be;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct lb_backend **b = realloc(p->b, cap * sizeof(*b));
		bool *el = realloc(p->eligible, cap * sizeof(*el));
		int *ac = realloc(p->active, cap * sizeof(*ac));

		if (b)
			p->b = b;
		if (el)
			p->eligible = el;
		if (ac)
			p->active = ac;
		if (!b || !el || !ac) {
			err_set(e, "out of memory");
			return NULL;
		}
		p->cap = cap;
	}
	be = calloc(1, sizeof(*be));
	if (be == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	if (net_addr_parse(name, &be->addr, e) == -1) {
		free(be);
		return NULL;
	}
	snprintf(be->name, sizeof(be->name), "%s", name);
	be->idx = p->n;
	health_init(&be->health, true);
	p->b[p->n++] = be;
	return be;
}

int lb_pool_add_static(struct lb_pool *p, const char *addr, struct err *e)
{
	struct lb_backend *be;
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	be = find(p, addr);
	if (be == NULL)
		be = add(p, addr, e);
	if (be == NULL) {
		rc = -1;
	} else {
		be->in_set = true;
		be->is_static = true;
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int lb_pool_set_targets(struct lb_pool *p, const struct lb_targets *t, int64_t now_ms,
    int *added, int *removed, struct err *e)
{
	int rc = 0;

	*added = *removed = 0;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->n; i++) {
		struct lb_backend *be = p->b[i];
		bool listed = false;

		if (be->is_static)
			continue;
		for (size_t j = 0; j < t->n && !listed; j++)
			listed = strcmp(t->addr[j], be->name) == 0;
		if (be->in_set && !listed) {
			be->in_set = false;
			if (be->ineligible_ms == 0)
				be->ineligible_ms = now_ms;
			(*removed)++;
		}
	}
	for (size_t j = 0; j < t->n; j++) {
		struct lb_backend *be = find(p, t->addr[j]);

		if (be == NULL && (be = add(p, t->addr[j], e)) == NULL) {
			rc = -1;
			break;
		}
		if (!be->in_set) {
			be->in_set = true;
			if (be->health.up)
				be->ineligible_ms = 0;
			(*added)++;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

struct lb_backend *lb_pool_pick(struct lb_pool *p, struct lb_backend *const *tried,
    int ntried)
{
	struct lb_backend *be = NULL;
	int i;

	pthread_mutex_lock(&p->mu);
	for (size_t k = 0; k < p->n; k++) {
		p->eligible[k] = lb_backend_eligible(p->b[k]);
		for (int j = 0; j < ntried && p->eligible[k]; j++)
			if (tried[j] == p->b[k])
				p->eligible[k] = false;
		p->active[k] = atomic_load_explicit(&p->b[k]->active, memory_order_relaxed);
	}
	p->rng ^= p->rng << 13;
	p->rng ^= p->rng >> 7;
	p->rng ^= p->rng << 17;
	i = lb_pick(p->strategy, p->eligible, p->active, p->n, &p->cursor, (uint32_t)(p->rng >> 32));
	if (i >= 0) {
		be = p->b[i];
		atomic_fetch_add_explicit(&be->active, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&be->total, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&p->mu);
	return be;
}

bool lb_pool_health(struct lb_pool *p, struct lb_backend *be, int rise, int fall, bool ok,
    int64_t now_ms)
{
	bool changed;

	pthread_mutex_lock(&p->mu);
	changed = health_update(&be->health, rise, fall, ok);
	if (changed) {
		atomic_fetch_add(&be->transitions, 1);
		if (!be->health.up && be->ineligible_ms == 0)
			be->ineligible_ms = now_ms;
		else if (be->health.up && be->in_set)
			be->ineligible_ms = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return changed;
}
