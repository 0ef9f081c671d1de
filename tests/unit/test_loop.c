/* The event loop's timers and cross-thread posts (no sockets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "common/loop.h"

struct rec {
	struct loop *l;
	int order[16];
	int n;
	int repeats;
};

static int64_t fire_a(struct loop *l, void *ctx) { struct rec *r = ctx; (void)l; r->order[r->n++] = 'a'; return LOOP_TIMER_STOP; }
static int64_t fire_b(struct loop *l, void *ctx) { struct rec *r = ctx; (void)l; r->order[r->n++] = 'b'; return LOOP_TIMER_STOP; }
static int64_t fire_never(struct loop *l, void *ctx) { struct rec *r = ctx; (void)l; r->order[r->n++] = 'x'; return LOOP_TIMER_STOP; }

static int64_t fire_repeat(struct loop *l, void *ctx)
{
	struct rec *r = ctx;

	r->order[r->n++] = 'r';
	if (++r->repeats == 3) {
		loop_stop(l);
		return LOOP_TIMER_STOP;
	}
	return 0;	/* run again as soon as allowed (1 ms) */
}

static void test_timers_fire_in_order(void **state)
{
	struct rec r = { 0 };
	struct loop *l = loop_new(NULL);
	uint64_t never;

	(void)state;
	assert_non_null(l);
	loop_add_timer(l, 20, fire_b, &r);
	loop_add_timer(l, 5, fire_a, &r);
	never = loop_add_timer(l, 10, fire_never, &r);
	loop_add_timer(l, 30, fire_repeat, &r);
	loop_cancel_timer(l, never);
	assert_int_equal(loop_run(l, NULL), 0);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.order[0], 'a');
	assert_int_equal(r.order[1], 'b');
	assert_int_equal(r.order[2], 'r');
	assert_int_equal(r.order[4], 'r');
	loop_free(l);
}

static void posted(struct loop *l, void *ctx)
{
	struct rec *r = ctx;

	if (++r->n == 100)
		loop_stop(l);
}

static void *poster(void *p)
{
	struct rec *r = p;

	for (int i = 0; i < 100; i++)
		loop_post(r->l, posted, r);
	return NULL;
}

static void test_posts_from_another_thread(void **state)
{
	struct rec r = { 0 };
	pthread_t t;

	(void)state;
	r.l = loop_new(NULL);
	assert_non_null(r.l);
	pthread_create(&t, NULL, poster, &r);
	assert_int_equal(loop_run(r.l, NULL), 0);
	pthread_join(t, NULL);
	assert_int_equal(r.n, 100);
	loop_free(r.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_order),
		cmocka_unit_test(test_posts_from_another_thread),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
