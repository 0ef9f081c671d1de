/* app/app.h: `poolscale app`, the deliberately slow web app that runs on
 * every instance of the pool. Its configuration (from flags), its shared
 * state, and the entry points of its modules: flags.c parses, routes.c
 * answers requests, stats.c counts and renders metrics, app.c runs it all. */
#ifndef POOLSCALE_APP_APP_H
#define POOLSCALE_APP_APP_H

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/nodecpu.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/workpool.h"

/* Listener tags. */
enum { APP_TAG_APP = 0, APP_TAG_METRICS = 1 };

enum app_path {
	APP_PATH_LOAD = 0,
	APP_PATH_HEALTH,
	APP_PATH_METRICS,
	APP_PATH_ROOT,
	APP_PATH_OTHER,
	APP_PATH_N,
};

#define APP_DUR_BUCKETS 14
#define APP_STATUS_MAX 600
#define APP_SHUTDOWN_DELAY_MAX_MS 3600000

struct app_cfg {
	char listen[96];
	char metrics_listen[96];	/* "" when off */
	double work_ms;
	double max_work_ms;
	double vcpu;
	int64_t boot_delay_ms;
	unsigned max_requests_per_conn;	/* 0: unlimited */
	unsigned threads;		/* workers burning CPU for /load */
	unsigned io_threads;		/* event loops serving HTTP */
	unsigned max_queue;		/* /load jobs waiting; beyond: 503 */
	unsigned max_conns;
	int64_t shutdown_delay_ms;	/* on SIGTERM: 503 on /health, still serving */
	int64_t drain_timeout_ms;
	int64_t idle_timeout_ms;
	int64_t read_timeout_ms;
	enum log_level log_level;
};

struct app_stats {
	atomic_uint_fast64_t requests[APP_PATH_N][APP_STATUS_MAX];
	atomic_uint_fast64_t dur_buckets[APP_PATH_N][APP_DUR_BUCKETS + 1];
	atomic_uint_fast64_t dur_sum_ns[APP_PATH_N];
	atomic_uint_fast64_t received;		/* /load received, whatever the answer */
	atomic_int_fast64_t queued;		/* /load waiting for a worker */
	atomic_int_fast64_t in_flight;		/* /load accepted, not yet answered */
	atomic_uint_fast64_t load_cpu_ns;	/* CPU burned by /load */
	atomic_uint_fast64_t overloaded;	/* /load refused: queue full */
};

struct app_io;

struct app {
	struct app_cfg cfg;
	char addr[80];			/* the app listener, as bound */
	int64_t start_mono_ms;
	double start_unix_s;
	atomic_bool draining;
	struct workpool *pool;
	struct app_stats stats;
	pthread_mutex_t nodecpu_mu;
	struct nodecpu_state nodecpu;
};

/* flags.c. Returns 0, 1 after printing --help, or -1 with e set. */
int app_cfg_parse(int argc, char **argv, struct app_cfg *cfg, struct err *e);
void app_usage(FILE *f);

/* routes.c: the request handler; ctx is the struct app. */
enum http_handled app_handle(void *ctx, struct http_conn *c,
    const struct http_request *req, struct slice body);
enum app_path app_path_of(struct slice path);
bool app_is_booting(const struct app *a);

/* stats.c */
void app_stats_done(void *ctx, int tag, const struct http_request *req, int status,
    int64_t dur_ns);
void app_render_metrics(struct app *a, struct buf *b, bool node_cpu);

/* app.c */
int app_main(int argc, char **argv);

#endif
