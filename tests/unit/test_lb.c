/* The balancer's pure parts: rise/fall, backend choice, targets files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lb/balance.h"
#include "lb/health.h"
#include "lb/targets.h"

static void test_fall_then_rise(void **state)
{
	struct health h;
	int changes = 0;

	(void)state;
	health_init(&h, true);
	/* fall = 3: two failures are not enough, a success resets the count. */
	changes += health_update(&h, 2, 3, false);
	changes += health_update(&h, 2, 3, false);
	changes += health_update(&h, 2, 3, true);
	changes += health_update(&h, 2, 3, false);
	changes += health_update(&h, 2, 3, false);
	assert_true(h.up);
	assert_int_equal(changes, 0);
	assert_true(health_update(&h, 2, 3, false));	/* the third in a row */
	assert_false(h.up);
	/* rise = 2 */
	assert_false(health_update(&h, 2, 3, true));
	assert_false(health_update(&h, 2, 3, false));
	assert_false(health_update(&h, 2, 3, true));
	assert_true(health_update(&h, 2, 3, true));
	assert_true(h.up);
}

static void test_roundrobin_even_and_skips(void **state)
{
	bool el[4] = { true, true, false, true };
	int active[4] = { 0 }, hits[4] = { 0 };
	unsigned cur = 0;

	(void)state;
	for (int i = 0; i < 300; i++)
		hits[lb_pick(LB_ROUNDROBIN, el, active, 4, &cur)]++;
	assert_int_equal(hits[0], 100);
	assert_int_equal(hits[1], 100);
	assert_int_equal(hits[2], 0);
	assert_int_equal(hits[3], 100);
	memset(el, 0, sizeof(el));
	assert_int_equal(lb_pick(LB_ROUNDROBIN, el, active, 4, &cur), -1);
	assert_int_equal(lb_pick(LB_ROUNDROBIN, el, active, 0, &cur), -1);
}

static void test_leastconn_prefers_idle(void **state)
{
	bool el[3] = { true, true, true };
	int active[3] = { 5, 1, 3 };
	int tie[3] = { 2, 2, 2 }, hits[3] = { 0 };
	unsigned cur = 0;

	(void)state;
	assert_int_equal(lb_pick(LB_LEASTCONN, el, active, 3, &cur), 1);
	el[1] = false;
	assert_int_equal(lb_pick(LB_LEASTCONN, el, active, 3, &cur), 2);
	el[1] = true;
	for (int i = 0; i < 30; i++)	/* ties go round robin */
		hits[lb_pick(LB_LEASTCONN, el, tie, 3, &cur)]++;
	assert_int_equal(hits[0], 10);
	assert_int_equal(hits[1], 10);
}

static void test_targets_file(void **state)
{
	const char *ok = "[{\"targets\":[\"127.0.1.1:8080\",\"127.0.1.2:8080\"],\"labels\":{\"pool\":\"web\"}},"
	    "{\"targets\":[\"127.0.1.1:8080\",\"[::1]:80\"]}]";
	struct lb_targets t;
	struct err e;

	(void)state;
	assert_int_equal(lb_targets_parse(ok, strlen(ok), &t, &e), 0);
	assert_int_equal(t.n, 3);	/* deduplicated */
	assert_string_equal(t.addr[2], "[::1]:80");
	lb_targets_free(&t);
	assert_int_equal(lb_targets_parse("[]", 2, &t, &e), 0);
	assert_int_equal(t.n, 0);
	lb_targets_free(&t);
	assert_int_equal(lb_targets_parse("[{\"targets\":[\"web1:80\"]}]", 24, &t, &e), -1);
	assert_int_equal(lb_targets_parse("[{\"targets\":[\"127.0.1.1:8080\"", 29, &t, &e), -1);
	assert_int_equal(lb_targets_parse("{}", 2, &t, &e), -1);
	assert_int_equal(lb_targets_parse("[{\"labels\":{}}]", 15, &t, &e), -1);
	assert_null(t.addr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fall_then_rise),
		cmocka_unit_test(test_roundrobin_even_and_skips),
		cmocka_unit_test(test_leastconn_prefers_idle),
		cmocka_unit_test(test_targets_file),
	};

	return cmocka_run_group_tests_name("lb", tests, NULL, NULL);
}
