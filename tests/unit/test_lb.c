/* The balancer's pure parts: rise/fall, backend choice, targets files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
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
		hits[lb_pick(LB_ROUNDROBIN, el, active, 4, &cur, 0)]++;
	assert_int_equal(hits[0], 100);
	assert_int_equal(hits[1], 100);
	assert_int_equal(hits[2], 0);
	assert_int_equal(hits[3], 100);
	memset(el, 0, sizeof(el));
	assert_int_equal(lb_pick(LB_ROUNDROBIN, el, active, 4, &cur, 0), -1);
	assert_int_equal(lb_pick(LB_ROUNDROBIN, el, active, 0, &cur, 0), -1);
}

static void test_leastconn_prefers_idle(void **state)
{
	bool el[3] = { true, true, true };
	int active[3] = { 5, 1, 3 };
	int tie[3] = { 2, 2, 2 }, hits[3] = { 0 };
	unsigned cur = 0;

	(void)state;
	assert_int_equal(lb_pick(LB_LEASTCONN, el, active, 3, &cur, 0), 1);
	el[1] = false;
	assert_int_equal(lb_pick(LB_LEASTCONN, el, active, 3, &cur, 0), 2);
	el[1] = true;
	for (int i = 0; i < 30; i++)	/* ties go round robin */
		hits[lb_pick(LB_LEASTCONN, el, tie, 3, &cur, 0)]++;
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

/* The backend under the cursor is the last one tried, not skipped: a lone
 * eligible backend takes every request, in both strategies. */
static void test_lone_backend_gets_everything(void **state)
{
	bool el[3] = { true, false, false };
	int active[3] = { 0 };
	unsigned cur = 0;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(lb_pick(LB_ROUNDROBIN, el, active, 3, &cur, 0), 0);
		assert_int_equal(lb_pick(LB_LEASTCONN, el, active, 3, &cur, 0), 0);
	}
}

/* Addresses longer than LB_ADDR_MAX - 1 (63) bytes are refused, not cut:
 * a 64-byte "127.0.1.1:000...08080" (10 + 54 bytes, a valid port 8080 with
 * leading zeros) cut to 63 bytes would be port 808. 63 bytes pass whole. */
static void test_targets_long_address(void **state)
{
	char addr[80], json[128];
	struct lb_targets t;
	struct err e;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.1.1:%050d8080", 0);
	assert_int_equal(strlen(addr), 64);
	snprintf(json, sizeof(json), "[{\"targets\":[\"%s\"]}]", addr);
	assert_int_equal(lb_targets_parse(json, strlen(json), &t, &e), -1);
	assert_non_null(strstr(e.msg, "too long"));
	snprintf(addr, sizeof(addr), "127.0.1.1:%049d8080", 0);
	assert_int_equal(strlen(addr), 63);
	snprintf(json, sizeof(json), "[{\"targets\":[\"%s\"]}]", addr);
	assert_int_equal(lb_targets_parse(json, strlen(json), &t, &e), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.addr[0], addr);
	lb_targets_free(&t);
}

/* 4096 distinct targets fit; one more is refused (no write past the end). */
static void test_targets_limit(void **state)
{
	size_t cap = 4097 * 24 + 64, len = 0;
	char *json = malloc(cap);
	struct lb_targets t;
	struct err e;

	(void)state;
	assert_non_null(json);
	for (int n = 4096; n <= 4097; n++) {
		len = (size_t)snprintf(json, cap, "[{\"targets\":[");
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(json + len, cap - len, "%s\"127.0.%d.%d:80\"",
			    i ? "," : "", i / 256, i % 256);
		len += (size_t)snprintf(json + len, cap - len, "]}]");
		if (n == 4096) {
			assert_int_equal(lb_targets_parse(json, len, &t, &e), 0);
			assert_int_equal(t.n, 4096);
			lb_targets_free(&t);
		} else {
			assert_int_equal(lb_targets_parse(json, len, &t, &e), -1);
			assert_non_null(strstr(e.msg, "more than 4096 targets"));
		}
	}
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fall_then_rise),
		cmocka_unit_test(test_roundrobin_even_and_skips),
		cmocka_unit_test(test_leastconn_prefers_idle),
		cmocka_unit_test(test_targets_file),
		cmocka_unit_test(test_lone_backend_gets_everything),
		cmocka_unit_test(test_targets_long_address),
		cmocka_unit_test(test_targets_limit),
	};

	return cmocka_run_group_tests_name("lb", tests, NULL, NULL);
}
