/* `poolscale lb`: flags, start-up, the control loop, metrics, signals. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/opts.h"
#include "common/sigwatch.h"
#include "lb/check.h"
#include "lb/hproxy.h"
#include "lb/metrics.h"
#include "lb/lb.h"
#include "lb/proxy.h"

#define LB_MAX_STATIC 64
#define LB_RELOAD_MS 250

struct lb_cfg {
	char listen[96];
	char metrics_listen[96];	/* "" off */
	char targets_file[1024];
	const char *statics[LB_MAX_STATIC];
	int nstatic;
	enum lb_strategy strategy;
	bool strategy_set;
	bool http;			/* --mode http */
	struct lb_http_cfg hcfg;
	struct lb_check_cfg check;
	int64_t drain_timeout_ms, connect_timeout_ms;
	int max_conns;
	int threads;
	enum log_level log_level;
};

struct lb_ctl {
	struct lb_cfg cfg;
	struct lb_pool pool;
	struct lb_counters counters;
	struct loop *loop;
	struct stat targets_st;
	bool targets_seen;
	double start_unix_s;
	/* Stopping: what is open finishes first. */
	struct sigwatch_hook sig;
	struct lb_stop stop;
	void **workers;			/* struct lb_worker or lb_hworker */
	pthread_t *threads;
	bool *joined;			/* threads[i] ended and was joined */
	int nworkers;
	int64_t finish_deadline_ms;
	bool cut;			/* requests in flight were cut: exit 1 */
};

#define LB_FINISH_TICK_MS 50

/* After SIGTERM, on the main loop (health checks, reloads and /metrics go
 * on): are the workers done? They end once nothing is open (struct
 * lb_stop); past --drain-timeout what is left is cut. */
static int64_t finish_tick(struct loop *l, void *ctx)
{
	struct lb_ctl *lc = ctx;
	int left = 0;

	for (int i = 0; i < lc->nworkers; i++) {
		if (!lc->joined[i] && pthread_tryjoin_np(lc->threads[i], NULL) == 0)
			lc->joined[i] = true;
		left += !lc->joined[i];
	}
	if (left == 0) {
		log_msg(LOG_INFO, lc->cfg.http ? "requests in flight answered" :
		    "open connections finished", "threads=%d", lc->nworkers);
		loop_stop(l);
		return LOOP_TIMER_STOP;
	}
	if (loop_now_ms(l) >= lc->finish_deadline_ms) {
		int in_flight = atomic_load(&lc->counters.in_flight);
		int open = atomic_load(&lc->counters.open);

		/* Cut: something open, or a listener queue not yet taken (reset
		 * when it closes). A worker about to end with nothing is not. */
		lc->cut = in_flight > 0 || open > 0 ||
		    atomic_load(&lc->stop.released) < lc->nworkers;
		if (lc->cut)
			log_msg(LOG_WARN, "drain timeout: closing what is left",
			    "in_flight=%d open=%d", in_flight, open);
		loop_stop(l);
		return LOOP_TIMER_STOP;
	}
	return LB_FINISH_TICK_MS;
}

/* SIGTERM or SIGINT: what is open finishes first (finish_tick): HTTP mode
 * answers the requests in flight, TCP mode lets each connection run until a
 * side closes it. A second signal cuts that short. */
static void on_stop(void *ctx, int n)
{
	struct lb_ctl *lc = ctx;

	if (n > 1) {
		log_msg(LOG_WARN, "second signal: closing what is left", "in_flight=%d open=%d",
		    atomic_load(&lc->counters.in_flight), atomic_load(&lc->counters.open));
		lc->cut = true;
		loop_stop(lc->loop);
		return;
	}
	atomic_store(&lc->stop.requested, true);
	for (int i = 0; i < lc->nworkers; i++) {
		if (lc->cfg.http)
			lb_hworker_stop(lc->workers[i]);
		else
			lb_worker_stop(lc->workers[i]);
	}
	lc->finish_deadline_ms = loop_now_ms(lc->loop) + lc->cfg.drain_timeout_ms;
	log_msg(LOG_INFO, lc->cfg.http ? "finishing requests in flight" :
	    "finishing open connections", "in_flight=%d open=%d timeout_ms=%lld",
	    atomic_load(&lc->counters.in_flight), atomic_load(&lc->counters.open),
	    (long long)lc->cfg.drain_timeout_ms);
	if (loop_add_timer(lc->loop, LB_FINISH_TICK_MS, finish_tick, lc) == 0) {
		lc->cut = true;
		loop_stop(lc->loop);
	}
}

static void usage(FILE *f)
{
	fputs(
"Usage: poolscale lb --listen ADDR:PORT (--targets-file FILE | --target ADDR:PORT...) [OPTIONS]\n"
"\n"
"A load balancer that follows a pool: backends come from a Prometheus\n"
"file_sd file (reloaded when it changes; a bad file keeps the last good set)\n"
"and/or --target; new work goes to healthy members only; a member that\n"
"leaves or fails its checks finishes what it has for --drain-timeout.\n"
"--mode tcp (default) balances connections; --mode http is an HTTP/1.1\n"
"reverse proxy that balances every request on its own over pooled\n"
"keep-alive backend connections, retries requests that never reached a\n"
"backend, and answers 502/503/504 like haproxy.\n"
"\n"
"Options:\n"
"  --listen ADDR:PORT        where clients connect (default 127.0.0.1:8000)\n"
"  --mode tcp|http           layer 4 (default) or per-request HTTP balancing\n"
"  --targets-file FILE       file_sd JSON, as `poolscale controller` writes it\n"
"  --target ADDR:PORT        a fixed backend (repeatable)\n"
"  --strategy NAME           roundrobin, leastconn (fewest connections; in\n"
"                            http mode fewest requests in flight) or p2c (the\n"
"                            less busy of two random backends); default\n"
"                            roundrobin for tcp, leastconn for http\n"
"  --check KIND              tcp (default), http:/PATH, or none\n"
"  --check-interval DUR      default 2s\n"
"  --check-timeout DUR       default 1s\n"
"  --rise N                  good checks to come back (default 2)\n"
"  --fall N                  failed checks to be ejected (default 3)\n"
"  --drain-timeout DUR       how long a removed backend's connections (tcp)\n"
"                            or requests in flight (http) may go on, and how\n"
"                            long SIGTERM waits for them (30s)\n"
"  --connect-timeout DUR     per backend connect attempt (default 3s)\n"
"  --max-conns N             client connections at once (default 10000)\n"
"  --metrics-listen ADDR:PORT  /metrics (default off)\n"
"  --threads N               worker event loops (default: online CPUs)\n"
"  --log-level LEVEL         error, warn, info or debug\n"
"HTTP mode:\n"
"  --max-head-bytes N        request head limit, 431 above (default 8192, max 16384)\n"
"  --max-body-bytes N        request body limit, 413 above (default 0: none)\n"
"  --request-timeout DUR     a request head must arrive in this, else 408 (10s)\n"
"  --idle-timeout DUR        client keep-alive between requests (60s)\n"
"  --client-timeout DUR      client stalls sending a body or reading (30s)\n"
"  --server-timeout DUR      backend silent before or inside a response:\n"
"                            504 before it (default 30s)\n"
"  --pool-idle-timeout DUR   an unused pooled backend connection is closed (10s)\n"
"  --hold-when-empty DUR     while no backend is healthy, hold requests up to\n"
"                            DUR for one to come (scale from zero; default 0:\n"
"                            503 at once)\n"
"  --hold-max N              requests held at once, 503 beyond (default 1000)\n"
"  -h, --help                this text\n"
"\n"
"On SIGTERM or SIGINT it stops taking connections (new ones are refused)\n"
"and lets what is open finish, for at most --drain-timeout: tcp mode waits\n"
"for a side to close each connection; http mode closes idle keep-alive and\n"
"answers the requests in flight. Exit 0, or 1 when the timeout or a second\n"
"signal cut that short.\n", f);
}

enum {
	O_LISTEN = 256, O_TARGETS, O_TARGET, O_STRATEGY, O_CHECK, O_CHECK_INT, O_CHECK_TO,
	O_RISE, O_FALL, O_DRAIN, O_CONNECT_TO, O_MAX_CONNS, O_METRICS, O_THREADS, O_LOG,
	O_MODE, O_MAX_HEAD, O_MAX_BODY, O_REQ_TO, O_IDLE_TO, O_CLIENT_TO, O_SERVER_TO, O_POOL_TO,
	O_HOLD, O_HOLD_MAX,
};

static const struct option options[] = {
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "targets-file", required_argument, NULL, O_TARGETS },
	{ "target", required_argument, NULL, O_TARGET },
	{ "strategy", required_argument, NULL, O_STRATEGY },
	{ "check", required_argument, NULL, O_CHECK },
	{ "check-interval", required_argument, NULL, O_CHECK_INT },
	{ "check-timeout", required_argument, NULL, O_CHECK_TO },
	{ "rise", required_argument, NULL, O_RISE },
	{ "fall", required_argument, NULL, O_FALL },
	{ "drain-timeout", required_argument, NULL, O_DRAIN },
	{ "connect-timeout", required_argument, NULL, O_CONNECT_TO },
	{ "max-conns", required_argument, NULL, O_MAX_CONNS },
	{ "metrics-listen", required_argument, NULL, O_METRICS },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "log-level", required_argument, NULL, O_LOG },
	{ "mode", required_argument, NULL, O_MODE },
	{ "max-head-bytes", required_argument, NULL, O_MAX_HEAD },
	{ "max-body-bytes", required_argument, NULL, O_MAX_BODY },
	{ "request-timeout", required_argument, NULL, O_REQ_TO },
	{ "idle-timeout", required_argument, NULL, O_IDLE_TO },
	{ "client-timeout", required_argument, NULL, O_CLIENT_TO },
	{ "server-timeout", required_argument, NULL, O_SERVER_TO },
	{ "pool-idle-timeout", required_argument, NULL, O_POOL_TO },
	{ "hold-when-empty", required_argument, NULL, O_HOLD },
	{ "hold-max", required_argument, NULL, O_HOLD_MAX },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int set_int(int *dst, const char *v, int64_t min, int64_t max, struct err *e)
{
	int64_t n;

	if (parse_int64(v, min, max, &n, e) == -1)
		return -1;
	*dst = (int)n;
	return 0;
}

static int parse_flags(int argc, char **argv, struct lb_cfg *c, struct err *e)
{
	struct err pe = { "" };
	struct net_addr a;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int opt, rc = 0;
	bool hold_set = false;

	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8000");
	c->check.kind = LB_CHECK_TCP;
	c->check.interval_ms = 2000;
	c->check.timeout_ms = 1000;
	c->check.rise = 2;
	c->check.fall = 3;
	c->drain_timeout_ms = 30000;
	c->connect_timeout_ms = 3000;
	c->max_conns = 10000;
	c->hcfg = (struct lb_http_cfg){ .max_head_bytes = 8192, .max_body_bytes = 0,
	    .request_timeout_ms = 10000, .idle_timeout_ms = 60000, .client_timeout_ms = 30000,
	    .server_timeout_ms = 30000, .pool_idle_timeout_ms = 10000, .hold_ms = 0,
	    .hold_max = 1000 };
	c->threads = ncpu > 0 ? (int)ncpu : 1;
	c->log_level = LOG_INFO;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		const char *v = optarg;

		switch (opt) {
		case 'h':
			return 1;
		case O_LISTEN:
		case O_METRICS: {
			char *dst = opt == O_LISTEN ? c->listen : c->metrics_listen;

			if (strlen(v) >= sizeof(c->listen))
				rc = err_set(&pe, "too long");
			else if (opt == O_METRICS && strcmp(v, "off") == 0)
				dst[0] = '\0';
			else if ((rc = net_addr_parse(v, &a, &pe)) == 0)
				snprintf(dst, sizeof(c->listen), "%s", v);
			break;
		}
		case O_TARGETS:
			if (strlen(v) >= sizeof(c->targets_file))
				rc = err_set(&pe, "too long");
			else
				snprintf(c->targets_file, sizeof(c->targets_file), "%s", v);
			break;
		case O_TARGET:
			if (c->nstatic == LB_MAX_STATIC)
				rc = err_set(&pe, "more than %d", LB_MAX_STATIC);
			else if ((rc = net_addr_parse(v, &a, &pe)) == 0)
				c->statics[c->nstatic++] = v;
			break;
		case O_STRATEGY:
			c->strategy_set = true;
			if (strcmp(v, "roundrobin") == 0)
				c->strategy = LB_ROUNDROBIN;
			else if (strcmp(v, "leastconn") == 0)
				c->strategy = LB_LEASTCONN;
			else if (strcmp(v, "p2c") == 0)
				c->strategy = LB_P2C;
			else
				rc = err_set(&pe, "\"%s\" is not roundrobin, leastconn or p2c", v);
			break;
		case O_MODE:
			if (strcmp(v, "tcp") == 0 || strcmp(v, "http") == 0)
				c->http = strcmp(v, "http") == 0;
			else
				rc = err_set(&pe, "\"%s\" is not tcp or http", v);
			break;
		case O_MAX_HEAD: {
			int64_t n;

			if ((rc = parse_int64(v, 256, 16384, &n, &pe)) == 0)
				c->hcfg.max_head_bytes = (size_t)n;
			break;
		}
		case O_MAX_BODY: {
			int64_t n;

			if ((rc = parse_int64(v, 0, INT64_MAX, &n, &pe)) == 0)
				c->hcfg.max_body_bytes = (uint64_t)n;
			break;
		}
		case O_REQ_TO:
			rc = parse_duration_ms(v, 10, 3600000, &c->hcfg.request_timeout_ms, &pe);
			break;
		case O_IDLE_TO:
			rc = parse_duration_ms(v, 10, 86400000, &c->hcfg.idle_timeout_ms, &pe);
			break;
		case O_CLIENT_TO:
			rc = parse_duration_ms(v, 10, 86400000, &c->hcfg.client_timeout_ms, &pe);
			break;
		case O_SERVER_TO:
			rc = parse_duration_ms(v, 10, 86400000, &c->hcfg.server_timeout_ms, &pe);
			break;
		case O_POOL_TO:
			rc = parse_duration_ms(v, 10, 86400000, &c->hcfg.pool_idle_timeout_ms, &pe);
			break;
		case O_HOLD:
			rc = parse_duration_ms(v, 0, 3600000, &c->hcfg.hold_ms, &pe);
			hold_set = true;
			break;
		case O_HOLD_MAX:
			rc = set_int(&c->hcfg.hold_max, v, 1, 10000000, &pe);
			break;
		case O_CHECK:
			if (strcmp(v, "tcp") == 0) {
				c->check.kind = LB_CHECK_TCP;
			} else if (strcmp(v, "none") == 0) {
				c->check.kind = LB_CHECK_NONE;
			} else if (strncmp(v, "http:/", 6) == 0 && strlen(v) < sizeof(c->check.path) + 5) {
				c->check.kind = LB_CHECK_HTTP;
				snprintf(c->check.path, sizeof(c->check.path), "%s", v + 5);
			} else {
				rc = err_set(&pe, "\"%s\" is not tcp, http:/PATH or none", v);
			}
			break;
		case O_CHECK_INT:
			rc = parse_duration_ms(v, 50, 3600000, &c->check.interval_ms, &pe);
			break;
		case O_CHECK_TO:
			rc = parse_duration_ms(v, 10, 3600000, &c->check.timeout_ms, &pe);
			break;
		case O_RISE:
			rc = set_int(&c->check.rise, v, 1, 1000, &pe);
			break;
		case O_FALL:
			rc = set_int(&c->check.fall, v, 1, 1000, &pe);
			break;
		case O_DRAIN:
			rc = parse_duration_ms(v, 0, 86400000, &c->drain_timeout_ms, &pe);
			break;
		case O_CONNECT_TO:
			rc = parse_duration_ms(v, 10, 600000, &c->connect_timeout_ms, &pe);
			break;
		case O_MAX_CONNS:
			rc = set_int(&c->max_conns, v, 1, 10000000, &pe);
			break;
		case O_THREADS:
			rc = set_int(&c->threads, v, 1, 256, &pe);
			break;
		case O_LOG:
			if (log_level_parse(v, &c->log_level) == -1)
				rc = err_set(&pe, "\"%s\" is not error, warn, info or debug", v);
			break;
		default:
			return opts_reject(opt, argv, "lb", e);
		}
		if (rc == -1)
			return err_set(e, "--%s: %s", opts_name(options, opt), pe.msg);
	}
	if (opts_no_operands(argc, argv, "lb", e) == -1)
		return -1;
	if (c->targets_file[0] == '\0' && c->nstatic == 0)
		return err_set(e, "give --targets-file FILE or --target ADDR:PORT (see --help)");
	if (hold_set && !c->http)
		return err_set(e, "--hold-when-empty needs --mode http");
	if (c->http && !c->strategy_set)
		c->strategy = LB_LEASTCONN;	/* fewest requests in flight */
	if (c->check.timeout_ms >= c->check.interval_ms)
		return err_set(e, "--check-timeout must be below --check-interval");
	return 0;
}

/* Reloads the targets file when it changed (inode, size or mtime: the
 * controller replaces it by rename). A bad file keeps the last good set. */
static int64_t reload(struct loop *l, void *ctx)
{
	struct lb_ctl *lc = ctx;
	struct stat st;
	struct lb_targets t;
	struct buf b;
	struct err e;
	int added, removed;

	if (stat(lc->cfg.targets_file, &st) == -1) {
		if (!lc->targets_seen)
			return LB_RELOAD_MS;
		lc->targets_seen = false;
		log_msg(LOG_WARN, "targets file gone: keeping the last set", "file=%s error=%s",
		    lc->cfg.targets_file, strerror(errno));
		return LB_RELOAD_MS;
	}
	if (lc->targets_seen && st.st_ino == lc->targets_st.st_ino &&
	    st.st_size == lc->targets_st.st_size &&
	    st.st_mtim.tv_sec == lc->targets_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == lc->targets_st.st_mtim.tv_nsec)
		return LB_RELOAD_MS;
	lc->targets_st = st;
	lc->targets_seen = true;
	buf_init(&b, 4 << 20);
	if (file_read_all(lc->cfg.targets_file, &b, NULL, &e) == -1 ||
	    lb_targets_parse(b.p ? b.p : "", b.len, &t, &e) == -1) {
		log_msg(LOG_ERROR, "bad targets file: keeping the last good set", "file=%s error=%s",
		    lc->cfg.targets_file, e.msg);
		buf_fini(&b);
		return LB_RELOAD_MS;
	}
	buf_fini(&b);
	if (lb_pool_set_targets(&lc->pool, &t, loop_now_ms(l), &added, &removed, &e) == -1)
		log_msg(LOG_ERROR, "could not apply the targets", "error=%s", e.msg);
	else if (added || removed)
		log_msg(LOG_INFO, "targets changed", "file=%s added=%d removed=%d total=%zu",
		    lc->cfg.targets_file, added, removed, t.n);
	lb_targets_free(&t);
	return LB_RELOAD_MS;
}

static enum http_handled metrics_handle(void *ctx, struct http_conn *conn,
    const struct http_request *req, struct slice body)
{
	struct lb_ctl *lc = ctx;
	struct buf b;

	(void)body;
	if (!slice_eq(req->path, "/metrics")) {
		http_respond_error(conn, 404, "not found");
		return HTTP_HANDLED_DONE;
	}
	buf_init(&b, 4 << 20);
	lb_metrics_render(&(struct lb_metrics_src){ .pool = &lc->pool,
	    .counters = &lc->counters, .http = lc->cfg.http,
	    .start_unix_s = lc->start_unix_s }, &b);
	http_respond(conn, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.p, b.len);
	buf_fini(&b);
	return HTTP_HANDLED_DONE;
}

static void worker_free(const struct lb_ctl *lc, void *w)
{
	if (lc->cfg.http)
		lb_hworker_free(w);
	else
		lb_worker_free(w);
}

int lb_main(int argc, char **argv)
{
	struct lb_ctl *lc = calloc(1, sizeof(*lc));
	void **workers = NULL;
	pthread_t *threads = NULL;
	bool *joined = NULL;
	struct lb_checker *ck = NULL;
	struct http_server *ms = NULL;
	struct http_server_cfg hc;
	struct lb_proxy_cfg pc;
	struct net_addr a;
	struct err e = { "" };
	char bound[80], mbound[80] = "off";
	int rc, lfd = -1, mfd = -1, sfd = -1, started = 0;

	if (lc == NULL)
		return 1;
	rc = parse_flags(argc, argv, &lc->cfg, &e);
	if (rc != 0) {
		if (rc == 1)
			usage(stdout);
		else
			fprintf(stderr, "poolscale lb: %s\n", e.msg);
		free(lc);
		return rc == 1 ? 0 : 2;
	}
	log_setup("lb", lc->cfg.log_level);
	lc->start_unix_s = (double)clock_wall_unix_ms() / 1000.0;
	rc = 1;
	if (lb_pool_init(&lc->pool, lc->cfg.strategy) == -1) {
		free(lc);
		return 1;
	}
	for (int i = 0; i < lc->cfg.nstatic; i++)
		if (lb_pool_add_static(&lc->pool, lc->cfg.statics[i], &e) == -1)
			goto out;
	lc->loop = loop_new(&e);
	if (lc->loop == NULL)
		goto out;
	if (net_addr_parse(lc->cfg.listen, &a, &e) == -1 || (lfd = net_listen(&a, LB_BACKLOG, &e)) == -1)
		goto out;
	net_local_addr(lfd, bound, sizeof(bound));
	if (lc->cfg.metrics_listen[0]) {
		if (net_addr_parse(lc->cfg.metrics_listen, &a, &e) == -1 ||
		    (mfd = net_listen(&a, 128, &e)) == -1)
			goto out;
		net_local_addr(mfd, mbound, sizeof(mbound));
		http_server_cfg_defaults(&hc);
		hc.server_header = "poolscale-lb/" POOLSCALE_VERSION;
		hc.handler = metrics_handle;
		hc.ctx = lc;
		ms = http_server_new(lc->loop, &hc, &e);
		if (ms == NULL || http_server_listen(ms, mfd, 0, &e) == -1)
			goto out;
	}
	lc->sig = (struct sigwatch_hook){ .on_stop = on_stop, .ctx = lc, .stopping = "stopping" };
	sfd = sigwatch_start_hook(lc->loop, &lc->sig, &e);
	if (sfd == -1)
		goto out;
	if (lc->cfg.targets_file[0]) {
		reload(lc->loop, lc);
		if (loop_add_timer(lc->loop, LB_RELOAD_MS, reload, lc) == 0)
			goto out;
	}
	ck = lb_checker_new(lc->loop, &lc->pool, &lc->cfg.check, &e);
	if (ck == NULL)
		goto out;
	pc = (struct lb_proxy_cfg){ .pool = &lc->pool, .counters = &lc->counters,
	    .listen_fd = lfd, .max_conns = lc->cfg.max_conns,
	    .connect_timeout_ms = lc->cfg.connect_timeout_ms,
	    .drain_timeout_ms = lc->cfg.drain_timeout_ms, .http = lc->cfg.hcfg,
	    .stop = &lc->stop };
	workers = calloc((size_t)lc->cfg.threads, sizeof(*workers));
	threads = calloc((size_t)lc->cfg.threads, sizeof(*threads));
	joined = calloc((size_t)lc->cfg.threads, sizeof(*joined));
	if (workers == NULL || threads == NULL || joined == NULL)
		goto out;
	lc->workers = workers;
	lc->threads = threads;
	lc->joined = joined;
	lc->stop.workers = lc->cfg.threads;
	for (; started < lc->cfg.threads; started++) {
		workers[started] = lc->cfg.http ? (void *)lb_hworker_new(&pc, &e) :
		    (void *)lb_worker_new(&pc, &e);
		if (workers[started] == NULL)
			goto out;
		if (pthread_create(&threads[started], NULL,
		    lc->cfg.http ? lb_hworker_run : lb_worker_run, workers[started]) != 0) {
			worker_free(lc, workers[started]);
			workers[started] = NULL;
			err_set(&e, "pthread_create failed");
			goto out;
		}
	}
	log_msg(LOG_INFO, "listening", "addr=%s metrics=%s mode=%s strategy=%s check=%s "
	    "targets_file=%s static=%d threads=%d pid=%ld", bound, mbound,
	    lc->cfg.http ? "http" : "tcp", lb_strategy_name(lc->cfg.strategy),
	    lc->cfg.check.kind == LB_CHECK_HTTP ? lc->cfg.check.path :
	    lc->cfg.check.kind == LB_CHECK_TCP ? "tcp" : "none",
	    lc->cfg.targets_file[0] ? lc->cfg.targets_file : "none", lc->cfg.nstatic,
	    lc->cfg.threads, (long)getpid());
	lc->nworkers = started;
	if (loop_run(lc->loop, &e) == 0)
		rc = lc->cut ? 1 : 0;
out:
	if (rc != 0 && e.msg[0])
		fprintf(stderr, "poolscale lb: %s\n", e.msg);
	for (int i = 0; i < started; i++)
		if (!joined[i])
			loop_stop(lc->cfg.http ? lb_hworker_loop(workers[i]) :
			    lb_worker_loop(workers[i]));
	for (int i = 0; i < started; i++) {
		if (!joined[i])
			pthread_join(threads[i], NULL);
		worker_free(lc, workers[i]);
	}
	free(workers);
	free(threads);
	free(joined);
	lb_checker_free(ck);
	http_server_free(ms);
	sigwatch_stop(lc->loop, sfd);
	loop_free(lc->loop);
	/* The last worker to let go of the listener closed it (lb_stop). */
	if (lfd != -1 && (lc->stop.workers == 0 ||
	    atomic_load(&lc->stop.released) < lc->stop.workers))
		close(lfd);
	if (mfd != -1)
		close(mfd);
	lb_pool_fini(&lc->pool);
	free(lc);
	return rc;
}
