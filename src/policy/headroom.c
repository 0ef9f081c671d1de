#include "policy/headroom.h"

#include <math.h>

/* Loads below one instance are sized as one: a rise from 0.1 to 0.5
 * instances is a fivefold rise of nothing. */
#define FLOOR_NEED 1.0

void headroom_init(struct headroom_state *st)
{
	*st = (struct headroom_state){ .last_ms = -1 };
}

static int bin_of(double rise)
{
	double top = log(HEADROOM_MAX_FACTOR);
	int b;

	if (!(rise > 0))
		return 0;
	b = 1 + (int)(rise / top * (HEADROOM_BINS - 1));
	return b >= HEADROOM_BINS ? HEADROOM_BINS - 1 : b;
}

/* The newest point at least lead_ms old, or NULL. */
static const struct headroom_point *lead_ago(const struct headroom_state *st, int64_t at_ms)
{
	const struct headroom_point *best = NULL;

	for (size_t i = 0; i < st->n; i++) {
		const struct headroom_point *p = &st->ring[(st->head + i) % HEADROOM_RING];

		if (p->at_ms > at_ms)
			break;
		best = p;
	}
	return best;
}

void headroom_observe(const struct headroom_cfg *cfg, struct headroom_state *st,
    int64_t now_ms, double need)
{
	const struct headroom_point *old;

	if (!isfinite(need) || need < 0 || now_ms < st->last_ms)
		return;
	if (st->last_ms >= 0 && cfg->memory_ms > 0) {
		double d = exp(-(double)(now_ms - st->last_ms) / (double)cfg->memory_ms);

		for (int b = 0; b < HEADROOM_BINS; b++)
			st->w[b] *= d;
		st->wsum *= d;
	}
	st->last_ms = now_ms;
	old = lead_ago(st, now_ms - cfg->lead_ms);
	if (old != NULL) {
		double rise = log(fmax(need, FLOOR_NEED) / fmax(old->need, FLOOR_NEED));

		st->w[bin_of(rise)] += 1;
		st->wsum += 1;
		st->nrises++;
	}
	/* Keep points no closer than lead/(RING/2) so the ring spans two lead
	 * times however often the caller decides. */
	if (st->n > 0) {
		const struct headroom_point *last =
		    &st->ring[(st->head + st->n - 1) % HEADROOM_RING];

		if (now_ms - last->at_ms < cfg->lead_ms / (HEADROOM_RING / 2))
			return;
	}
	if (st->n == HEADROOM_RING) {
		st->head = (st->head + 1) % HEADROOM_RING;
		st->n--;
	}
	st->ring[(st->head + st->n) % HEADROOM_RING] = (struct headroom_point){ now_ms, need };
	st->n++;
}

double headroom_factor(const struct headroom_cfg *cfg, const struct headroom_state *st)
{
	/* A quantile q needs a few samples above it before it means anything:
	 * 2/(1-q) rises put two of them past it on average. */
	double min_rises = 2.0 / fmax(1e-3, 1 - cfg->quantile), acc = 0;
	double top = log(HEADROOM_MAX_FACTOR);

	if ((double)st->nrises < min_rises || !(st->wsum > 0))
		return 1;
	for (int b = 0; b < HEADROOM_BINS; b++) {
		acc += st->w[b];
		if (acc >= cfg->quantile * st->wsum) {
			/* the bin's upper edge: never less than the quantile */
			return b == 0 ? 1 : exp(top * (double)b / (HEADROOM_BINS - 1));
		}
	}
	return HEADROOM_MAX_FACTOR;
}
