/* The controller's pure rules about a pool it did not size itself: which
 * size it adopts (controller/adopt.h), who is published (discovery/
 * publish.h, shared with `poolscale sd`), and the pause after a failure
 * (common/backoff.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/backoff.h"
#include "controller/adopt.h"
#include "discovery/publish.h"

/* One list after another through one struct adopt; min 1, max 6. */
static const struct {
	const char *name;
	bool first;			/* no saved size, no explicit initial */
	int seen_before;		/* the size of an earlier list; -1 none */
	struct adopt_list l;
	enum adopt_why want;
	int found, desired;
} rows[] = {
	{ "first_start_takes_the_provider_size", true, -1, { 2, 2, 0, false },
	    ADOPT_FIRST_START, 2, 2 },
	{ "first_start_clamps_to_min", true, -1, { 0, 0, 0, false }, ADOPT_FIRST_START, 0, 1 },
	{ "first_start_clamps_to_max", true, -1, { 9, 9, 0, false }, ADOPT_FIRST_START, 9, 6 },
	{ "first_start_without_a_size_counts_members", true, -1, { -1, 3, 0, false },
	    ADOPT_FIRST_START, 3, 3 },
	{ "first_start_follows_a_change_of_ours_too", true, -1, { 4, 2, 0, true },
	    ADOPT_FIRST_START, 4, 4 },
	{ "outside_resize_is_adopted", false, 3, { 5, 3, 0, false }, ADOPT_OUTSIDE, 5, 5 },
	{ "outside_shrink_is_adopted", false, 5, { 2, 5, 0, false }, ADOPT_OUTSIDE, 2, 2 },
	{ "outside_resize_less_the_draining", false, 3, { 5, 3, 1, false }, ADOPT_OUTSIDE, 5, 4 },
	{ "outside_resize_clamped_to_max", false, 3, { 20, 3, 0, false }, ADOPT_OUTSIDE, 20, 6 },
	{ "our_own_change_is_not_adopted", false, 3, { 5, 3, 0, true }, ADOPT_NONE, 0, 0 },
	{ "same_size_changes_nothing", false, 3, { 3, 2, 0, false }, ADOPT_NONE, 0, 0 },
	{ "no_baseline_only_records", false, -1, { 5, 3, 0, false }, ADOPT_NONE, 0, 0 },
	{ "members_coming_and_going_are_not_a_resize", false, -1, { -1, 1, 0, false },
	    ADOPT_NONE, 0, 0 },
};

static void test_adopt_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct adopt a;
		int found = 0, desired = 0;
		enum adopt_why got;

		adopt_init(&a, rows[i].first);
		a.seen = rows[i].seen_before;
		got = adopt_take(&a, &rows[i].l, 1, 6, &found, &desired);
		if (got != rows[i].want || found != rows[i].found || desired != rows[i].desired)
			fail_msg("%s: got %d found %d desired %d", rows[i].name, (int)got, found,
			    desired);
		/* The size seen is the baseline of the next list. */
		assert_int_equal(a.seen, rows[i].l.size >= 0 ? rows[i].l.size : rows[i].seen_before);
		assert_false(a.first);
	}
}

static void test_adopt_sequence(void **state)
{
	struct adopt a;
	struct adopt_list l = { 3, 3, 0, false };
	int found, desired;

	(void)state;
	adopt_init(&a, false);
	assert_int_equal(adopt_take(&a, &l, 1, 10, &found, &desired), ADOPT_NONE);
	l.size = 5;		/* outside: adopted once */
	assert_int_equal(adopt_take(&a, &l, 1, 10, &found, &desired), ADOPT_OUTSIDE);
	assert_int_equal(desired, 5);
	assert_int_equal(adopt_take(&a, &l, 1, 10, &found, &desired), ADOPT_NONE);
	/* A change of ours whose list failed: the next size is a baseline. */
	adopt_forget(&a);
	l.size = 4;
	assert_int_equal(adopt_take(&a, &l, 1, 10, &found, &desired), ADOPT_NONE);
	assert_int_equal(a.seen, 4);
}

static void test_publish_rule(void **state)
{
	static const struct {
		const char *name;
		bool booting, stopping, healthy, published;
	} p[] = {
		{ "running_and_healthy", false, false, true, true },
		{ "healthy_but_the_provider_says_booting", true, false, true, false },
		{ "healthy_but_stopping", false, true, true, false },
		{ "running_but_unhealthy", false, false, false, false },
		{ "booting_and_unhealthy", true, false, false, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		struct member m;

		memset(&m, 0, sizeof(m));
		m.booting = p[i].booting;
		m.stopping = p[i].stopping;
		if (publish_member(&m, p[i].healthy) != p[i].published)
			fail_msg("%s", p[i].name);
	}
}

static void test_backoff_grows_caps_and_jitters(void **state)
{
	unsigned seed = 42;

	(void)state;
	for (int round = 0; round < 200; round++) {
		int64_t want = 250;

		for (int f = 1; f <= 12; f++) {
			int64_t d = backoff_ms(f, 250, 30000, &seed);

			/* Equal jitter: within [half, whole] of the capped step. */
			assert_true(d >= want / 2 && d <= want);
			want = want * 2 > 30000 ? 30000 : want * 2;
		}
	}
	assert_int_equal(backoff_ms(1000000, 250, 30000, &seed) <= 30000, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adopt_rows),
		cmocka_unit_test(test_adopt_sequence),
		cmocka_unit_test(test_publish_rule),
		cmocka_unit_test(test_backoff_grows_caps_and_jitters),
	};

	return cmocka_run_group_tests_name("adopt", tests, NULL, NULL);
}
