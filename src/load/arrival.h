/* load/arrival.h: when the next request is due, in "requests due" units of
 * the rate schedule: even gaps, or the exponential gaps of a Poisson
 * process (the schedule's integral is inverted by the caller). Pure: the
 * random state is the caller's. Not here: the schedule (load/rate.h). */
#ifndef POOLSCALE_LOAD_ARRIVAL_H
#define POOLSCALE_LOAD_ARRIVAL_H

#include <stdbool.h>
#include <stdint.h>

/* The arrival after the one at n: n + 1, or n plus an exponential gap of
 * mean 1 drawn from *rng (any non-zero seed; the same seed, the same gaps). */
double load_arrival_next(bool poisson, double n, uint64_t *rng);

#endif
