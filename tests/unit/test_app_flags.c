/* `poolscale app` flags: defaults, values, and errors that name the flag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "app/app.h"

static int parse(struct app_cfg *c, struct err *e, ...)
{
	char *argv[32] = { "app" };
	int argc = 1;
	va_list ap;
	char *s;

	va_start(ap, e);
	while ((s = va_arg(ap, char *)) != NULL)
		argv[argc++] = s;
	va_end(ap);
	return app_cfg_parse(argc, argv, c, e);
}

static void test_defaults(void **state)
{
	struct app_cfg c;
	struct err e;

	(void)state;
	assert_int_equal(parse(&c, &e, NULL), 0);
	assert_string_equal(c.listen, "0.0.0.0:8080");
	assert_string_equal(c.metrics_listen, ":9100");
	assert_true(c.work_ms == 50);
	assert_int_equal(c.max_requests_per_conn, 100);
	assert_true(c.threads >= 1);
	assert_int_equal(c.boot_delay_ms, 0);
}

static void test_values(void **state)
{
	struct app_cfg c;
	struct err e;

	(void)state;
	assert_int_equal(parse(&c, &e, "--listen", "127.0.1.4:8080", "--metrics-listen", "off",
	    "--work-ms", "20", "--vcpu", "0.25", "--boot-delay", "1.5s",
	    "--max-requests-per-conn", "0", "--drain-timeout", "5s", NULL), 0);
	assert_string_equal(c.listen, "127.0.1.4:8080");
	assert_string_equal(c.metrics_listen, "");
	assert_true(c.work_ms == 20);
	assert_true(c.vcpu == 0.25);
	assert_int_equal(c.threads, 1);	/* ceil(0.25) */
	assert_int_equal(c.boot_delay_ms, 1500);
	assert_int_equal(c.max_requests_per_conn, 0);
	assert_int_equal(c.drain_timeout_ms, 5000);
	assert_int_equal(parse(&c, &e, "--vcpu=2.5", NULL), 0);
	assert_int_equal(c.threads, 3);
}

static const struct {
	const char *name;
	const char *flag, *value;
	const char *msg_has;
} bad[] = {
	{ "bad_listen", "--listen", "nowhere", "--listen" },
	{ "bad_work", "--work-ms", "lots", "--work-ms" },
	{ "zero_vcpu", "--vcpu", "0", "--vcpu" },
	{ "bad_duration", "--boot-delay", "5x", "not a duration" },
	{ "zero_threads", "--threads", "0", "--threads" },
	{ "bad_level", "--log-level", "loud", "--log-level" },
	{ "unknown", "--frobnicate", NULL, "unknown option --frobnicate" },
	{ "missing_value", "--listen", NULL, "--listen needs a value" },
	{ "stray_argument", "extra", NULL, "unexpected argument" },
	{ "work_over_cap", "--work-ms", "20000", "above --max-work-ms" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct app_cfg c;
		struct err e = { "" };

		print_message("%s\n", bad[i].name);
		assert_int_equal(parse(&c, &e, bad[i].flag, bad[i].value, NULL), -1);
		if (strstr(e.msg, bad[i].msg_has) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", e.msg, bad[i].msg_has);
	}
}

static void test_help(void **state)
{
	struct app_cfg c;
	struct err e;

	(void)state;
	assert_int_equal(parse(&c, &e, "--help", NULL), 1);
	assert_int_equal(parse(&c, &e, "-h", NULL), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_help),
	};

	return cmocka_run_group_tests_name("app_flags", tests, NULL, NULL);
}
