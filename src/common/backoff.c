#include "common/backoff.h"

#include <stdlib.h>

int64_t backoff_ms(int failures, int64_t base_ms, int64_t max_ms, unsigned *seed)
{
	int64_t d = base_ms;

	for (int i = 1; i < failures && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	return d / 2 + (int64_t)((unsigned)rand_r(seed) % (unsigned)(d / 2 + 1));
}
