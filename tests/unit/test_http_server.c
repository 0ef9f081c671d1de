/* Unit tests of common/http_server's connection code fed byte streams cut
 * into reads (tests/http_feed.h): whatever the cuts, the handler sees the
 * same requests as when the stream comes in one piece. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "../http_feed.h"
#include "common/net.h"

struct stream {
	char *p;
	size_t len;
};

static void stream_add(struct stream *s, const char *p, size_t n)
{
	s->p = realloc(s->p, s->len + n);
	assert_non_null(s->p);
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

static void stream_fill(struct stream *s, char c, size_t n)
{
	s->p = realloc(s->p, s->len + n);
	assert_non_null(s->p);
	memset(s->p + s->len, c, n);
	s->len += n;
}

static void stream_str(struct stream *s, const char *str)
{
	stream_add(s, str, strlen(str));
}

/* The record of the stream sent whole, and cut at cuts. */
static void expect_same(const struct stream *s, const size_t *cuts, size_t ncuts,
    struct feed_log *whole)
{
	struct feed_log cut = { 0 };

	if (whole->len == 0)
		assert_int_equal(feed_run(s->p, s->len, NULL, 0, whole), 0);
	assert_int_equal(feed_run(s->p, s->len, cuts, ncuts, &cut), 0);
	assert_int_equal(cut.len, whole->len);
	assert_memory_equal(cut.p, whole->p, whole->len);
	free(cut.p);
}

static size_t count_requests(const struct feed_log *g)
{
	size_t n = 0;

	for (size_t i = 0; i + 1 < g->len; i++)
		if ((i == 0 || g->p[i - 1] == '\n') && g->p[i] == 'R' && g->p[i + 1] == ' ')
			n++;
	return n;
}

/* The report's reproduction: a head that fills the first 4 KiB read, the
 * body in a later one. The buffer is reallocated under the parsed head. */
static void test_body_after_a_head_that_fills_the_buffer(void **state)
{
	struct stream s = { 0 };
	struct feed_log whole = { 0 };
	const char *start = "POST /load HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nX-Pad: ";
	size_t cut;

	(void)state;
	stream_str(&s, start);
	stream_fill(&s, 'p', 4096 - strlen(start) - 4);
	stream_str(&s, "\r\n\r\n");
	cut = s.len;
	assert_int_equal(cut, 4096);
	stream_fill(&s, 'b', 5000);
	expect_same(&s, &cut, 1, &whole);
	assert_int_equal(count_requests(&whole), 1);
	assert_non_null(strstr(whole.p, "4:POST 5:/load "));
	free(whole.p);
	free(s.p);
}

/* A pipelined request's body arrives when the buffer is full: the buffer is
 * compacted (the first request's bytes dropped) under the second's head.
 * Fails in any build, not only under ASan: stale views read shifted bytes. */
static void test_body_after_compaction_under_a_pipelined_head(void **state)
{
	static const char first[] = "GET /first HTTP/1.1\r\nHost: x\r\n\r\n";
	struct stream s = { 0 };
	struct feed_log whole = { 0 };
	char second[128];
	size_t cut, body;

	(void)state;
	/* The body overflows the 4 KiB buffer by less than the first request's
	 * size: compaction alone makes room, nothing is reallocated. */
	snprintf(second, sizeof(second),
	    "POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: %04d\r\n\r\n", 0);
	body = 4096 + (sizeof(first) - 1) / 2 - (sizeof(first) - 1) - strlen(second);
	snprintf(second, sizeof(second),
	    "POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: %04zu\r\n\r\n", body);
	stream_str(&s, first);
	stream_str(&s, second);
	cut = s.len;
	stream_fill(&s, 'b', body);
	expect_same(&s, &cut, 1, &whole);
	assert_int_equal(count_requests(&whole), 2);
	assert_non_null(strstr(whole.p, "7:/second "));
	free(whole.p);
	free(s.p);
}

/* Every single cut, and every cut followed by byte-at-a-time reads for a
 * while, of a stream with plain, chunked and bodiless requests. */
static void test_every_cut_gives_the_same_requests(void **state)
{
	struct stream s = { 0 };
	struct feed_log whole = { 0 };

	(void)state;
	stream_str(&s, "GET /a?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
	stream_str(&s, "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n");
	stream_fill(&s, 'b', 3000);
	stream_str(&s, "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n400\r\n");
	stream_fill(&s, 'c', 0x400);
	stream_str(&s, "\r\n0\r\n\r\n");
	stream_str(&s, "POST /d HTTP/1.1\r\nHost: x\r\nContent-Length: 700\r\n\r\n");
	stream_fill(&s, 'd', 700);
	stream_str(&s, "GET /e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(feed_run(s.p, s.len, NULL, 0, &whole), 0);
	assert_int_equal(count_requests(&whole), 5);
	for (size_t at = 1; at < s.len; at++)
		expect_same(&s, &at, 1, &whole);
	for (size_t at = 0; at + 40 < s.len; at += 97) {
		size_t cuts[40];

		for (size_t i = 0; i < 40; i++)
			cuts[i] = at + i + 1;
		expect_same(&s, cuts, 40, &whole);
	}
	free(whole.p);
	free(s.p);
}

static enum http_handled ok_handler(void *ctx, struct http_conn *c,
    const struct http_request *req, struct slice body)
{
	(void)ctx;
	(void)req;
	(void)body;
	http_respond(c, 200, "text/plain", NULL, "ok\n", 3);
	return HTTP_HANDLED_DONE;
}

/* Idle clients, more than the process may open files: the server keeps a
 * reserve of descriptors, so the process can still open what it needs. */
static void test_idle_clients_leave_a_reserve_of_descriptors(void **state)
{
	enum { CLIENTS = 300, LIMIT = 128 };
	struct rlimit old, low = { LIMIT, 0 };
	struct http_server_cfg cfg;
	struct http_server *s;
	struct net_addr a;
	struct loop *l;
	struct err e;
	char addr[64];
	int lfd, go[2], opened[16], nopened = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low.rlim_max = old.rlim_max;
	assert_int_equal(net_addr_parse("127.0.0.1:0", &a, &e), 0);
	lfd = net_listen(&a, 4096, &e);
	assert_true(lfd >= 0);
	net_local_addr(lfd, addr, sizeof(addr));
	assert_int_equal(pipe(go), 0);
	/* The clients live in a child, with its own descriptor table. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct net_addr to;
		char c;

		if (net_addr_parse(addr, &to, &e) == -1)
			_exit(1);
		for (int i = 0; i < CLIENTS; i++) {
			int fd = socket(AF_INET, SOCK_STREAM, 0);

			if (fd == -1 || connect(fd, (struct sockaddr *)&to.ss, to.len) == -1)
				_exit(1);
		}
		close(go[1]);
		(void)!read(go[0], &c, 1);	/* until the parent is done */
		_exit(0);
	}
	close(go[0]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	l = loop_new(&e);
	assert_non_null(l);
	http_server_cfg_defaults(&cfg);
	cfg.handler = ok_handler;
	s = http_server_new(l, &cfg, &e);
	assert_non_null(s);
	assert_int_equal(http_server_listen(s, lfd, 0, &e), 0);
	/* Every client is in the backlog once connect() returned; a few
	 * iterations take them all (64 per wake-up). */
	for (int i = 0; i < 50; i++)
		assert_int_equal(loop_run_once(l, 10, &e), 0);
	assert_true(http_server_open_conns(s, 0) > 0);
	for (; nopened < 16; nopened++) {
		opened[nopened] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (opened[nopened] == -1)
			break;
	}
	for (int i = 0; i < nopened; i++)
		close(opened[i]);
	http_server_free(s);
	loop_free(l);
	close(lfd);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	close(go[1]);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	assert_int_equal(nopened, 16);
}

/* net_listen's sockets hand TCP_NODELAY to what they accept, so the
 * servers and the balancer set nothing per connection (small responses
 * are not held back by Nagle waiting for an ACK). */
static void test_accepted_sockets_have_nodelay(void **state)
{
	struct net_addr a, to;
	struct err e;
	char addr[64];
	int lfd, cfd, sfd, on = 0;
	socklen_t len = sizeof(on);

	(void)state;
	assert_int_equal(net_addr_parse("127.0.0.1:0", &a, &e), 0);
	lfd = net_listen(&a, 16, &e);
	assert_true(lfd >= 0);
	assert_int_equal(net_addr_parse(net_local_addr(lfd, addr, sizeof(addr)), &to, &e), 0);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&to.ss, to.len), 0);
	sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(sfd >= 0);
	assert_int_equal(getsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
	assert_int_equal(on, 1);
	close(sfd);
	close(cfd);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted_sockets_have_nodelay),
		cmocka_unit_test(test_body_after_a_head_that_fills_the_buffer),
		cmocka_unit_test(test_body_after_compaction_under_a_pipelined_head),
		cmocka_unit_test(test_every_cut_gives_the_same_requests),
		cmocka_unit_test(test_idle_clients_leave_a_reserve_of_descriptors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
