/* Pure parts under the controller: file_sd rendering, /proc/PID/stat
 * parsing, the event ring, the schedule's opened/closed events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller/controller.h"
#include "controller/events.h"
#include "discovery/filesd.h"
#include "provider/procinfo.h"

static void test_filesd_sorted_and_labelled(void **state)
{
	struct sd_target t[] = { { "i-0002", "127.0.1.2" }, { "i-0001", "127.0.1.1" },
	    { "i-0003", "::1" } };
	char *s = filesd_render("web", "local", t, 3, 9100);

	(void)state;
	assert_string_equal(s,
	    "[{\"targets\":[\"127.0.1.1:9100\"],\"labels\":{\"pool\":\"web\",\"instance_id\":\"i-0001\",\"provider\":\"local\"}},"
	    "{\"targets\":[\"127.0.1.2:9100\"],\"labels\":{\"pool\":\"web\",\"instance_id\":\"i-0002\",\"provider\":\"local\"}},"
	    "{\"targets\":[\"[::1]:9100\"],\"labels\":{\"pool\":\"web\",\"instance_id\":\"i-0003\",\"provider\":\"local\"}}]");
	free(s);
	s = filesd_render("web", "local", NULL, 0, 80);
	assert_string_equal(s, "[]");
	free(s);
}

static void test_proc_stat_parse(void **state)
{
	/* A comm with spaces and ')' must not shift the fields. */
	const char *text = "4242 (we ird) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
	    "5 3 0 0 20 0 1 0 987654 12345678 300 18446744073709551615\n";
	char st = 0;
	uint64_t ticks = 0;

	(void)state;
	assert_int_equal(procinfo_parse_stat(text, &st, &ticks), 0);
	assert_int_equal(st, 'S');
	assert_int_equal(ticks, 987654);
	/* utime 5 + stime 3 (fields 14 and 15) */
	assert_int_equal(procinfo_parse_cpu(text, &ticks), 0);
	assert_int_equal(ticks, 8);
	assert_int_equal(procinfo_parse_cpu("4242 (x) S 1 2", &ticks), -1);
	assert_int_equal(procinfo_parse_stat("4242 (x) S 1 2", &st, &ticks), -1);
	assert_int_equal(procinfo_parse_stat("garbage", &st, &ticks), -1);
}

static void test_proc_self_alive(void **state)
{
	uint64_t t;

	(void)state;
	assert_int_equal(procinfo_start_ticks(getpid(), &t), 0);
	assert_true(procinfo_is_alive(getpid(), t));
	assert_false(procinfo_is_alive(getpid(), t + 1));	/* a reused pid */
	assert_false(procinfo_is_alive(0, t));
}

static void test_events_ring(void **state)
{
	struct events ev;
	json_t *j, *arr;

	(void)state;
	assert_int_equal(events_init(&ev, 3), 0);
	for (int i = 1; i <= 5; i++)
		events_add(&ev, 1000 * i, "k", "event %d", i);
	j = events_json(&ev);
	arr = json_object_get(j, "events");
	assert_int_equal(json_array_size(arr), 3);
	/* oldest kept first: 3, 4, 5 */
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "message")),
	    "event 3");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 2), "seq")), 5);
	json_decref(j);
	events_fini(&ev);
}

/* Each window's opening and closing is one event, with the bounds then in
 * force; evaluating again inside or outside it says nothing more. */
static void test_schedule_events_once(void **state)
{
	static const char yaml[] =
	    "min: 1\nmax: 5\nschedule:\n"
	    "  - name: office\n    cron: \"0 9 * * mon-fri\"\n    duration: 8h\n"
	    "    min: 3\n    timezone: Europe/Zurich\n";
	const int64_t mon = 1767571200;	/* 2026-01-05T00:00Z, Monday */
	const int64_t at[] = { mon, mon + 8 * 3600, mon + 9 * 3600, mon + 16 * 3600,
		mon + 17 * 3600 };
	struct ctl_cfg cfg;
	struct controller *c = calloc(1, sizeof(*c));
	struct buf errs;
	struct err e;
	json_t *ev;

	(void)state;
	assert_non_null(c);
	buf_init(&errs, 4096);
	assert_int_equal(ctl_cfg_load_string("t.yml", yaml, &cfg, &errs), 0);
	c->cfg = &cfg;
	c->prov_min = c->prov_max = -1;
	assert_int_equal(events_init(&c->events, 16), 0);
	/* What ctl_sched_init does, without its evaluation at the real now. */
	assert_int_equal(tz_db_add(&c->sched.tz, "Europe/Zurich", &e), 0);
	c->sched.b.min = cfg.min;
	c->sched.b.max = cfg.max;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		int min, max;

		ctl_sched_update(c, at[i]);
		ctl_bounds(c, &min, &max);
		/* 08:00Z is 09:00 in Zurich: open from there to 17:00 local */
		assert_int_equal(min, i == 1 || i == 2 ? 3 : 1);
		assert_int_equal(max, 5);
	}
	ev = events_json(&c->events);
	assert_int_equal(json_array_size(json_object_get(ev, "events")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(ev, "events"), 0), "message")),
	    "schedule window office opened (min 3): bounds now [3, 5]");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(ev, "events"), 1), "message")),
	    "schedule window office closed: bounds now [1, 5]");
	json_decref(ev);
	ctl_sched_fini(c);
	events_fini(&c->events);
	ctl_cfg_fini(&cfg);
	buf_fini(&errs);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filesd_sorted_and_labelled),
		cmocka_unit_test(test_proc_stat_parse),
		cmocka_unit_test(test_proc_self_alive),
		cmocka_unit_test(test_events_ring),
		cmocka_unit_test(test_schedule_events_once),
	};

	return cmocka_run_group_tests_name("controller_parts", tests, NULL, NULL);
}
