/* lb/pool.h: the balancer's backends, shared by its worker loops and its
 * control loop: membership (targets file, static list), health, counters,
 * and the pick of a backend for a new connection. Membership and health
 * change under one mutex on the control loop; workers take it for a pick
 * (a few hundred ns) and touch counters atomically. Backends are never
 * freed while the balancer runs: a removed address keeps its counters and
 * is reused if it comes back.
 * Not here: sockets (lb/proxy.c), checks (lb/check.c). */
#ifndef POOLSCALE_LB_POOL_H
#define POOLSCALE_LB_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/net.h"
#include "lb/balance.h"
#include "lb/health.h"
#include "lb/targets.h"

/* Per-request counters of the HTTP mode, for one backend or the listener. */
#define LB_DURATION_BUCKETS 12
extern const double lb_duration_bounds_s[LB_DURATION_BUCKETS];

struct lb_req_stats {
	atomic_uint_fast64_t by_class[6];	/* [0] no status (aborted), [1..5] 1xx..5xx */
	atomic_uint_fast64_t duration[LB_DURATION_BUCKETS + 1];	/* not cumulative; last +Inf */
	atomic_uint_fast64_t duration_sum_us;
	atomic_uint_fast64_t retries;		/* sent again after a failure here */
};

/* Counts one finished request: status 0 when it ended without one. */
void lb_req_stats_add(struct lb_req_stats *s, int status, int64_t duration_us);

struct lb_backend {
	char name[LB_ADDR_MAX];
	struct net_addr addr;
	bool in_set;			/* listed now (file or --target) */
	bool is_static;
	struct health health;
	/* Monotonic ms it left the set or went down, 0 while eligible: written
	 * under the pool's mutex, read by workers to end drains. */
	atomic_int_fast64_t ineligible_ms;
	bool check_running;		/* control loop only */
	atomic_int active;		/* TCP: connections open; HTTP: requests in flight */
	atomic_uint_fast64_t total, bytes_in, bytes_out, connect_failures, transitions;
	atomic_uint_fast64_t conns_opened;	/* HTTP mode: connections made to it */
	size_t idx;			/* position in lb_pool.b, fixed for life */
	struct lb_req_stats req;	/* HTTP mode only */
};

struct lb_pool {
	pthread_mutex_t mu;
	enum lb_strategy strategy;
	struct lb_backend **b;
	size_t n, cap;
	unsigned cursor;
	uint64_t rng;			/* xorshift state for p2c, under mu */
	bool *eligible;			/* scratch for picks, n long, under mu */
	int *active;
};

int lb_pool_init(struct lb_pool *p, enum lb_strategy s);
void lb_pool_fini(struct lb_pool *p);
/* Adds a fixed backend. 0 or -1. */
int lb_pool_add_static(struct lb_pool *p, const char *addr, struct err *e);
/* Makes the file's targets the set (static ones stay); returns how many
 * were added and removed. now_ms stamps the removed ones for draining. */
int lb_pool_set_targets(struct lb_pool *p, const struct lb_targets *t, int64_t now_ms,
    int *added, int *removed, struct err *e);
/* A backend for a new connection, skipping those in `tried`, with its
 * active count already raised; NULL when none is eligible. */
struct lb_backend *lb_pool_pick(struct lb_pool *p, struct lb_backend *const *tried,
    int ntried);
/* Records a health result; true when the backend changed state. */
bool lb_pool_health(struct lb_pool *p, struct lb_backend *be, int rise, int fall, bool ok,
    int64_t now_ms);
/* Whether be may take new connections. */
bool lb_backend_eligible(const struct lb_backend *be);

#endif
