/* logfmt lines: fixed keys first, values quoted and escaped only when needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/log.h"

#define TS "2026-11-23T10:15:02.123Z"

static void test_plain_values(void **state)
{
	char line[512];

	(void)state;
	log_format(line, sizeof(line), TS, LOG_INFO, "controller", "scaled out",
	    "pool=%s from=%d to=%d cpu=%.2f", "web", 2, 3, 0.912);
	assert_string_equal(line, "ts=" TS " level=info comp=controller msg=\"scaled out\" "
	    "pool=web from=2 to=3 cpu=0.91");
}

static void test_values_that_need_quotes(void **state)
{
	char line[512];

	(void)state;
	log_format(line, sizeof(line), TS, LOG_WARN, "app", "x",
	    "reason=%s eq=%s quote=%s empty=%s nl=%s", "cpu 0.91 > 0.80", "a=b",
	    "say \"hi\"", "", "two\nlines\\");
	assert_string_equal(line, "ts=" TS " level=warn comp=app msg=x "
	    "reason=\"cpu 0.91 > 0.80\" eq=\"a=b\" quote=\"say \\\"hi\\\"\" empty=\"\" "
	    "nl=\"two\\nlines\\\\\"");
	assert_null(strchr(line, '\n'));
}

static void test_integer_widths(void **state)
{
	char line[512];

	(void)state;
	log_format(line, sizeof(line), TS, LOG_ERROR, "c", "m", "a=%lld b=%zu c=%u d=%ld pct=100%%",
	    (long long)-5, (size_t)7, 8u, 9L);
	assert_string_equal(line, "ts=" TS " level=error comp=c msg=m a=-5 b=7 c=8 d=9 pct=100%");
}

static void test_truncation(void **state)
{
	char line[64];
	size_t n;

	(void)state;
	n = log_format(line, sizeof(line), TS, LOG_INFO, "c", "a long message that will not fit",
	    "k=%s", "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
	assert_true(n < sizeof(line));
	assert_int_equal(strlen(line), n);
	assert_memory_equal(line + sizeof(line) - 4, "...", 3);
}

static void test_levels(void **state)
{
	enum log_level l;

	(void)state;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_level_parse("loud", &l), -1);
	assert_string_equal(log_level_name(LOG_WARN), "warn");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_values),
		cmocka_unit_test(test_values_that_need_quotes),
		cmocka_unit_test(test_integer_widths),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_levels),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
