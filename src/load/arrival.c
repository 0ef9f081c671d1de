#include "load/arrival.h"

#include <math.h>

double load_arrival_next(bool poisson, double n, uint64_t *rng)
{
	double u;

	if (!poisson)
		return n + 1;
	/* xorshift64*: reproducible for a seed, good enough for gaps. */
	*rng ^= *rng >> 12;
	*rng ^= *rng << 25;
	*rng ^= *rng >> 27;
	u = (double)((*rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
	return n - log1p(-u);
}
