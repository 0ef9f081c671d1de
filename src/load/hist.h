/* load/hist.h: a log-linear latency histogram (HdrHistogram's layout):
 * exact below 256 us, then 128 buckets per power of two, so any recorded
 * value comes back within 0.8%. 1 us to 60 s in 2,560 counters; record is
 * a few instructions and allocates nothing. Pure.
 * Not here: what is measured or when (the load engine). */
#ifndef POOLSCALE_HIST_H
#define POOLSCALE_HIST_H

#include <stdint.h>

#define HIST_MAX_US (60LL * 1000 * 1000)
#define HIST_BUCKETS 2560	/* hist_bucket(HIST_MAX_US) + 1 */

struct hist {
	uint64_t count;
	uint64_t sum_us;
	int64_t min_us;
	int64_t max_us;
	uint32_t n[HIST_BUCKETS];
};

void hist_reset(struct hist *h);
/* Values below 1 us count as 1 us, above 60 s as 60 s. */
void hist_record(struct hist *h, int64_t us);
void hist_merge(struct hist *dst, const struct hist *src);
/* The value at quantile q (0..1): the midpoint of the bucket holding it,
 * clamped to [min, max] seen. 0 when empty. */
int64_t hist_quantile(const struct hist *h, double q);
double hist_mean_us(const struct hist *h);

/* Bucket index of a value, and the range [lo, hi] a bucket holds: for tests. */
unsigned hist_bucket(int64_t us);
void hist_bucket_range(unsigned b, int64_t *lo, int64_t *hi);

#endif
