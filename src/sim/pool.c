/* The simulated pool; see pool.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/pool.h"

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finaliser: noise and boot times depend only on (seed,
	 * member, time), so every policy meets the same world. */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

double sim_uniform(uint64_t seed, uint64_t a, uint64_t b)
{
	return (double)(mix(mix(seed ^ mix(a)) ^ b) >> 11) / 9007199254740992.0;
}

static struct smember *add(struct spool *p, int64_t now)
{
	struct smember *m;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct smember *v = realloc(p->m, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		p->m = v;
		p->cap = cap;
	}
	m = &p->m[p->n];
	memset(m, 0, sizeof(*m));
	m->sample_ms = malloc(p->ring * sizeof(*m->sample_ms));
	m->sample_v = malloc(p->ring * sizeof(*m->sample_v));
	m->sample_r = malloc(p->ring * sizeof(*m->sample_r));
	if (m->sample_ms == NULL || m->sample_v == NULL || m->sample_r == NULL) {
		free(m->sample_ms);
		free(m->sample_v);
		free(m->sample_r);
		return NULL;
	}
	m->queue = NAN;
	m->id = ++p->next_id;
	m->created_ms = now;
	m->gone_ms = -1;
	p->n++;
	return m;
}

int spool_init(struct spool *p, const struct sim_cfg *cfg, int n, int64_t window_ms)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->ring = (size_t)(window_ms / cfg->scrape_ms) + 3;
	for (int i = 0; i < n; i++) {
		struct smember *m = add(p, SPOOL_LONG_AGO_MS);

		if (m == NULL)
			return -1;
		m->state = SM_READY;
		m->ready_ms = SPOOL_LONG_AGO_MS;
		p->ready++;
	}
	return 0;
}

void spool_fini(struct spool *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->m[i].sample_ms);
		free(p->m[i].sample_v);
		free(p->m[i].sample_r);
	}
	free(p->m);
	memset(p, 0, sizeof(*p));
}

int spool_active(const struct spool *p)
{
	return p->booting + p->ready;
}

int spool_supply(const struct spool *p)
{
	return p->booting + p->ready + p->draining;
}

/* The controller's scale-in order: booting before ready, then youngest. */
static long victim(const struct spool *p)
{
	long v = -1;

	for (size_t i = 0; i < p->n; i++) {
		const struct smember *m = &p->m[i], *b = v >= 0 ? &p->m[v] : NULL;

		if (m->state != SM_BOOTING && m->state != SM_READY)
			continue;
		if (b == NULL || (m->state != b->state ? m->state == SM_BOOTING :
		    m->created_ms != b->created_ms ? m->created_ms > b->created_ms : m->id > b->id))
			v = (long)i;
	}
	return v;
}

int spool_resize(struct spool *p, int want, int64_t now_ms, int *started, size_t *nstarted,
    int *drained, size_t *ndrained)
{
	const struct sim_cfg *c = p->cfg;

	*nstarted = *ndrained = 0;
	while (spool_active(p) < want) {
		struct smember *m = add(p, now_ms);
		int64_t boot = c->boot_ms, hc = c->health_check_ms;

		if (m == NULL)
			return -1;
		if (c->boot_max_ms > c->boot_ms)
			boot += (int64_t)(sim_uniform(c->seed, (uint64_t)m->id, 0x626f6f74) *
			    (double)(c->boot_max_ms - c->boot_ms));
		m->state = SM_BOOTING;
		/* Checked at creation and every hc after: ready at the first
		 * check that finds it booted. */
		m->ready_ms = now_ms + (boot + hc - 1) / hc * hc;
		p->booting++;
		started[(*nstarted)++] = m->id;
	}
	while (spool_active(p) > want) {
		long v = victim(p);
		struct smember *m = &p->m[v];

		if (m->state == SM_BOOTING) {
			p->booting--;
			m->gone_ms = now_ms;	/* nothing in flight: stops at once */
		} else {
			p->ready--;
			m->gone_ms = now_ms + c->drain_ms;
		}
		m->state = SM_DRAINING;
		p->draining++;
		drained[(*ndrained)++] = m->id;
	}
	return 0;
}

struct smember *spool_find(struct spool *p, int id)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->m[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->n && p->m[lo].id == id && p->m[lo].state != SM_GONE ? &p->m[lo] : NULL;
}

void spool_ready(struct spool *p, int id)
{
	struct smember *m = spool_find(p, id);

	if (m == NULL || m->state != SM_BOOTING)
		return;		/* drained while booting */
	m->state = SM_READY;
	p->booting--;
	p->ready++;
}

/* Billed seconds of m up to end, in whole billing units; only the run's
 * part (from t = 0) counts. */
static double billed(const struct spool *p, const struct smember *m, int64_t end)
{
	double unit = (double)p->cfg->billing_ms;
	int64_t start = m->created_ms > 0 ? m->created_ms : 0;

	if (end <= start)
		return 0;
	return ceil((double)(end - start) / unit - 1e-9) * unit / 1000.0;
}

/* Drops gone members once they are half the array, keeping id order. */
static void compact(struct spool *p)
{
	size_t k = 0;

	if (p->ngone * 2 < p->n || p->n < 64)
		return;
	for (size_t i = 0; i < p->n; i++)
		if (p->m[i].state != SM_GONE)
			p->m[k++] = p->m[i];
	p->n = k;
	p->ngone = 0;
}

void spool_gone(struct spool *p, int id)
{
	struct smember *m = spool_find(p, id);

	if (m == NULL || m->state != SM_DRAINING)
		return;
	m->state = SM_GONE;
	p->draining--;
	p->charged_s += billed(p, m, m->gone_ms);
	free(m->sample_ms);
	free(m->sample_v);
	free(m->sample_r);
	m->sample_ms = NULL;
	m->sample_v = NULL;
	m->sample_r = NULL;
	p->ngone++;
	compact(p);
}

double spool_charged_s(const struct spool *p, int64_t now_ms)
{
	double s = p->charged_s;

	for (size_t i = 0; i < p->n; i++)
		if (p->m[i].state != SM_GONE)
			s += billed(p, &p->m[i], now_ms);
	return s;
}

void spool_burn(struct spool *p, double util, int64_t now_ms, int64_t dt_ms)
{
	const struct sim_cfg *c = p->cfg;

	for (size_t i = 0; i < p->n; i++) {
		struct smember *m = &p->m[i];
		double dt = (double)dt_ms / 1000.0;

		if (m->state != SM_READY)
			continue;
		if (c->boot_cpu > util && now_ms < m->ready_ms + c->boot_cpu_ms) {
			/* The boot spike, for the part of [now, now+dt) it covers. */
			double spike = (double)(m->ready_ms + c->boot_cpu_ms - now_ms) / 1000.0;

			if (spike > dt)
				spike = dt;
			m->busy_s += spike * c->boot_cpu + (dt - spike) * util;
		} else {
			m->busy_s += dt * util;
		}
	}
}

void spool_receive(struct spool *p, double arrivals)
{
	if (p->ready == 0 || arrivals <= 0)
		return;
	for (size_t i = 0; i < p->n; i++)
		if (p->m[i].state == SM_READY)
			p->m[i].received += arrivals / p->ready;
}

int64_t spool_scrape_phase(const struct spool *p, int id)
{
	if (p->cfg->scrape_offset_ms >= 0)
		return p->cfg->scrape_offset_ms;
	return (int64_t)(sim_uniform(p->cfg->seed, (uint64_t)id, 0x736372617065) *
	    (double)p->cfg->scrape_ms);
}

int64_t spool_next_scrape(const struct spool *p, int id, int64_t t)
{
	int64_t s = p->cfg->scrape_ms, d = (spool_scrape_phase(p, id) - t) % s;

	return t + (d < 0 ? d + s : d);
}

bool spool_scrape(struct spool *p, int id, int64_t now_ms)
{
	struct smember *m = spool_find(p, id);
	size_t at;

	if (m == NULL || m->state == SM_DRAINING)
		return false;
	if (m->state != SM_READY)
		return true;	/* booting: not in file_sd yet */
	at = (m->head + m->count) % p->ring;
	if (m->count == p->ring)
		m->head = (m->head + 1) % p->ring;
	else
		m->count++;
	m->sample_ms[at] = now_ms;
	m->sample_v[at] = m->busy_s;
	m->sample_r[at] = m->received;
	m->queue = p->ready > 0 && p->backlog > 0 ? p->backlog / p->ready : 0;
	return true;
}

/* rate() of one of member i's counters (ring v) over window_ms at now;
 * NaN when fewer than two samples fall in the window. */
static double counter_rate(const struct spool *p, const struct smember *m, const double *v,
    int64_t window_ms, int64_t now_ms)
{
	size_t first = SIZE_MAX, last = SIZE_MAX;

	if (m->state != SM_READY)
		return NAN;
	for (size_t k = 0; k < m->count; k++) {
		size_t j = (m->head + k) % p->ring;

		if (m->sample_ms[j] <= now_ms - window_ms || m->sample_ms[j] > now_ms)
			continue;
		if (first == SIZE_MAX)
			first = j;
		last = j;
	}
	if (first == SIZE_MAX || first == last)
		return NAN;
	return (v[last] - v[first]) * 1000.0 / (double)(m->sample_ms[last] - m->sample_ms[first]);
}

/* Gaussian noise of sd `sd`, keyed by (member, time): Box-Muller on two
 * uniforms, the same for every policy. */
static double gauss(const struct spool *p, const struct smember *m, int64_t now_ms, double sd)
{
	double u1 = sim_uniform(p->cfg->seed, (uint64_t)m->id, (uint64_t)now_ms);
	double u2 = sim_uniform(p->cfg->seed ^ 0x5eed, (uint64_t)m->id, (uint64_t)now_ms);

	return sd * sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
}

double spool_cpu(const struct spool *p, size_t i, int64_t window_ms, int64_t now_ms)
{
	const struct smember *m = &p->m[i];
	double v = counter_rate(p, m, m->sample_v, window_ms, now_ms);

	if (isnan(v))
		return v;
	if (p->cfg->noise > 0)
		v += gauss(p, m, now_ms, p->cfg->noise);
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

double spool_requests(const struct spool *p, size_t i, int64_t window_ms, int64_t now_ms)
{
	const struct smember *m = &p->m[i];
	double v = counter_rate(p, m, m->sample_r, window_ms, now_ms);

	if (isnan(v))
		return v;
	/* The CPU's noise, in the same instance units: a request rate does not
	 * saturate, so there is no upper clamp. */
	if (p->cfg->noise > 0)
		v += gauss(p, m, now_ms, p->cfg->noise * p->cfg->capacity_rps);
	return v < 0 ? 0 : v;
}

double spool_metric(const struct spool *p, enum spool_metric m, size_t i, int64_t window_ms,
    int64_t now_ms)
{
	return m == SPOOL_METRIC_REQUESTS ? spool_requests(p, i, window_ms, now_ms) :
	    spool_cpu(p, i, window_ms, now_ms);
}

double spool_queue(const struct spool *p)
{
	double sum = 0;
	bool any = false;

	for (size_t i = 0; i < p->n; i++)
		if (p->m[i].state == SM_READY && !isnan(p->m[i].queue)) {
			sum += p->m[i].queue;
			any = true;
		}
	return any ? sum : NAN;
}

double spool_mean_cpu(const struct spool *p, int64_t window_ms, int64_t now_ms)
{
	double sum = 0;
	int n = 0;

	for (size_t i = 0; i < p->n; i++) {
		double v = spool_cpu(p, i, window_ms, now_ms);

		if (!isnan(v)) {
			sum += v;
			n++;
		}
	}
	return n ? sum / n : NAN;
}
