/* A trace's counts read as a rate (sim/smooth.h): the window follows the
 * rate scale on pure sampling noise and stays short where the rate really
 * changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "sim/smooth.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* Poisson draws at mean m from a fixed xorshift stream (Knuth's method). */
static uint64_t rng = 88172645463325252ULL;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static double poisson(double m)
{
	double l = exp(-m), p = 1;
	int k = 0;

	if (m > 50)	/* Knuth's product underflows: the normal limit */
		return round(m + sqrt(m) * sqrt(-2 * log(1 - uniform())) *
		    cos(2 * M_PI * uniform()));
	do {
		k++;
		p *= uniform();
	} while (p > l);
	return k - 1;
}

static void test_apply_is_a_centred_mean(void **state)
{
	double c[] = { 0, 0, 3, 0, 0, 6 };

	(void)state;
	assert_int_equal(smooth_apply(c, 6, 3), 0);
	NEAR(c[0], 0, 1e-12);	/* the ends average what they have */
	NEAR(c[1], 1, 1e-12);
	NEAR(c[2], 1, 1e-12);
	NEAR(c[3], 1, 1e-12);
	NEAR(c[4], 2, 1e-12);
	NEAR(c[5], 3, 1e-12);
}

/* A constant rate of 10 a row: the noise is all sampling (D near 1), so
 * the window is as long as the rate scale allows, and no longer. */
static void test_pure_noise_takes_the_scale(void **state)
{
	enum { N = 20000 };
	double *c = malloc(N * sizeof(*c));

	(void)state;
	assert_non_null(c);
	for (size_t i = 0; i < N; i++)
		c[i] = poisson(10);
	NEAR(smooth_dispersion(c, N), 1, 0.1);
	assert_int_equal(smooth_window(c, N, 46), 45);
	assert_int_equal(smooth_window(c, N, 9.5), 9);
	/* scaled down, or barely up: as it is */
	assert_int_equal(smooth_window(c, N, 0.3), 1);
	assert_int_equal(smooth_window(c, N, 2.9), 1);
	free(c);
}

/* A daily-like swing from 10 to 1000 a row over 200 rows: the swing is
 * real, so the window stays far below the rate scale of 100. */
static void test_real_changes_keep_a_short_window(void **state)
{
	enum { N = 4000 };
	double *c = malloc(N * sizeof(*c));
	size_t w;

	(void)state;
	assert_non_null(c);
	for (size_t i = 0; i < N; i++)
		c[i] = poisson(505 + 495 * sin(2 * M_PI * (double)i / 200));
	w = smooth_window(c, N, 100);
	assert_true(w >= 3 && w <= 15);
	assert_true(smooth_discrepancy(c, N, w, smooth_dispersion(c, N)) <= 1);
	assert_true(smooth_discrepancy(c, N, w + 2, smooth_dispersion(c, N)) > 1);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_is_a_centred_mean),
		cmocka_unit_test(test_pure_noise_takes_the_scale),
		cmocka_unit_test(test_real_changes_keep_a_short_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
