/* lb/hproxy.h: one worker of the balancer's HTTP mode: an event loop that
 * accepts from the shared listener, reads each request head from the
 * client, picks a backend for that request alone (lb/pool.h), sends it on
 * a pooled keep-alive connection to that backend (or a new one), and
 * streams the request and response bodies through fixed buffers. Client
 * keep-alive is never tied to a backend: the next request on the same
 * client connection is balanced again.
 * Retries: a request that never reached a backend (connect failed, reset
 * before a byte was written) goes to another one; an idempotent request
 * whose backend connection failed before any response byte is sent again
 * once. Never after a response byte arrived.
 * Errors: 400/408/413/414/431/501/505 for bad clients, 502 (garbage,
 * reset), 503 (no backend), 504 (backend timeout), each closing the
 * connection.
 * Not here: which backends exist and their health (lb/pool.h, lb/check.h),
 * head rewriting (lb/hmsg.h), body framing (lb/framing.h). */
#ifndef POOLSCALE_LB_HPROXY_H
#define POOLSCALE_LB_HPROXY_H

#include "lb/proxy.h"

struct lb_hworker;

struct lb_hworker *lb_hworker_new(const struct lb_proxy_cfg *cfg, struct err *e);
/* Runs the loop until loop_stop(lb_hworker_loop(w)). */
void *lb_hworker_run(void *w);
/* Thread-safe: the worker starts its part of the stop now (cfg.stop's
 * requested is set first), not at its next sweep. */
void lb_hworker_stop(struct lb_hworker *w);
struct loop *lb_hworker_loop(struct lb_hworker *w);
/* Closes its connections and frees it; after the loop stopped. */
void lb_hworker_free(struct lb_hworker *w);

#endif
