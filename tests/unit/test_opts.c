/* common/opts: what every command says about a bad flag. The argument named
 * must be the one getopt failed on, wherever it sits, and a Go-style
 * -long-name (the seeds' tools take those) gets the -- spelling offered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/opts.h"

static const struct option options[] = {
	{ "instance-pool-id", required_argument, NULL, 256 },
	{ "output", required_argument, NULL, 257 },
	{ "once", no_argument, NULL, 258 },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const struct {
	const char *name;
	const char *args[6];
	const char *want;		/* the whole message */
} rows[] = {
	{ "single_dash_first", { "-instance-pool-id", "X" },
	  "unknown option -instance-pool-id: long options take two dashes, try "
	  "--instance-pool-id (see poolscale sd --help)" },
	{ "single_dash_after_flags", { "--output", "f.json", "--once", "-instance-pool-id", "X" },
	  "unknown option -instance-pool-id: long options take two dashes, try "
	  "--instance-pool-id (see poolscale sd --help)" },
	{ "single_dash_after_operand", { "stray", "-output", "f" },
	  "unknown option -output: long options take two dashes, try --output "
	  "(see poolscale sd --help)" },
	/* The value is never echoed: it may be a secret. */
	{ "single_dash_with_value", { "-output=f.json" },
	  "unknown option -output: long options take two dashes, try --output "
	  "(see poolscale sd --help)" },
	{ "long_unknown_with_value", { "--api-secrt=s3cret" },
	  "unknown option --api-secrt (see poolscale sd --help)" },
	{ "short_unknown", { "-x" }, "unknown option -x (see poolscale sd --help)" },
	{ "short_unknown_then_word", { "-x", "-output", "f" },
	  "unknown option -x (see poolscale sd --help)" },
	{ "negative_number", { "-12" }, "unknown option -12 (see poolscale sd --help)" },
	{ "long_unknown", { "--frobnicate" },
	  "unknown option --frobnicate (see poolscale sd --help)" },
	{ "long_needs_value", { "--once", "--output" }, "--output needs a value" },
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *argv[8] = { "sd" };
		char copies[6][64];
		int argc = 1, opt, got = 0;
		struct err e = { "" };

		print_message("%s\n", rows[i].name);
		for (int k = 0; k < 6 && rows[i].args[k] != NULL; k++) {
			snprintf(copies[k], sizeof(copies[k]), "%s", rows[i].args[k]);
			argv[argc++] = copies[k];
		}
		argv[argc] = NULL;
		optind = 0;
		opterr = 0;
		while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
			if (opt == 'h' || opt >= 256)
				continue;
			assert_int_equal(opts_reject(opt, argv, "sd", &e), -1);
			got = 1;
			break;
		}
		assert_true(got);
		assert_string_equal(e.msg, rows[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
