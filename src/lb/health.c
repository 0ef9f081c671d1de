#include "lb/health.h"

void health_init(struct health *h, bool up)
{
	h->up = up;
	h->streak = 0;
}

bool health_update(struct health *h, int rise, int fall, bool ok)
{
	if (ok == h->up) {
		h->streak = 0;	/* a result that agrees resets the count */
		return false;
	}
	if (++h->streak < (h->up ? fall : rise))
		return false;
	h->up = ok;
	h->streak = 0;
	return true;
}
