/* A binary min-heap on (at_ms, seq); see evq.h. */
#include <stdlib.h>

#include "sim/evq.h"

void evq_init(struct evq *q, int64_t start_ms)
{
	q->heap = NULL;
	q->n = q->cap = 0;
	q->next_seq = 0;
	q->now_ms = start_ms;
}

void evq_fini(struct evq *q)
{
	free(q->heap);
	q->heap = NULL;
	q->n = q->cap = 0;
}

static int before(const struct sim_event *a, const struct sim_event *b)
{
	if (a->at_ms != b->at_ms)
		return a->at_ms < b->at_ms;
	return a->kind != b->kind ? a->kind < b->kind : a->seq < b->seq;
}

int evq_push(struct evq *q, int64_t at_ms, int kind, int arg)
{
	struct sim_event ev = { at_ms < q->now_ms ? q->now_ms : at_ms, q->next_seq++, kind, arg };
	size_t i;

	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct sim_event *h = realloc(q->heap, cap * sizeof(*h));

		if (h == NULL)
			return -1;
		q->heap = h;
		q->cap = cap;
	}
	i = q->n++;
	while (i > 0 && before(&ev, &q->heap[(i - 1) / 2])) {
		q->heap[i] = q->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	q->heap[i] = ev;
	return 0;
}

int evq_pop(struct evq *q, struct sim_event *ev)
{
	struct sim_event last;
	size_t i = 0;

	if (q->n == 0)
		return 0;
	*ev = q->heap[0];
	q->now_ms = ev->at_ms;
	last = q->heap[--q->n];
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!before(&q->heap[c], &last))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	if (q->n > 0)
		q->heap[i] = last;
	return 1;
}

int64_t evq_next_ms(const struct evq *q)
{
	return q->n ? q->heap[0].at_ms : INT64_MAX;
}
