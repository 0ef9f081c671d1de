/* provider/runner.h: runs a provider's calls on a thread of their own, one at
 * a time and in order, and hands each result back on the loop, so a slow or
 * retrying cloud API never stalls health checks, drains or the HTTP API.
 * A mutating call is followed by a list in the same job, so its result comes
 * with the membership it produced. An optional fence (prov_runner_set_fence)
 * is asked before each mutating call and each of its cloud requests. Not
 * here: what to call and when (the controller), how (the provider), who
 * may act (controller/ha.h). */
#ifndef POOLSCALE_PROVIDER_RUNNER_H
#define POOLSCALE_PROVIDER_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/loop.h"
#include "provider/provider.h"

enum prov_op {
	PROV_OP_LIST = 0,
	PROV_OP_SET_SIZE,
	PROV_OP_REMOVE,
	PROV_OP_SET_DRAINING,
	PROV_NOPS,
};

const char *prov_op_name(enum prov_op op);

struct prov_result {
	enum prov_op op;
	int n;				/* set_size: the size asked for */
	char id[40];			/* remove: the member */
	char (*ids)[40];		/* set_draining: the members */
	size_t nids;
	int rc;				/* the call: 0 or -1 with e */
	struct err e;
	int list_rc;			/* the list that followed: 0 or -1 with list_e */
	struct err list_e;
	struct member_list members;
};

typedef void (*prov_result_fn)(void *owner, const struct prov_result *r);

struct prov_runner;

/* The runner borrows p; fn(owner, result) runs on l for every job. */
struct prov_runner *prov_runner_new(struct provider *p, struct loop *l, prov_result_fn fn,
    void *owner, struct err *e);
/* Queues a call. 0, or -1 when the queue is full or memory is out. */
int prov_runner_submit(struct prov_runner *r, enum prov_op op, int n, const char *id);
/* Queues set_draining(ids) (copied); the provider must have it. 0, or -1
 * when the queue is full or memory is out. */
int prov_runner_submit_draining(struct prov_runner *r, const char *const *ids, size_t n);
/* Whether a mutation may go out now and still be done margin_ms later
 * (controller/ha.h's leadership); called on the runner's thread. */
typedef bool (*prov_fence_fn)(void *ctx, int64_t margin_ms);

/* Before each set_size, remove and set_draining the runner asks fn; when
 * it says no, the call fails without being sent. Set before any submit. */
void prov_runner_set_fence(struct prov_runner *r, prov_fence_fn fn, void *ctx,
    int64_t margin_ms);
/* Jobs queued or running. */
size_t prov_runner_busy(struct prov_runner *r);
/* Cancels the call running (cloud calls stop their retries), drops the jobs
 * queued, joins the thread; no result is delivered after it returns. */
void prov_runner_free(struct prov_runner *r);

#endif
