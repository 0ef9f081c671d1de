/* Running programs: exit codes and signals, separate and capped output,
 * input, the timeout's SIGTERM and SIGKILL, what a program leaves behind,
 * start failures, our signal settings not leaking into the program, no
 * zombies; then argv templates and shell quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/subproc.h"

#define MAX_OUT 65536

/* Every run reaps what it started: we have no child left, zombie or not. */
static void assert_no_children(void)
{
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* Runs argv with a 10 s timeout; 0 or -1 as subproc_run. */
static int run(char *const argv[], const char *input, struct subproc_result *r,
    struct err *e)
{
	int rc = subproc_run(argv, input, 10000, 1000, r, e);

	assert_no_children();
	return rc;
}

/* NUL-terminates what b holds, for comparing (b's max leaves room). */
static const char *str(struct buf *b)
{
	if (buf_append(b, "", 1) == -1)
		fail_msg("no room for the NUL");
	b->len--;
	return b->p;
}

static const struct {
	const char *name;
	char *argv[4];
	int exit_code, term_signal;
} exits[] = {
	{ "true", { "true", NULL }, 0, 0 },
	{ "false", { "false", NULL }, 1, 0 },
	{ "exit_7", { "sh", "-c", "exit 7", NULL }, 7, 0 },
	{ "full_path", { "/bin/sh", "-c", "exit 3", NULL }, 3, 0 },
	{ "killed_by_signal", { "sh", "-c", "kill -USR1 $$", NULL }, -1, SIGUSR1 },
};

static void test_exit_codes(void **state)
{
	struct subproc_result r;

	(void)state;
	subproc_result_init(&r, MAX_OUT, MAX_OUT);
	for (size_t i = 0; i < sizeof(exits) / sizeof(exits[0]); i++) {
		struct err e = { "" };

		print_message("%s\n", exits[i].name);
		assert_int_equal(run(exits[i].argv, NULL, &r, &e), 0);
		assert_int_equal(r.exit_code, exits[i].exit_code);
		assert_int_equal(r.term_signal, exits[i].term_signal);
		assert_false(r.timed_out);
		assert_int_equal(r.out.len, 0);
		assert_true(r.elapsed_ms >= 0 && r.elapsed_ms < 5000);
	}
	subproc_result_fini(&r);
}

static void test_stdout_and_stderr_apart(void **state)
{
	char *argv[] = { "sh", "-c", "echo out; echo err >&2; echo more", NULL };
	struct subproc_result r;
	struct err e;

	(void)state;
	subproc_result_init(&r, MAX_OUT, MAX_OUT);
	assert_int_equal(run(argv, NULL, &r, &e), 0);
	assert_string_equal(str(&r.out), "out\nmore\n");
	assert_string_equal(str(&r.err), "err\n");
	assert_false(r.out_truncated);
	assert_false(r.err_truncated);
	/* A second run on the same result starts from empty buffers. */
	assert_int_equal(run(argv, NULL, &r, &e), 0);
	assert_string_equal(str(&r.out), "out\nmore\n");
	subproc_result_fini(&r);
}

/* 1 MB of output is read to the end (the program is not blocked on a full
 * pipe: it gets to write stderr afterwards), and only the cap is kept. */
static void test_big_output_capped(void **state)
{
	char *argv[] = { "sh", "-c", "head -c 1048576 /dev/zero; echo done >&2", NULL };
	struct subproc_result r;
	struct err e;

	(void)state;
	subproc_result_init(&r, 4096, 100);
	assert_int_equal(run(argv, NULL, &r, &e), 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.out.len, 4096);
	assert_true(r.out_truncated);
	assert_false(r.err_truncated);
	assert_int_equal(r.err.len, 5);
	assert_memory_equal(r.err.p, "done\n", 5);
	subproc_result_fini(&r);
}

/* One write larger than the cap (atomic: under PIPE_BUF) keeps its head. */
static void test_one_read_over_cap(void **state)
{
	char *argv[] = { "sh", "-c", "printf %0100d 7", NULL };
	struct subproc_result r;
	struct err e;

	(void)state;
	subproc_result_init(&r, 10, 10);
	assert_int_equal(run(argv, NULL, &r, &e), 0);
	assert_int_equal(r.out.len, 10);
	assert_memory_equal(r.out.p, "0000000000", 10);
	assert_true(r.out_truncated);
	subproc_result_fini(&r);
}

static void test_input(void **state)
{
	char *cat[] = { "cat", NULL }, *ignores[] = { "true", NULL };
	size_t big_len = 1 << 20;
	char *big = malloc(big_len + 1);
	struct subproc_result r;
	struct err e;

	(void)state;
	assert_non_null(big);
	subproc_result_init(&r, 2 << 20, MAX_OUT);
	assert_int_equal(run(cat, "hello\nworld", &r, &e), 0);
	assert_string_equal(str(&r.out), "hello\nworld");
	assert_int_equal(run(cat, "", &r, &e), 0);
	assert_int_equal(r.out.len, 0);
	assert_int_equal(run(cat, NULL, &r, &e), 0);	/* /dev/null */
	assert_int_equal(r.out.len, 0);
	/* More than a pipe holds, both ways at once. */
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);
	big[big_len] = '\0';
	assert_int_equal(run(cat, big, &r, &e), 0);
	assert_int_equal(r.out.len, big_len);
	assert_memory_equal(r.out.p, big, big_len);
	/* A program that never reads its input: no SIGPIPE for us. */
	assert_int_equal(run(ignores, big, &r, &e), 0);
	assert_int_equal(r.exit_code, 0);
	subproc_result_fini(&r);
	free(big);
}

static void test_timeout_sigterm(void **state)
{
	char *argv[] = { "sleep", "30", NULL };
	struct subproc_result r;
	struct err e;

	(void)state;
	subproc_result_init(&r, MAX_OUT, MAX_OUT);
	assert_int_equal(subproc_run(argv, NULL, 200, 5000, &r, &e), 0);
	assert_no_children();
	assert_true(r.timed_out);
	assert_int_equal(r.exit_code, -1);
	assert_int_equal(r.term_signal, SIGTERM);
	assert_true(r.elapsed_ms >= 200 && r.elapsed_ms < 2200);
	/* No timeout at all. */
	argv[0] = "true";
	argv[1] = NULL;
	assert_int_equal(subproc_run(argv, NULL, INT64_MAX, INT64_MAX, &r, &e), 0);
	assert_no_children();
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	subproc_result_fini(&r);
}

/* SIGTERM ignored by the whole group: SIGKILL after the grace. */
static void test_timeout_sigkill(void **state)
{
	char *argv[] = { "sh", "-c", "trap '' TERM; echo up; sleep 30; echo never", NULL };
	struct subproc_result r;
	struct err e;
	int64_t start = clock_mono_ms(), took;

	(void)state;
	subproc_result_init(&r, MAX_OUT, MAX_OUT);
	assert_int_equal(subproc_run(argv, NULL, 300, 300, &r, &e), 0);
	took = clock_mono_ms() - start;
	assert_no_children();
	assert_true(r.timed_out);
	assert_int_equal(r.exit_code, -1);
	assert_int_equal(r.term_signal, SIGKILL);
	assert_string_equal(str(&r.out), "up\n");
	assert_true(r.elapsed_ms >= 600);
	assert_true(took < 300 + 300 + 2000);
	subproc_result_fini(&r);
}

/* Whether pid has ended: no such process, or a zombie left for a parent
 * that may never reap it (as PID 1 in some containers). */
static bool ended(pid_t pid)
{
	char path[64], stat[256];
	const char *paren;
	FILE *f;
	size_t n;

	if (kill(pid, 0) == -1)
		return errno == ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	paren = strrchr(stat, ')');
	return paren != NULL && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* Waits up to 2 s for pid to end after our SIGKILL. */
static bool gone(pid_t pid)
{
	int64_t end = clock_mono_ms() + 2000;

	while (!ended(pid)) {
		struct timespec ts = { 0, 20 * 1000000L };

		if (clock_mono_ms() >= end)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

/* The background job holds the pipes open; when the shell exits it is
 * killed with the group, and the run ends at once with the output. */
static void test_background_job_killed(void **state)
{
	char *argv[] = { "sh", "-c", "sleep 30 & echo $!", NULL };
	struct subproc_result r;
	struct err e;

	(void)state;
	subproc_result_init(&r, MAX_OUT, MAX_OUT);
	assert_int_equal(run(argv, NULL, &r, &e), 0);
	assert_int_equal(r.exit_code, 0);
	assert_false(r.timed_out);
	assert_true(r.elapsed_ms < 2000);
	assert_true(r.out.len > 1 && r.out.p[r.out.len - 1] == '\n');
	assert_true(gone((pid_t)atoi(str(&r.out))));
	subproc_result_fini(&r);
}

/* One that left the group (setsid) survives, but holds us only for the
 * linger after the shell exits. */
static void test_escaped_job_does_not_hold(void **state)
{
	char *argv[] = { "sh", "-c", "setsid sleep 30 & echo hi; echo $! >&2", NULL };
	struct subproc_result r;
	struct err e;
	pid_t escaped;

	(void)state;
	subproc_result_init(&r, MAX_OUT, MAX_OUT);
	assert_int_equal(run(argv, NULL, &r, &e), 0);
	assert_string_equal(str(&r.out), "hi\n");
	assert_true(r.elapsed_ms < SUBPROC_LINGER_MS + 2000);
	escaped = (pid_t)atoi(str(&r.err));
	assert_true(escaped > 0);
	kill(escaped, SIGKILL);
	subproc_result_fini(&r);
}

static const struct {
	const char *name;
	char *argv[2];
	const char *msg;
} unstartable[] = {
	{ "not_in_path", { "poolscale-no-such-program", NULL },
	  "exec poolscale-no-such-program: No such file or directory" },
	{ "no_such_path", { "/nonexistent/prog", NULL },
	  "exec /nonexistent/prog: No such file or directory" },
	{ "not_executable", { "/etc/passwd", NULL }, "exec /etc/passwd: Permission denied" },
	{ "a_directory", { "/", NULL }, "exec /: Permission denied" },
	{ "empty_name", { "", NULL }, "exec: empty command" },
	{ "no_name", { NULL, NULL }, "exec: empty command" },
};

static void test_cannot_start(void **state)
{
	struct subproc_result r;

	(void)state;
	subproc_result_init(&r, MAX_OUT, MAX_OUT);
	for (size_t i = 0; i < sizeof(unstartable) / sizeof(unstartable[0]); i++) {
		struct err e = { "" };

		print_message("%s\n", unstartable[i].name);
		assert_int_equal(run(unstartable[i].argv, NULL, &r, &e), -1);
		assert_string_equal(e.msg, unstartable[i].msg);
	}
	subproc_result_fini(&r);
}

/* PATH is searched in order, past missing directories. */
static void test_path_search(void **state)
{
	char *argv[] = { "true", NULL };
	const char *saved = getenv("PATH");
	char *copy = saved != NULL ? strdup(saved) : NULL;
	struct subproc_result r;
	struct err e = { "" };

	(void)state;
	subproc_result_init(&r, MAX_OUT, MAX_OUT);
	setenv("PATH", "/nonexistent::/etc/passwd:/usr/bin:/bin", 1);
	assert_int_equal(run(argv, NULL, &r, &e), 0);
	assert_int_equal(r.exit_code, 0);
	setenv("PATH", "/nonexistent", 1);
	assert_int_equal(run(argv, NULL, &r, &e), -1);
	assert_string_equal(e.msg, "exec true: No such file or directory");
	if (copy != NULL)
		setenv("PATH", copy, 1);
	else
		unsetenv("PATH");
	free(copy);
	subproc_result_fini(&r);
}

/* What we block or ignore (as the daemon does: SIGTERM for its signalfd,
 * SIGPIPE) is back to normal in the program. */
static void test_signals_reset(void **state)
{
	char *term[] = { "sh", "-c", "kill -TERM $$; sleep 5", NULL };
	char *pipe_[] = { "sh", "-c", "yes | head -c 1", NULL };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigset_t set, old_mask;
	struct subproc_result r;
	struct err e;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old_mask);
	sigaction(SIGPIPE, &ign, &old_pipe);
	subproc_result_init(&r, MAX_OUT, MAX_OUT);
	assert_int_equal(run(term, NULL, &r, &e), 0);
	assert_int_equal(r.term_signal, SIGTERM);
	assert_true(r.elapsed_ms < 4000);
	/* With SIGPIPE ignored, yes would complain of a write error. */
	assert_int_equal(run(pipe_, NULL, &r, &e), 0);
	assert_string_equal(str(&r.out), "y");
	assert_int_equal(r.err.len, 0);
	subproc_result_fini(&r);
	sigaction(SIGPIPE, &old_pipe, NULL);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
}

static const char *const keys[] = { "pool", "count", "empty" };
static const char *const values[] = { "web", "3", "" };

static const struct {
	const char *name;
	char *tmpl[4];
	size_t n;
	const char *want[4];	/* NULL: an error that holds `msg` */
	const char *msg;
} expands[] = {
	{ "plain", { "scale", "--to", "5" }, 3, { "scale", "--to", "5" }, NULL },
	{ "whole_args", { "{pool}", "{count}" }, 2, { "web", "3" }, NULL },
	{ "inside_args", { "--pool={pool}", "{pool}-{count}{count}" }, 2,
	  { "--pool=web", "web-33" }, NULL },
	{ "empty_value", { "a{empty}b", "{empty}" }, 2, { "ab", "" }, NULL },
	{ "escaped_brace", { "{{pool}", "{{{pool}}", "{{" }, 3, { "{pool}", "{web}", "{" }, NULL },
	{ "lone_close", { "a}b", "}" }, 2, { "a}b", "}" }, NULL },
	{ "json", { "{{\"n\": {count}}" }, 1, { "{\"n\": 3}" }, NULL },
	{ "none", { NULL }, 0, { NULL }, NULL },
	{ "unknown", { "ok", "--x={nope}" }, 2, { NULL }, "unknown placeholder {nope} in \"--x={nope}\"" },
	{ "empty_name", { "{}" }, 1, { NULL }, "unknown placeholder {}" },
	{ "case_matters", { "{Pool}" }, 1, { NULL }, "unknown placeholder {Pool}" },
	{ "unclosed", { "{pool" }, 1, { NULL }, "unclosed '{' in \"{pool\"" },
};

static void test_expand(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(expands) / sizeof(expands[0]); i++) {
		char **argv = (char **)1;
		struct err e = { "" };
		int rc = subproc_expand(expands[i].tmpl, expands[i].n, keys, values, 3, &argv, &e);

		print_message("%s\n", expands[i].name);
		if (expands[i].msg != NULL) {
			assert_int_equal(rc, -1);
			assert_ptr_equal(argv, (char **)1);	/* untouched */
			if (strstr(e.msg, expands[i].msg) == NULL)
				fail_msg("\"%s\" does not say \"%s\"", e.msg, expands[i].msg);
			continue;
		}
		assert_int_equal(rc, 0);
		for (size_t j = 0; j < expands[i].n; j++)
			assert_string_equal(argv[j], expands[i].want[j]);
		assert_null(argv[expands[i].n]);
		subproc_argv_free(argv);
	}
	subproc_argv_free(NULL);
}

/* A value is inserted once, as it is: never expanded again. */
static void test_expand_value_not_reexpanded(void **state)
{
	static const char *const k[] = { "a", "b" };
	static const char *const v[] = { "{b}", "x" };
	char *tmpl[] = { "{a}{b}" };
	char **argv;
	struct err e;

	(void)state;
	assert_int_equal(subproc_expand(tmpl, 1, k, v, 2, &argv, &e), 0);
	assert_string_equal(argv[0], "{b}x");
	subproc_argv_free(argv);
}

static void test_expand_too_long(void **state)
{
	static const char *const k[] = { "big" };
	char *big = malloc(SUBPROC_ARG_MAX + 1);
	const char *v[] = { big };
	char *tmpl[] = { "{big}" }, *tmpl2[] = { "x{big}" };
	char **argv;
	struct err e;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', SUBPROC_ARG_MAX - 1);
	big[SUBPROC_ARG_MAX - 1] = '\0';
	assert_int_equal(subproc_expand(tmpl, 1, k, v, 1, &argv, &e), 0);
	assert_int_equal(strlen(argv[0]), SUBPROC_ARG_MAX - 1);
	subproc_argv_free(argv);
	assert_int_equal(subproc_expand(tmpl2, 1, k, v, 1, &argv, &e), -1);
	assert_non_null(strstr(e.msg, "expands past 131072 bytes"));
	free(big);
}

/* Quoted values come back unchanged through /bin/sh -c 'printf %s ...',
 * also when they reach the command through a template. */
static void test_shell_quote_round_trip(void **state)
{
	static const char *const tricky[] = {
		"plain", "", "two words", "it's", "'", "''", "\"double\" and 'single'",
		"$HOME `id` $(id) \\ ; | & > < * ? [a] ~ # !", "new\nline", "-n",
	};
	static const char *const k[] = { "v" };
	char *tmpl[] = { "/bin/sh", "-c", "printf %s {v}" };
	struct subproc_result r;

	(void)state;
	subproc_result_init(&r, MAX_OUT, MAX_OUT);
	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		struct buf q;
		struct err e = { "" };
		const char *v[1];
		char **argv;

		print_message("[%s]\n", tricky[i]);
		buf_init(&q, 1024);
		assert_int_equal(subproc_shell_quote(&q, tricky[i]), 0);
		assert_int_equal(buf_append(&q, "", 1), 0);
		v[0] = q.p;
		assert_int_equal(subproc_expand(tmpl, 3, k, v, 1, &argv, &e), 0);
		assert_int_equal(run(argv, NULL, &r, &e), 0);
		assert_int_equal(r.exit_code, 0);
		assert_string_equal(str(&r.out), tricky[i]);
		subproc_argv_free(argv);
		buf_fini(&q);
	}
	subproc_result_fini(&r);
}

static void test_shell_quote_form_and_full(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 16);
	assert_int_equal(subproc_shell_quote(&b, "it's"), 0);
	assert_int_equal(b.len, strlen("'it'\\''s'"));
	assert_memory_equal(b.p, "'it'\\''s'", b.len);
	/* No room: b is left as it was. */
	assert_int_equal(subproc_shell_quote(&b, "0123456789"), -1);
	assert_int_equal(b.len, strlen("'it'\\''s'"));
	buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_stdout_and_stderr_apart),
		cmocka_unit_test(test_big_output_capped),
		cmocka_unit_test(test_one_read_over_cap),
		cmocka_unit_test(test_input),
		cmocka_unit_test(test_timeout_sigterm),
		cmocka_unit_test(test_timeout_sigkill),
		cmocka_unit_test(test_background_job_killed),
		cmocka_unit_test(test_escaped_job_does_not_hold),
		cmocka_unit_test(test_cannot_start),
		cmocka_unit_test(test_path_search),
		cmocka_unit_test(test_signals_reset),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_value_not_reexpanded),
		cmocka_unit_test(test_expand_too_long),
		cmocka_unit_test(test_shell_quote_round_trip),
		cmocka_unit_test(test_shell_quote_form_and_full),
	};

	return cmocka_run_group_tests_name("subproc", tests, NULL, NULL);
}
