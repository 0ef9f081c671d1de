/* load/arrival: even gaps are even; Poisson gaps follow the exponential
 * distribution (not only its mean), reproducibly for a seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "load/arrival.h"

enum { N = 20000 };

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void gaps(bool poisson, uint64_t seed, double *out)
{
	double n = 0;

	for (int i = 0; i < N; i++) {
		double next = load_arrival_next(poisson, n, &seed);

		out[i] = next - n;
		n = next;
	}
}

static void test_uniform_gaps_are_one(void **state)
{
	static double g[N];

	(void)state;
	gaps(false, 7, g);
	for (int i = 0; i < N; i++)
		assert_true(g[i] == 1.0);
}

/* Mean 1, coefficient of variation 1 (even gaps: 0), median ln 2, and the
 * Kolmogorov-Smirnov distance to 1 - e^-x under its 1% critical value
 * 1.63 / sqrt(N). The seed is fixed, so the verdict is too. */
static void test_poisson_gaps_are_exponential(void **state)
{
	static double g[N];
	double sum = 0, sq = 0, mean, cv, d = 0;

	(void)state;
	gaps(true, 7, g);
	for (int i = 0; i < N; i++) {
		assert_true(g[i] > 0);
		sum += g[i];
		sq += g[i] * g[i];
	}
	mean = sum / N;
	cv = sqrt(sq / N - mean * mean) / mean;
	assert_true(fabs(mean - 1) < 0.03);
	assert_true(fabs(cv - 1) < 0.05);
	qsort(g, N, sizeof(g[0]), cmp_double);
	assert_true(fabs(g[N / 2] - log(2)) < 0.03);
	for (int i = 0; i < N; i++) {
		double f = 1 - exp(-g[i]);
		double lo = fabs(f - (double)i / N), hi = fabs((double)(i + 1) / N - f);

		d = fmax(d, fmax(lo, hi));
	}
	print_message("mean %.4f cv %.4f ks %.4f (limit %.4f)\n", mean, cv, d,
	    1.63 / sqrt(N));
	assert_true(d < 1.63 / sqrt(N));
}

static void test_same_seed_same_gaps(void **state)
{
	static double a[N], b[N], c[N];
	int differ = 0;

	(void)state;
	gaps(true, 42, a);
	gaps(true, 42, b);
	gaps(true, 43, c);
	for (int i = 0; i < N; i++) {
		assert_true(a[i] == b[i]);
		differ += a[i] != c[i];
	}
	assert_true(differ > N / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform_gaps_are_one),
		cmocka_unit_test(test_poisson_gaps_are_exponential),
		cmocka_unit_test(test_same_seed_same_gaps),
	};

	return cmocka_run_group_tests_name("arrival", tests, NULL, NULL);
}
