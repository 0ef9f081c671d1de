/* Flag and config value parsers, and socket address parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "common/net.h"
#include "common/parse.h"

static const struct {
	const char *name, *in;
	int ok;
	int64_t ms;
} durations[] = {
	{ "plain_seconds", "30", 1, 30000 },
	{ "decimal_seconds", "1.5", 1, 1500 },
	{ "seconds_suffix", "2s", 1, 2000 },
	{ "milliseconds", "250ms", 1, 250 },
	{ "minutes", "2m", 1, 120000 },
	{ "hours", "1h", 1, 3600000 },
	{ "zero", "0", 1, 0 },
	{ "unknown_unit", "5x", 0, 0 },
	{ "negative", "-1s", 0, 0 },
	{ "empty", "", 0, 0 },
	{ "space", " 5s", 0, 0 },
	{ "over_max", "2d", 0, 0 },
	{ "above_range", "100000h", 0, 0 },
	{ "trailing_garbage", "5s5", 0, 0 },
};

static void test_durations(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		struct err e = { "" };
		int64_t ms = -7;
		int rc = parse_duration_ms(durations[i].in, 0, 86400000, &ms, &e);

		print_message("%s\n", durations[i].name);
		if (durations[i].ok) {
			assert_int_equal(rc, 0);
			assert_int_equal(ms, durations[i].ms);
		} else {
			assert_int_equal(rc, -1);
			assert_int_equal(ms, -7);	/* untouched on error */
			assert_true(e.msg[0] != '\0');
		}
	}
}

static void test_int64(void **state)
{
	struct err e;
	int64_t v = 0;

	(void)state;
	assert_int_equal(parse_int64("42", 0, 100, &v, &e), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_int64("101", 0, 100, &v, &e), -1);
	assert_string_equal(e.msg, "101 is out of range [0, 100]");
	assert_int_equal(parse_int64("4 2", 0, 100, &v, &e), -1);
	assert_int_equal(parse_int64("", 0, 100, &v, &e), -1);
	assert_int_equal(parse_int64("+4", 0, 100, &v, &e), -1);
	assert_int_equal(parse_int64("99999999999999999999", 0, INT64_MAX, &v, &e), -1);
	assert_int_equal(v, 42);
}

static void test_double(void **state)
{
	struct err e;
	double v = 0;

	(void)state;
	assert_int_equal(parse_double("0.25", 0.01, 64, &v, &e), 0);
	assert_true(v == 0.25);
	assert_int_equal(parse_double("0", 0.01, 64, &v, &e), -1);
	assert_int_equal(parse_double("nan", 0, 64, &v, &e), -1);
	assert_int_equal(parse_double("inf", 0, 1e300, &v, &e), -1);
	assert_int_equal(parse_double("1e", 0, 64, &v, &e), -1);
}

static const struct {
	const char *name, *in;
	int ok;
	const char *formatted;
} addrs[] = {
	{ "v4", "127.0.1.3:8080", 1, "127.0.1.3:8080" },
	{ "any_v4", ":9100", 1, "0.0.0.0:9100" },
	{ "star", "*:80", 1, "0.0.0.0:80" },
	{ "localhost", "localhost:1", 1, "127.0.0.1:1" },
	{ "v6", "[::1]:8000", 1, "[::1]:8000" },
	{ "port_zero", "127.0.0.1:0", 1, "127.0.0.1:0" },
	{ "no_port", "127.0.0.1", 0, NULL },
	{ "port_too_big", "127.0.0.1:65536", 0, NULL },
	{ "port_not_number", "127.0.0.1:http", 0, NULL },
	{ "empty_port", "127.0.0.1:", 0, NULL },
	{ "a_name", "example.com:80", 0, NULL },
	{ "v6_no_bracket_close", "[::1:80", 0, NULL },
};

static void test_addresses(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct net_addr a;
		struct err e = { "" };
		char buf[80];
		int rc = net_addr_parse(addrs[i].in, &a, &e);

		print_message("%s\n", addrs[i].name);
		if (!addrs[i].ok) {
			assert_int_equal(rc, -1);
			assert_true(e.msg[0] != '\0');
			continue;
		}
		assert_int_equal(rc, 0);
		net_addr_format((struct sockaddr *)&a.ss, buf, sizeof(buf));
		assert_string_equal(buf, addrs[i].formatted);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_int64),
		cmocka_unit_test(test_double),
		cmocka_unit_test(test_addresses),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
