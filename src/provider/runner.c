#include "provider/runner.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/workpool.h"
#include "provider/cloudhttp.h"

#define RUNNER_MAX_QUEUED 64

struct prov_runner {
	struct provider *p;
	struct loop *loop;
	struct workpool *pool;
	prov_result_fn fn;
	void *owner;
	_Atomic bool closing;
	prov_fence_fn fence;		/* NULL: every call goes */
	void *fence_ctx;
	int64_t fence_margin_ms;
};

struct prov_job {
	struct prov_runner *r;
	struct prov_result res;
	bool ran;
};

static const char *const op_names[PROV_NOPS] = {
	[PROV_OP_LIST] = "list",
	[PROV_OP_SET_SIZE] = "set_size",
	[PROV_OP_REMOVE] = "remove",
	[PROV_OP_SET_DRAINING] = "set_draining",
};

const char *prov_op_name(enum prov_op op)
{
	return (unsigned)op < PROV_NOPS ? op_names[op] : "unknown";
}

static int set_draining(struct provider *p, struct prov_result *res)
{
	const char **v = calloc(res->nids + 1, sizeof(*v));
	int rc;

	if (v == NULL)
		return err_set(&res->e, "out of memory");
	for (size_t i = 0; i < res->nids; i++)
		v[i] = res->ids[i];
	rc = p->ops->set_draining(p->impl, v, res->nids, &res->e);
	free(v);
	return rc;
}

/* On the runner's thread. */
static void run(void *arg)
{
	struct prov_job *j = arg;
	struct prov_runner *r = j->r;
	struct provider *p = r->p;
	struct prov_result *res = &j->res;

	if (atomic_load(&r->closing))
		return;
	j->ran = true;
	/* Asked on this thread, right before the call: a job queued while
	 * this controller led must not run once it no longer does. */
	if (res->op != PROV_OP_LIST && r->fence != NULL &&
	    !r->fence(r->fence_ctx, r->fence_margin_ms))
		res->rc = err_set(&res->e, "not sent: this controller is not the leader "
		    "(or its lease ends within %lld ms)", (long long)r->fence_margin_ms);
	else if (res->op != PROV_OP_LIST) {
		/* And before every request the call sends (cloud providers). */
		cloud_http_fence(r->fence, r->fence_ctx);
		if (res->op == PROV_OP_SET_SIZE)
			res->rc = p->ops->set_size(p->impl, res->n, &res->e);
		else if (res->op == PROV_OP_REMOVE)
			res->rc = p->ops->remove(p->impl, res->id, &res->e);
		else
			res->rc = set_draining(p, res);
		cloud_http_fence(NULL, NULL);
	}
	if (atomic_load(&r->closing)) {
		res->list_rc = err_set(&res->list_e, "cancelled");
		return;
	}
	res->list_rc = p->ops->list(p->impl, &res->members, &res->list_e);
}

/* Back on the loop. */
static void finish(struct loop *l, void *arg)
{
	struct prov_job *j = arg;
	struct prov_runner *r = j->r;

	(void)l;
	if (j->ran && !atomic_load(&r->closing))
		r->fn(r->owner, &j->res);
	member_list_fini(&j->res.members);
	free(j->res.ids);
	free(j);
}

struct prov_runner *prov_runner_new(struct provider *p, struct loop *l, prov_result_fn fn,
    void *owner, struct err *e)
{
	struct prov_runner *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	r->p = p;
	r->loop = l;
	r->fn = fn;
	r->owner = owner;
	r->pool = workpool_new(1, RUNNER_MAX_QUEUED, e);
	if (r->pool == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

static struct prov_job *job_new(struct prov_runner *r, enum prov_op op)
{
	struct prov_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->r = r;
	j->res.op = op;
	member_list_init(&j->res.members);
	return j;
}

static int job_submit(struct prov_runner *r, struct prov_job *j)
{
	if (workpool_submit(r->pool, run, r->loop, finish, j) == -1) {
		free(j->res.ids);
		free(j);
		return -1;
	}
	return 0;
}

int prov_runner_submit(struct prov_runner *r, enum prov_op op, int n, const char *id)
{
	struct prov_job *j = job_new(r, op);

	if (j == NULL)
		return -1;
	j->res.n = n;
	if (id != NULL)
		snprintf(j->res.id, sizeof(j->res.id), "%s", id);
	return job_submit(r, j);
}

int prov_runner_submit_draining(struct prov_runner *r, const char *const *ids, size_t n)
{
	struct prov_job *j = job_new(r, PROV_OP_SET_DRAINING);

	if (j == NULL)
		return -1;
	j->res.ids = calloc(n + 1, sizeof(*j->res.ids));
	if (j->res.ids == NULL) {
		free(j);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		snprintf(j->res.ids[i], sizeof(j->res.ids[i]), "%s", ids[i]);
	j->res.nids = n;
	return job_submit(r, j);
}

size_t prov_runner_busy(struct prov_runner *r)
{
	return workpool_busy(r->pool);
}

void prov_runner_free(struct prov_runner *r)
{
	if (r == NULL)
		return;
	atomic_store(&r->closing, true);
	if (r->p->ops->cancel != NULL)
		r->p->ops->cancel(r->p->impl);
	workpool_free(r->pool);		/* queued jobs return at once */
	loop_flush_posts(r->loop);	/* their results, dropped */
	free(r);
}

void prov_runner_set_fence(struct prov_runner *r, prov_fence_fn fn, void *ctx,
    int64_t margin_ms)
{
	r->fence = fn;
	r->fence_ctx = ctx;
	r->fence_margin_ms = margin_ms;
}
