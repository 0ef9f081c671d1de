/* node_cpu_seconds_total for a vCPU allotment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "app/nodecpu.h"

static const struct {
	const char *name;
	double vcpu, elapsed, user, sys;
	int ncpu;
	double util;	/* sum(non-idle) / sum(all) */
} rows[] = {
	{ "idle_quarter", 0.25, 100, 0, 0, 1, 0 },
	{ "half_busy_quarter", 0.25, 100, 10, 2.5, 1, 0.5 },
	{ "full_one", 1, 10, 8, 2, 1, 1 },
	{ "over_allotment_caps_at_one", 0.5, 10, 8, 0, 1, 1 },
	{ "two_vcpu_two_cpus", 2, 10, 4, 1, 2, 0.25 },
	{ "fraction_above_one", 1.5, 10, 3, 0, 2, 0.2 },
};

static void test_utilisation(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct nodecpu_state st = { 0 };
		struct nodecpu nc;
		double busy, all;

		print_message("%s\n", rows[i].name);
		nodecpu_compute(rows[i].vcpu, rows[i].elapsed, rows[i].user, rows[i].sys, &st, &nc);
		assert_int_equal(nc.ncpu, rows[i].ncpu);
		busy = nc.ncpu * (nc.user_s + nc.system_s);
		all = busy + nc.ncpu * nc.idle_s;
		assert_true(fabs(busy / all - rows[i].util) < 1e-9 || (all == 0 && rows[i].util == 0));
		assert_true(fabs(nc.user_s * nc.ncpu - rows[i].user) < 1e-9);
	}
}

/* A counter never goes down: after a burst above the allotment, idle stands
 * still instead of shrinking, then grows again. */
static void test_idle_never_decreases(void **state)
{
	struct nodecpu_state st = { 0 };
	struct nodecpu a, b, c;

	(void)state;
	nodecpu_compute(0.5, 10, 1, 0, &st, &a);	/* idle 4 */
	nodecpu_compute(0.5, 11, 3, 0, &st, &b);	/* would be 2.5 */
	nodecpu_compute(0.5, 30, 3, 0, &st, &c);	/* 12 */
	assert_true(fabs(a.idle_s - 4) < 1e-9);
	assert_true(b.idle_s == a.idle_s);
	assert_true(fabs(c.idle_s - 12) < 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utilisation),
		cmocka_unit_test(test_idle_never_decreases),
	};

	return cmocka_run_group_tests_name("nodecpu", tests, NULL, NULL);
}
