/* controller/adopt.h: the sizes the controller takes from its provider
 * instead of imposing its own, as an AWS Auto Scaling group treats its
 * desired capacity. At the first start (no saved state and no `initial` in
 * the config) the pool's current size becomes the desired size, so adopting
 * a running pool shrinks nothing. Later, a change of the provider's own
 * desired size that the controller did not make (the cloud console, its CLI,
 * another tool) becomes the new desired size instead of being undone. Both
 * are clamped to [min, max]. Pure: the controller feeds every successful
 * list and acts on the answer. Not here: persisting, logging, reconciling
 * (controller.c). */
#ifndef POOLSCALE_ADOPT_H
#define POOLSCALE_ADOPT_H

#include <stdbool.h>

struct adopt {
	bool first;		/* no desired size yet: the next list decides it */
	int seen;		/* the provider's own size at the last list; -1 unknown */
};

/* What a successful list showed. */
struct adopt_list {
	int size;		/* the provider's own desired size; -1 when it keeps none */
	int members;		/* members listed that are not stopping */
	int draining;		/* of those, the ones the controller is draining */
	bool ours;		/* the list followed a change the controller made */
};

enum adopt_why {
	ADOPT_NONE = 0,		/* keep the desired size */
	ADOPT_FIRST_START,	/* no desired size yet: take the pool's */
	ADOPT_OUTSIDE,		/* the provider's size changed outside the controller */
};

/* first: no saved desired size and no explicit `initial`. */
void adopt_init(struct adopt *a, bool first);
/* Forget the last size seen (a change of ours whose outcome could not be
 * listed), so the next list only records the size again. */
void adopt_forget(struct adopt *a);
/* Takes one list. Unless ADOPT_NONE, *found is the size the provider showed
 * and *desired what the controller should want now: found, or for an
 * outside change found less the members being drained (they are still in
 * the provider's size and leave it when removed), clamped to [min, max]. A
 * provider without a size of its own (size -1) has its members counted at
 * the first start, and outside changes are never inferred from members
 * that come and go (a death must be replaced, not adopted). */
enum adopt_why adopt_take(struct adopt *a, const struct adopt_list *l, int min, int max,
    int *found, int *desired);

#endif
