/* A trace's counts smoothed into a rate; see smooth.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/smooth.h"

double smooth_dispersion(const double *c, size_t n)
{
	double sum = 0;

	if (n < 3)
		return 1;
	/* c_i − (c_{i−1} + c_{i+1}) / 2 has 1.5 times the noise's variance
	 * when the noise is white and the rate smooth at this lag. */
	for (size_t i = 1; i + 1 < n; i++) {
		double r = c[i] - (c[i - 1] + c[i + 1]) / 2, m = (c[i - 1] + c[i] + c[i + 1]) / 3;

		sum += r * r / fmax(m, 1);
	}
	sum /= 1.5 * (double)(n - 2);
	return sum > 0 ? sum : 1;
}

/* The centred mean of row i over w rows, from prefix sums p. */
static double mean_at(const double *p, size_t n, size_t i, size_t w)
{
	size_t h = w / 2, lo = i > h ? i - h : 0, hi = i + h + 1 < n ? i + h + 1 : n;

	return (p[hi] - p[lo]) / (double)(hi - lo);
}

static double *prefix(const double *c, size_t n)
{
	double *p = malloc((n + 1) * sizeof(*p));

	if (p == NULL)
		return NULL;
	p[0] = 0;
	for (size_t i = 0; i < n; i++)
		p[i + 1] = p[i] + c[i];
	return p;
}

static double discrepancy(const double *c, const double *p, size_t n, size_t w, double d)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++) {
		double m = mean_at(p, n, i, w), r = c[i] - m;

		sum += r * r / (d * fmax(m, 1));
	}
	return n ? sum / (double)n : 0;
}

double smooth_discrepancy(const double *c, size_t n, size_t w, double d)
{
	double *p = prefix(c, n), s;

	if (p == NULL)
		return NAN;
	s = discrepancy(c, p, n, w, d);
	free(p);
	return s;
}

size_t smooth_window(const double *c, size_t n, double rate_scale)
{
	double d, *p;
	size_t cap = rate_scale < (double)n ? (size_t)rate_scale : n, lo = 1, hi;

	if (cap < 3)
		return 1;
	d = smooth_dispersion(c, n);
	if (cap % 2 == 0)
		cap--;
	if ((p = prefix(c, n)) == NULL)
		return 1;
	/* Grow the window geometrically while the noise explains the
	 * residuals, then bisect between the last good and the first bad
	 * (the discrepancy rises with the window). Odd windows: index k is
	 * the window 2k + 1. */
	hi = 0;
	for (size_t w = 3;; w = 2 * w + 1) {
		if (w > cap)
			w = cap;
		if (discrepancy(c, p, n, w, d) > 1) {
			hi = w;
			break;
		}
		lo = w;
		if (w == cap)
			break;
	}
	while (hi && hi - lo > 2) {
		size_t mid = (lo / 2 + hi / 2) / 2 * 2 + 1;

		if (mid <= lo)
			mid = lo + 2;
		if (mid >= hi)
			break;
		if (discrepancy(c, p, n, mid, d) > 1)
			hi = mid;
		else
			lo = mid;
	}
	free(p);
	return lo;
}

int smooth_apply(double *c, size_t n, size_t w)
{
	double *p;

	if (w <= 1 || n == 0)
		return 0;
	if ((p = prefix(c, n)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		c[i] = mean_at(p, n, i, w);
	free(p);
	return 0;
}
