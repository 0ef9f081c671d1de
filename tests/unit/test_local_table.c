/* The local provider's pure parts: the instance table (its JSON, the id
 * high-water mark, free addresses), the start backoff, and liveness that
 * tells "gone" from "could not look". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "provider/ltable.h"
#include "provider/procinfo.h"
#include "provider/respawn.h"

static struct linst inst(const char *id, int index, pid_t pid)
{
	struct linst in = { 0 };

	snprintf(in.id, sizeof(in.id), "%s", id);
	snprintf(in.address, sizeof(in.address), "127.0.1.%d", index + 1);
	in.index = index;
	in.pid = pid;
	in.start_ticks = 1000u + (unsigned)index;
	in.created_unix_s = 1700000000;
	return in;
}

static void test_round_trip_keeps_entries_and_high_water(void **state)
{
	struct ltable t, u;
	struct linst a = inst("i-0001", 0, 11), b = inst("i-0007", 3, 0);
	struct err e;
	char *text;

	(void)state;
	ltable_init(&t);
	ltable_init(&u);
	t.next_id = 9;
	b.stopping = true;
	snprintf(b.cgroup, sizeof(b.cgroup), "/sys/fs/cgroup/poolscale/i-0007");
	assert_int_equal(ltable_add(&t, &a), 0);
	assert_int_equal(ltable_add(&t, &b), 0);
	text = ltable_format(&t);
	assert_non_null(text);
	assert_int_equal(ltable_parse(&u, text, strlen(text), "t.json", &e), 0);
	assert_int_equal(u.n, 2);
	assert_int_equal(u.next_id, 9);
	assert_string_equal(u.v[1].id, "i-0007");
	assert_int_equal(u.v[1].pid, 0);	/* an intent stays an intent */
	assert_true(u.v[1].stopping);
	assert_string_equal(u.v[1].cgroup, b.cgroup);
	assert_int_equal(u.v[0].start_ticks, 1000);
	free(text);
	ltable_fini(&t);
	ltable_fini(&u);
}

static void test_ids_are_never_handed_out_twice(void **state)
{
	struct ltable t;
	struct linst a = inst("", 0, 1);
	char id[40];

	(void)state;
	ltable_init(&t);
	ltable_new_id(&t, a.id, sizeof(a.id));
	assert_string_equal(a.id, "i-0001");
	assert_int_equal(ltable_add(&t, &a), 0);
	ltable_drop(&t, 0);	/* the member is gone: its id is not free again */
	ltable_new_id(&t, id, sizeof(id));
	assert_string_equal(id, "i-0002");
	ltable_fini(&t);
}

static void test_old_file_without_next_id_starts_past_its_ids(void **state)
{
	static const char text[] = "{\"instances\": [{\"id\": \"i-0012\", \"index\": 0, "
	    "\"address\": \"127.0.1.1\", \"pid\": 5, \"start_ticks\": 1, \"created_unix_s\": 2, "
	    "\"stopping\": false}]}";
	struct ltable t;
	struct err e;
	char id[40];

	(void)state;
	ltable_init(&t);
	assert_int_equal(ltable_parse(&t, text, sizeof(text) - 1, "t.json", &e), 0);
	assert_int_equal(t.next_id, 12);
	ltable_new_id(&t, id, sizeof(id));
	assert_string_equal(id, "i-0013");
	/* A mark below an id the table holds is raised to it. */
	{
		static const char low[] = "{\"next_id\": 3, \"instances\": [{\"id\": \"i-0009\", "
		    "\"index\": 0, \"address\": \"a\", \"pid\": 5, \"start_ticks\": 1, "
		    "\"created_unix_s\": 2, \"stopping\": false}]}";

		assert_int_equal(ltable_parse(&t, low, sizeof(low) - 1, "t", &e), 0);
		assert_int_equal(t.next_id, 9);
	}
	ltable_fini(&t);
}

static const struct {
	const char *name, *text, *want;
} bad_rows[] = {
	{ "not_json", "{\"instances\": [", "t.json:1:" },
	{ "no_list", "{\"next_id\": 1}", "no \"instances\" list" },
	{ "next_id_not_a_number", "{\"next_id\": \"x\", \"instances\": []}", "no \"instances\"" },
	{ "member_missing_pid", "{\"instances\": [{\"id\": \"i-0001\", \"index\": 0, "
	    "\"address\": \"a\", \"start_ticks\": 1, \"created_unix_s\": 2, \"stopping\": false}]}",
	    "instance 0" },
	{ "negative_pid", "{\"instances\": [{\"id\": \"i-0001\", \"index\": 0, \"address\": "
	    "\"a\", \"pid\": -1, \"start_ticks\": 1, \"created_unix_s\": 2, \"stopping\": false}]}",
	    "out of range" },
	{ "address_too_long", "{\"instances\": [{\"id\": \"i-0001\", \"index\": 0, \"address\": "
	    "\"127.000.000.001.x\", \"pid\": 1, \"start_ticks\": 1, \"created_unix_s\": 2, "
	    "\"stopping\": false}]}", "out of range" },
};

static void test_corrupt_tables_are_errors_and_leave_it_empty(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		struct ltable t;
		struct linst a = inst("i-0001", 0, 1);
		struct err e = { "" };

		ltable_init(&t);
		assert_int_equal(ltable_add(&t, &a), 0);
		if (ltable_parse(&t, bad_rows[i].text, strlen(bad_rows[i].text), "t.json",
		    &e) != -1 || strstr(e.msg, bad_rows[i].want) == NULL || t.n != 0)
			fail_msg("%s: got \"%s\", n=%zu", bad_rows[i].name, e.msg, t.n);
		ltable_fini(&t);
	}
}

static void test_free_index_skips_held_and_busy(void **state)
{
	struct ltable t;
	struct linst a = inst("i-0001", 0, 1), b = inst("i-0002", 2, 2);
	bool skip[4] = { false, true, false, false };

	(void)state;
	ltable_init(&t);
	assert_int_equal(ltable_free_index(&t, 4, NULL, 0), 0);
	assert_int_equal(ltable_add(&t, &a), 0);
	assert_int_equal(ltable_add(&t, &b), 0);
	assert_int_equal(ltable_free_index(&t, 4, NULL, 0), 1);
	assert_int_equal(ltable_free_index(&t, 4, skip, 0), 3);
	assert_int_equal(ltable_free_index(&t, 3, skip, 0), -1);
	assert_int_equal(ltable_free_index(&t, 4, NULL, 2), 3);
	ltable_fini(&t);
}

static void test_id_numbers(void **state)
{
	(void)state;
	assert_int_equal(ltable_id_number("i-0007"), 7);
	assert_int_equal(ltable_id_number("i-123456"), 123456);
	assert_int_equal(ltable_id_number("i-"), 0);
	assert_int_equal(ltable_id_number("i-7x"), 0);
	assert_int_equal(ltable_id_number("web-1"), 0);
}

static const struct {
	const char *name;
	int failures;
	int64_t want_ms;
} delay_rows[] = {
	{ "none_is_free", 0, 0 },
	{ "one_death_is_replaced_at_once", 1, 0 },
	{ "second_waits_base", 2, 1000 },
	{ "third_doubles", 3, 2000 },
	{ "sixth", 6, 16000 },
	{ "capped", 8, 60000 },
	{ "capped_far_out", 1000, 60000 },
};

static void test_backoff_doubles_to_a_cap(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(delay_rows) / sizeof(delay_rows[0]); i++)
		if (respawn_delay_ms(delay_rows[i].failures, 1000, 60000) != delay_rows[i].want_ms)
			fail_msg("%s: %lld", delay_rows[i].name,
			    (long long)respawn_delay_ms(delay_rows[i].failures, 1000, 60000));
}

static void test_backoff_waits_then_a_living_member_resets_it(void **state)
{
	struct respawn r = { 0 };

	(void)state;
	assert_int_equal(respawn_wait_ms(&r, 0), 0);
	respawn_failed(&r, 100, 1000, 60000);
	assert_int_equal(respawn_wait_ms(&r, 100), 0);
	respawn_failed(&r, 100, 1000, 60000);
	respawn_failed(&r, 100, 1000, 60000);	/* three die at once */
	assert_int_equal(respawn_wait_ms(&r, 100), 2000);
	assert_int_equal(respawn_wait_ms(&r, 1600), 500);
	assert_int_equal(respawn_wait_ms(&r, 2100), 0);
	respawn_ok(&r);
	assert_int_equal(r.failures, 0);
	assert_int_equal(respawn_wait_ms(&r, 0), 0);
}

/* A child that has exited and was reaped: its pid names nothing. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return pid;
}

static void test_observe_tells_gone_from_unknown(void **state)
{
	uint64_t ticks;
	pid_t dead = dead_pid();
	struct rlimit old, low;
	int fds[64], n = 0, err;

	(void)state;
	assert_int_equal(procinfo_start_ticks(getpid(), &ticks), 0);
	assert_int_equal(procinfo_observe(getpid(), ticks, &err), PROCINFO_ALIVE);
	/* The same pid with another start time: a recycled pid, not ours. */
	assert_int_equal(procinfo_observe(getpid(), ticks + 1, &err), PROCINFO_GONE);
	assert_int_equal(procinfo_observe(dead, ticks, &err), PROCINFO_GONE);
	assert_int_equal(procinfo_observe(0, 0, &err), PROCINFO_GONE);
	/* Out of descriptors: we cannot read /proc, which proves nothing. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 32;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < 64) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd == -1)
			break;
		fds[n++] = fd;
	}
	assert_int_equal(procinfo_observe(getpid(), ticks, &err), PROCINFO_UNKNOWN);
	assert_int_equal(err, EMFILE);
	/* ...but kill(pid, 0) still tells that a pid is gone. */
	assert_int_equal(procinfo_observe(dead, ticks, &err), PROCINFO_GONE);
	assert_false(procinfo_is_alive(getpid(), ticks));
	while (n > 0)
		close(fds[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(procinfo_observe(getpid(), ticks, &err), PROCINFO_ALIVE);
	assert_string_equal(procinfo_seen_name(PROCINFO_UNKNOWN), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_keeps_entries_and_high_water),
		cmocka_unit_test(test_ids_are_never_handed_out_twice),
		cmocka_unit_test(test_old_file_without_next_id_starts_past_its_ids),
		cmocka_unit_test(test_corrupt_tables_are_errors_and_leave_it_empty),
		cmocka_unit_test(test_free_index_skips_held_and_busy),
		cmocka_unit_test(test_id_numbers),
		cmocka_unit_test(test_backoff_doubles_to_a_cap),
		cmocka_unit_test(test_backoff_waits_then_a_living_member_resets_it),
		cmocka_unit_test(test_observe_tells_gone_from_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
