/* The ring of the pool's recent course (controller/history.h). */
#include "controller/history.h"

#include <math.h>
#include <stdlib.h>

size_t history_cap_for(int64_t interval_ms)
{
	int64_t n;

	if (interval_ms <= 0)
		return HISTORY_MAX_POINTS;
	/* One more than an hour's worth, so the chart spans the whole hour. */
	n = (3600 * 1000 + interval_ms - 1) / interval_ms + 1;
	return n > HISTORY_MAX_POINTS ? HISTORY_MAX_POINTS : n < 2 ? 2 : (size_t)n;
}

int history_init(struct history *h, size_t cap)
{
	h->v = calloc(cap, sizeof(*h->v));
	h->cap = h->v ? cap : 0;
	h->n = h->next = 0;
	return h->v ? 0 : -1;
}

void history_fini(struct history *h)
{
	free(h->v);
	h->v = NULL;
	h->cap = h->n = h->next = 0;
}

void history_add(struct history *h, const struct history_point *p)
{
	if (h->cap == 0)
		return;
	h->v[h->next] = *p;
	h->next = (h->next + 1) % h->cap;
	if (h->n < h->cap)
		h->n++;
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *history_json(const struct history *h, int64_t since_unix_ms, int64_t interval_ms)
{
	json_t *arr = json_array();
	size_t start = h->cap ? (h->next + h->cap - h->n) % h->cap : 0;

	for (size_t i = 0; i < h->n; i++) {
		const struct history_point *p = &h->v[(start + i) % h->cap];

		if (p->unix_ms <= since_unix_ms)
			continue;
		json_array_append_new(arr, json_pack("{s:f, s:i, s:i, s:o, s:o}",
		    "time", (double)p->unix_ms / 1000.0, "desired", p->desired, "ready", p->ready,
		    "metric", num_or_null(p->metric), "need", num_or_null(p->need)));
	}
	return json_pack("{s:f, s:I, s:o}", "interval_s", (double)interval_ms / 1000.0,
	    "capacity", (json_int_t)h->cap, "points", arr);
}
