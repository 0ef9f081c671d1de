/* The event loop's timers, cross-thread posts, and fd events when a
 * callback closes an fd whose number is reused within the same batch; the
 * HTTP client's error path on a connect that fails at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/http_client.h"
#include "common/loop.h"
#include "common/net.h"

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

struct reuse {
	int a[2], b[2];
	int newfd;
	int ran, stale;
};

static void reuse_new_cb(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct reuse *r = ctx;

	(void)l;
	(void)fd;
	(void)events;
	r->stale++;	/* nothing was ever written to the new socket */
}

/* Whichever of two ready fds runs first closes the other, and a new socket
 * takes its number, as accept() and socket() do in the lb. */
static void reuse_old_cb(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct reuse *r = ctx;
	int other = fd == r->a[0] ? r->b[0] : r->a[0];

	(void)events;
	if (r->ran++)
		return;
	loop_del_fd(l, other);
	close(other);
	r->newfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_int_equal(r->newfd, other);
	assert_int_equal(loop_add_fd(l, r->newfd, EPOLLIN, reuse_new_cb, r, NULL), 0);
}

static void test_reused_fd_never_gets_the_old_owners_events(void **state)
{
	struct reuse r = { .newfd = -1 };
	struct err e;
	struct loop *l = loop_new(&e);

	(void)state;
	assert_non_null(l);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, r.a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, r.b), 0);
	assert_int_equal(write(r.a[1], "x", 1), 1);
	assert_int_equal(write(r.b[1], "x", 1), 1);
	assert_int_equal(loop_add_fd(l, r.a[0], EPOLLIN, reuse_old_cb, &r, NULL), 0);
	assert_int_equal(loop_add_fd(l, r.b[0], EPOLLIN, reuse_old_cb, &r, NULL), 0);
	assert_int_equal(loop_run_once(l, 1000, &e), 0);
	assert_int_equal(r.ran, 1);
	assert_int_equal(r.stale, 0);
	loop_del_fd(l, r.newfd);
	close(r.newfd);
	close(r.a[0] == r.newfd ? r.b[0] : r.a[0]);
	close(r.a[1]);
	close(r.b[1]);
	loop_free(l);
}

struct client_rec {
	int calls, status;
	char err[128];
};

static void client_done(void *ctx, int status, const char *body, size_t len,
    const char *err)
{
	struct client_rec *r = ctx;

	(void)body;
	(void)len;
	r->calls++;
	r->status = status;
	snprintf(r->err, sizeof(r->err), "%s", err ? err : "");
}

/* connect() to the broadcast address fails at once (ENETUNREACH or
 * EACCES): the error reaches the callback after the request was freed, so
 * it must not point into the request (ASan saw it read freed memory). */
static void test_client_connect_failure_reports_a_live_message(void **state)
{
	struct client_rec rec = { 0 };
	struct net_addr a;
	struct err e;
	struct loop *l = loop_new(&e);
	struct http_client *c;

	(void)state;
	assert_non_null(l);
	c = http_client_new(l);
	assert_non_null(c);
	assert_int_equal(net_addr_parse("255.255.255.255:80", &a, &e), 0);
	assert_int_equal(http_client_get(c, &a, "/health", 1000, 4096, client_done, &rec), 0);
	for (int i = 0; i < 100 && rec.calls == 0; i++)
		assert_int_equal(loop_run_once(l, 20, &e), 0);
	assert_int_equal(rec.calls, 1);
	assert_true(rec.status < 0);
	assert_true(strlen(rec.err) > 0);
	http_client_free(c);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_order),
		cmocka_unit_test(test_posts_from_another_thread),
		cmocka_unit_test(test_reused_fd_never_gets_the_old_owners_events),
		cmocka_unit_test(test_client_connect_failure_reports_a_live_message),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
