#include "lb/balance.h"

/* Power of two choices (Mitzenmacher): two distinct eligible candidates
 * drawn from rnd, the less loaded wins; ties go to the first drawn. */
static int pick_p2c(const bool *eligible, const int *active, size_t n, uint32_t rnd)
{
	size_t m = 0, a, b;
	int ia = -1, ib = -1;

	for (size_t i = 0; i < n; i++)
		m += eligible[i];
	if (m == 0)
		return -1;
	a = rnd % m;
	b = m > 1 ? (a + 1 + (rnd / (uint32_t)m) % (m - 1)) % m : a;
	for (size_t i = 0, k = 0; i < n; i++) {
		if (!eligible[i])
			continue;
		if (k == a)
			ia = (int)i;
		if (k == b)
			ib = (int)i;
		k++;
	}
	return active[ib] < active[ia] ? ib : ia;
}

int lb_pick(enum lb_strategy s, const bool *eligible, const int *active, size_t n,
    unsigned *cursor, uint32_t rnd)
{
	int best = -1;

	if (n == 0)
		return -1;
	if (s == LB_P2C)
		return pick_p2c(eligible, active, n, rnd);
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

const char *lb_strategy_name(enum lb_strategy s)
{
	switch (s) {
	case LB_ROUNDROBIN: return "roundrobin";
	case LB_LEASTCONN: return "leastconn";
	case LB_P2C: return "p2c";
	}
	return "?";
}
