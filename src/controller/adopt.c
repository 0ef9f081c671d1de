#include "controller/adopt.h"

void adopt_init(struct adopt *a, bool first)
{
	a->first = first;
	a->seen = -1;
}

void adopt_forget(struct adopt *a)
{
	a->seen = -1;
}

static int clamp(int n, int min, int max)
{
	return n < min ? min : n > max ? max : n;
}

enum adopt_why adopt_take(struct adopt *a, const struct adopt_list *l, int min, int max,
    int *found, int *desired)
{
	enum adopt_why why = ADOPT_NONE;

	if (a->first) {
		a->first = false;
		*found = l->size >= 0 ? l->size : l->members;
		*desired = clamp(*found, min, max);
		why = ADOPT_FIRST_START;
	} else if (l->size >= 0 && a->seen >= 0 && !l->ours && l->size != a->seen) {
		*found = l->size;
		*desired = clamp(l->size - l->draining, min, max);
		why = ADOPT_OUTSIDE;
	}
	if (l->size >= 0)
		a->seen = l->size;
	return why;
}
