/* The log-linear latency histogram; see hist.h. */
#include <string.h>

#include "load/hist.h"

/* Values below 2^SUB_BITS are their own bucket; above, the top SUB_BITS
 * bits of the value pick one of 128 buckets in its power of two. */
#define SUB_BITS 8
#define SUB_HALF (1u << (SUB_BITS - 1))

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

unsigned hist_bucket(int64_t us)
{
	uint64_t v;
	unsigned msb, shift;

	if (us < 1)
		us = 1;
	if (us > HIST_MAX_US)
		us = HIST_MAX_US;
	v = (uint64_t)us;
	if (v < (1u << SUB_BITS))
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - (SUB_BITS - 1);
	/* (v >> shift) is in [128, 255]; each shift adds 128 buckets. */
	return (1u << SUB_BITS) + (shift - 1) * SUB_HALF + (unsigned)(v >> shift) - SUB_HALF;
}

void hist_bucket_range(unsigned b, int64_t *lo, int64_t *hi)
{
	unsigned shift, top;

	if (b < (1u << SUB_BITS)) {
		*lo = *hi = b;
		return;
	}
	b -= 1u << SUB_BITS;
	shift = b / SUB_HALF + 1;
	top = b % SUB_HALF + SUB_HALF;
	*lo = (int64_t)top << shift;
	*hi = *lo + ((int64_t)1 << shift) - 1;
}

void hist_record(struct hist *h, int64_t us)
{
	if (us < 1)
		us = 1;
	if (us > HIST_MAX_US)
		us = HIST_MAX_US;
	if (h->count == 0 || us < h->min_us)
		h->min_us = us;
	if (us > h->max_us)
		h->max_us = us;
	h->count++;
	h->sum_us += (uint64_t)us;
	h->n[hist_bucket(us)]++;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min_us < dst->min_us)
		dst->min_us = src->min_us;
	if (src->max_us > dst->max_us)
		dst->max_us = src->max_us;
	dst->count += src->count;
	dst->sum_us += src->sum_us;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->n[i] += src->n[i];
}

int64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;
	int64_t lo, hi, mid;

	if (h->count == 0)
		return 0;
	if (q <= 0)
		return h->min_us;
	if (q >= 1)
		return h->max_us;
	/* The smallest value with at least q of the samples at or below it. */
	rank = (uint64_t)(q * (double)h->count + 0.999999999);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->n[i];
		if (seen >= rank) {
			hist_bucket_range(i, &lo, &hi);
			mid = lo + (hi - lo) / 2;
			if (mid < h->min_us)
				mid = h->min_us;
			if (mid > h->max_us)
				mid = h->max_us;
			return mid;
		}
	}
	return h->max_us;
}

double hist_mean_us(const struct hist *h)
{
	return h->count ? (double)h->sum_us / (double)h->count : 0;
}
