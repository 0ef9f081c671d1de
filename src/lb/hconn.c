#include "lb/hconn.h"

#include <stdlib.h>
#include <unistd.h>

struct bconn *hw_idle_pop(struct lb_hworker *w, struct lb_backend *be)
{
	struct bconn *bc;

	if (be->idx >= w->nidle || (bc = w->idle[be->idx]) == NULL)
		return NULL;
	hw_idle_remove(w, bc);
	return bc;
}

void hw_idle_push(struct lb_hworker *w, struct bconn *bc, int64_t now_ms)
{
	size_t i = bc->be->idx;

	if (i >= w->nidle) {
		size_t n = w->nidle ? w->nidle : 8;
		struct bconn **p;

		while (n <= i)
			n *= 2;
		p = realloc(w->idle, n * sizeof(*p));
		if (p == NULL) {
			loop_close_fd(w->loop, bc->fd);	/* the lb never forks */
			free(bc);
			return;
		}
		for (size_t k = w->nidle; k < n; k++)
			p[k] = NULL;
		w->idle = p;
		w->nidle = n;
	}
	bc->idle_since_ms = now_ms;
	bc->in_idle = true;
	bc->prev = NULL;
	bc->next = w->idle[i];
	if (bc->next)
		bc->next->prev = bc;
	w->idle[i] = bc;
}

void hw_idle_remove(struct lb_hworker *w, struct bconn *bc)
{
	if (bc->prev)
		bc->prev->next = bc->next;
	else
		w->idle[bc->be->idx] = bc->next;
	if (bc->next)
		bc->next->prev = bc->prev;
	bc->prev = bc->next = NULL;
	bc->in_idle = false;
}

static void close_idle(struct lb_hworker *w, struct bconn *bc)
{
	hw_idle_remove(w, bc);
	loop_close_fd(w->loop, bc->fd);	/* the lb never forks */
	free(bc);
}

void hw_idle_sweep(struct lb_hworker *w, int64_t now_ms)
{
	for (size_t i = 0; i < w->nidle; i++) {
		struct bconn *bc, *next;

		for (bc = w->idle[i]; bc != NULL; bc = next) {
			next = bc->next;
			if (!lb_backend_eligible(bc->be) ||
			    now_ms - bc->idle_since_ms >= w->cfg.http.pool_idle_timeout_ms)
				close_idle(w, bc);
		}
	}
}

void hw_idle_free(struct lb_hworker *w)
{
	for (size_t i = 0; i < w->nidle; i++)
		while (w->idle[i] != NULL)
			close_idle(w, w->idle[i]);
	free(w->idle);
	w->idle = NULL;
	w->nidle = 0;
}
