/* common/backoff.h: how long to wait before trying a failed thing again:
 * exponential from a base, capped, with "equal jitter" (half the delay for
 * sure, the other half at random), so that many clients spread out and none
 * retries at once. Pure but for the caller's random state. Not here: the
 * retrying itself, or what counts as a failure. */
#ifndef POOLSCALE_BACKOFF_H
#define POOLSCALE_BACKOFF_H

#include <stdint.h>

/* The pause after `failures` failures in a row (1 for the first):
 * base_ms * 2^(failures - 1), at most max_ms, then drawn from [d/2, d].
 * seed: the caller's rand_r() state, so no global one is shared. */
int64_t backoff_ms(int failures, int64_t base_ms, int64_t max_ms, unsigned *seed);

#endif
