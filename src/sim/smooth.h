/* sim/smooth.h: a trace's counts as an estimate of a rate. A row's count
 * is the rate times the step plus sampling noise; scaled by --fit-peak or
 * --rate-scale X > 1, that noise would be X times larger (relatively,
 * sqrt(X)) than a real service of the scaled size has, and the latency
 * model (M/M/1: Poisson arrivals at the rate) already carries the noise of
 * the scaled volume. So the counts are smoothed (a centred moving average
 * of W rows) before scaling, with W:
 *  - at most X rows: a W-row mean of the trace has the relative noise of
 *    one row at X times the volume, the level a real service that size has;
 *  - and no larger than the noise explains (Morozov's discrepancy
 *    principle): the residuals (count − smoothed) must not exceed, on
 *    average, the noise variance measured at the trace's own resolution,
 *    D × count, with the dispersion D estimated from second differences
 *    (D = 1 for Poisson arrivals; above 1 when requests come in clusters,
 *    as a page's images do). Smoothing beyond that erases real changes.
 * docs/simulate.md says why. Pure. Not here: reading the trace. */
#ifndef POOLSCALE_SIM_SMOOTH_H
#define POOLSCALE_SIM_SMOOTH_H

#include <stddef.h>

/* The noise's variance over its mean (the index of dispersion) from
 * second differences; 1 when the trace is too short to tell. */
double smooth_dispersion(const double *counts, size_t n);
/* The mean of (count − smoothed)² / (D × max(smoothed, 1)) with a W-row
 * window: about 1 − 1/W for pure noise, more once real changes are cut. */
double smooth_discrepancy(const double *counts, size_t n, size_t w, double d);
/* The window for a trace scaled by rate_scale: an odd W in [1, rate_scale]
 * rows, the largest whose discrepancy stays at most 1; 1 when
 * rate_scale < 3 or the trace is too short. */
size_t smooth_window(const double *counts, size_t n, double rate_scale);
/* Replaces counts by their centred W-row mean (fewer rows at the ends).
 * -1 when out of memory (counts unchanged). */
int smooth_apply(double *counts, size_t n, size_t w);

#endif
