/* `poolscale app`: start-up, threads, and the SIGTERM drain. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "common/clock.h"
#include "common/net.h"

#define APP_BACKLOG 1024
#define APP_DRAIN_POLL_MS 20

struct app_io {
	struct app *app;
	struct loop *loop;
	struct http_server *srv;
	pthread_t thread;
	bool running;
};

static void *io_thread(void *p)
{
	struct app_io *io = p;
	struct err e;

	if (loop_run(io->loop, &e) == -1)
		log_msg(LOG_ERROR, "event loop failed", "error=%s", e.msg);
	return NULL;
}

/* On the loop's thread: the listener is frozen and its queue accepted. */
static void drain_on_loop(struct loop *l, void *ctx)
{
	struct app_io *io = ctx;

	(void)l;
	http_server_drain(io->srv, APP_TAG_APP);
}

static int open_listener(const char *spec, char *bound, size_t cap, struct err *e)
{
	struct net_addr a;
	int fd;

	if (net_addr_parse(spec, &a, e) == -1)
		return -1;
	fd = net_listen(&a, APP_BACKLOG, e);
	if (fd != -1)
		net_local_addr(fd, bound, cap);
	return fd;
}

static int start_io(struct app *a, struct app_io *io, int app_fd, int metrics_fd,
    struct err *e)
{
	struct http_server_cfg hc;

	http_server_cfg_defaults(&hc);
	hc.max_requests_per_conn = a->cfg.max_requests_per_conn;
	hc.max_conns = a->cfg.max_conns;
	hc.idle_timeout_ms = a->cfg.idle_timeout_ms;
	hc.read_timeout_ms = a->cfg.read_timeout_ms;
	hc.server_header = "poolscale-app/" POOLSCALE_VERSION;
	hc.handler = app_handle;
	hc.done = app_stats_done;
	hc.ctx = a;
	io->app = a;
	io->loop = loop_new(e);
	if (io->loop == NULL)
		return -1;
	io->srv = http_server_new(io->loop, &hc, e);
	if (io->srv == NULL)
		return -1;
	if (http_server_listen(io->srv, app_fd, APP_TAG_APP, e) == -1)
		return -1;
	if (metrics_fd != -1 && http_server_listen(io->srv, metrics_fd, APP_TAG_METRICS, e) == -1)
		return -1;
	if (pthread_create(&io->thread, NULL, io_thread, io) != 0)
		return err_set(e, "pthread_create: %s", strerror(errno));
	io->running = true;
	return 0;
}

static void stop_io(struct app_io *io, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (io[i].running)
			loop_stop(io[i].loop);
	for (unsigned i = 0; i < n; i++) {
		if (io[i].running)
			pthread_join(io[i].thread, NULL);
		http_server_free(io[i].srv);
		loop_free(io[i].loop);
	}
}

static bool drained(struct app *a, struct app_io *io, unsigned n)
{
	int open = 0;

	for (unsigned i = 0; i < n; i++)
		open += http_server_open_conns(io[i].srv, APP_TAG_APP);
	return open == 0 && atomic_load(&a->stats.in_flight) == 0;
}

enum wait_end { WAIT_DONE = 0, WAIT_DEADLINE, WAIT_SIGNAL };

/* Polls done() (NULL: never done) until it holds, deadline_ms passes or
 * a second signal comes; the poll interval doubles as the signal wait. */
static enum wait_end wait_for(bool (*done)(void *), void *arg, int64_t deadline_ms,
    const sigset_t *set)
{
	struct timespec poll = { 0, APP_DRAIN_POLL_MS * 1000000L };

	while (done == NULL || !done(arg)) {
		int64_t left = deadline_ms - clock_mono_ms();

		if (left <= 0)
			return WAIT_DEADLINE;
		if (left < APP_DRAIN_POLL_MS)
			poll.tv_nsec = left * 1000000L;
		if (sigtimedwait(set, NULL, &poll) > 0)
			return WAIT_SIGNAL;
	}
	return WAIT_DONE;
}

struct drain_state {
	struct app *a;
	struct app_io *io;
	unsigned n;
	int listen_fd;
};

static bool backlog_empty(void *p)
{
	const struct drain_state *d = p;

	return !net_listen_has_pending(d->listen_fd);
}

static bool all_answered(void *p)
{
	const struct drain_state *d = p;

	return drained(d->a, d->io, d->n);
}

static int cut_short(struct app *a, enum wait_end why)
{
	if (why == WAIT_SIGNAL)
		log_msg(LOG_WARN, "second signal: not waiting for requests in flight",
		    "in_flight=%ld", (long)atomic_load(&a->stats.in_flight));
	else
		log_msg(LOG_WARN, "drain timeout", "in_flight=%ld",
		    (long)atomic_load(&a->stats.in_flight));
	return -1;
}

/* Waits for SIGTERM or SIGINT, then shuts down without losing a
 * connection the kernel accepted for us:
 *   1. /health answers 503 while the app keeps accepting and serving for
 *      --shutdown-delay, so load balancers see it leave before it does;
 *   2. the listener is frozen (no new connection completes; their clients
 *      are refused once it closes) and the loops accept the queue;
 *   3. the loops drain: requests in flight finish, idle keep-alive
 *      connections close, and a connection that has not sent its first
 *      request yet gets the read timeout to send it (http_server_drain).
 * Closing the listener while connections wait in its queue would reset
 * them. 0 when every request was answered, -1 when --drain-timeout or a
 * second signal cut it short. */
static int serve_until_signal(struct app *a, struct app_io *io, unsigned n, int listen_fd)
{
	struct drain_state d = { a, io, n, listen_fd };
	sigset_t set;
	int sig;
	int64_t deadline;
	enum wait_end w;
	struct err e;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	do {
		sig = sigwaitinfo(&set, NULL);
	} while (sig == -1 && errno == EINTR);
	log_msg(LOG_INFO, "draining", "signal=%s in_flight=%ld shutdown_delay_ms=%lld "
	    "timeout_ms=%lld", strsignal(sig), (long)atomic_load(&a->stats.in_flight),
	    (long long)a->cfg.shutdown_delay_ms, (long long)a->cfg.drain_timeout_ms);
	atomic_store(&a->draining, true);
	w = wait_for(NULL, NULL, clock_mono_ms() + a->cfg.shutdown_delay_ms, &set);
	if (w == WAIT_SIGNAL)
		return cut_short(a, w);
	if (net_listen_freeze(listen_fd, &e) == -1)
		log_msg(LOG_WARN, "listener not frozen: connections arriving now may be reset",
		    "error=%s", e.msg);
	deadline = clock_mono_ms() + a->cfg.drain_timeout_ms;
	w = wait_for(backlog_empty, &d, deadline, &set);
	if (w != WAIT_DONE)
		return cut_short(a, w);
	log_msg(LOG_INFO, "stopped accepting", "in_flight=%ld",
	    (long)atomic_load(&a->stats.in_flight));
	for (unsigned i = 0; i < n; i++)
		if (loop_post(io[i].loop, drain_on_loop, &io[i]) == -1)
			return cut_short(a, WAIT_DEADLINE);
	w = wait_for(all_answered, &d, deadline, &set);
	return w == WAIT_DONE ? 0 : cut_short(a, w);
}

int app_main(int argc, char **argv)
{
	struct app *a;
	struct app_io *io;
	struct err e = { "" };
	char metrics_addr[80] = "off";
	int app_fd, metrics_fd = -1, rc;
	sigset_t set;

	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return 1;
	rc = app_cfg_parse(argc, argv, &a->cfg, &e);
	if (rc != 0) {
		if (rc == 1)
			app_usage(stdout);
		else
			fprintf(stderr, "poolscale app: %s\n", e.msg);
		free(a);
		return rc == 1 ? 0 : 2;
	}
	log_setup("app", a->cfg.log_level);
	/* Signals are taken by sigwaitinfo() in this thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	a->start_mono_ms = clock_mono_ms();
	a->start_unix_s = (double)clock_wall_unix_ms() / 1000.0;
	pthread_mutex_init(&a->nodecpu_mu, NULL);
	app_fd = open_listener(a->cfg.listen, a->addr, sizeof(a->addr), &e);
	if (app_fd == -1) {
		fprintf(stderr, "poolscale app: --listen %s: %s\n", a->cfg.listen, e.msg);
		free(a);
		return 1;
	}
	if (a->cfg.metrics_listen[0] != '\0') {
		metrics_fd = open_listener(a->cfg.metrics_listen, metrics_addr,
		    sizeof(metrics_addr), &e);
		if (metrics_fd == -1) {
			fprintf(stderr, "poolscale app: --metrics-listen %s: %s\n",
			    a->cfg.metrics_listen, e.msg);
			close(app_fd);
			free(a);
			return 1;
		}
	}
	io = calloc(a->cfg.io_threads, sizeof(*io));
	a->pool = workpool_new(a->cfg.threads, a->cfg.max_queue, &e);
	rc = io && a->pool ? 0 : -1;
	for (unsigned i = 0; rc == 0 && i < a->cfg.io_threads; i++)
		rc = start_io(a, &io[i], app_fd, metrics_fd, &e);
	if (rc == -1) {
		fprintf(stderr, "poolscale app: %s\n", e.msg[0] ? e.msg : "out of memory");
		rc = 1;
		goto out;
	}
	log_msg(LOG_INFO, "listening", "addr=%s metrics=%s vcpu=%g work_ms=%g "
	    "boot_delay_ms=%lld threads=%u io_threads=%u pid=%ld", a->addr, metrics_addr,
	    a->cfg.vcpu, a->cfg.work_ms, (long long)a->cfg.boot_delay_ms, a->cfg.threads,
	    a->cfg.io_threads, (long)getpid());
	if (serve_until_signal(a, io, a->cfg.io_threads, app_fd) == -1) {
		/* Workers may still hold connections of the loops: leave without
		 * tearing down what they use. */
		_exit(1);
	}
	rc = 0;
out:
	if (io != NULL)
		stop_io(io, a->cfg.io_threads);
	workpool_free(a->pool);
	free(io);
	close(app_fd);
	if (metrics_fd != -1)
		close(metrics_fd);
	pthread_mutex_destroy(&a->nodecpu_mu);
	if (rc == 0)
		log_msg(LOG_INFO, "stopped", "addr=%s", a->addr);
	free(a);
	return rc;
}
