#include "lb/balance.h"

int lb_pick(enum lb_strategy s, const bool *eligible, const int *active, size_t n,
    unsigned *cursor)
{
	int best = -1;

	if (n == 0)
		return -1;
	for (size_t k = 1; k <= n; k++) {
		size_t i = (*cursor + k) % n;

		if (!eligible[i])
			continue;
		if (s == LB_ROUNDROBIN) {
			best = (int)i;
			break;
		}
		if (best < 0 || active[i] < active[best])
			best = (int)i;
	}
	if (best >= 0)
		*cursor = (unsigned)best;
	return best;
}
