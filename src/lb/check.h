/* lb/check.h: active health checks of the balancer's backends, on the
 * control loop: TCP (a connect succeeds) or HTTP (GET path answers 2xx or
 * 3xx), every interval with a timeout, results fed to the pool's rise/fall.
 * Not here: the hysteresis itself (lb/health.h). */
#ifndef POOLSCALE_LB_CHECK_H
#define POOLSCALE_LB_CHECK_H

#include <stdint.h>

#include "common/loop.h"
#include "lb/pool.h"

struct lb_check_cfg {
	int kind;			/* LB_CHECK_NONE, LB_CHECK_TCP, LB_CHECK_HTTP */
	char path[128];
	int64_t interval_ms, timeout_ms;
	int rise, fall;
};

enum { LB_CHECK_NONE = 0, LB_CHECK_TCP, LB_CHECK_HTTP };

struct lb_checker;

struct lb_checker *lb_checker_new(struct loop *l, struct lb_pool *p,
    const struct lb_check_cfg *cfg, struct err *e);
void lb_checker_free(struct lb_checker *c);

#endif
