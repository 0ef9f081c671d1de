#include "controller/prom.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/workpool.h"

#define PROM_BODY_MAX (8 << 20)

struct prom_client {
	struct loop *loop;
	struct workpool *pool;
	char base[512];
	int64_t timeout_ms;
	bool busy;
	bool closing;
};

struct prom_job {
	struct prom_client *pc;
	char *url;
	long status;
	CURLcode curl_rc;
	char curl_err[CURL_ERROR_SIZE];
	struct buf body;
	prom_done_fn done;		/* an instant query's */
	prom_range_fn range_done;	/* a range query's */
	void *ctx;
};

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
	return buf_append(ctx, p, size * n) == 0 ? size * n : 0;
}

/* On the worker thread. */
static void run(void *arg)
{
	struct prom_job *j = arg;
	CURL *c = curl_easy_init();

	if (c == NULL) {
		j->curl_rc = CURLE_FAILED_INIT;
		return;
	}
	j->curl_err[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, j->url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)j->pc->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &j->body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, j->curl_err);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "poolscale/" POOLSCALE_VERSION);
	j->curl_rc = curl_easy_perform(c);
	if (j->curl_rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &j->status);
	curl_easy_cleanup(c);
}

/* The cause label for an answer that did not parse. */
static const char *parse_cause(long status)
{
	return status != 200 && status != 400 && status != 422 ? "http" :
	    status == 200 ? "bad_response" : "query_error";
}

static void job_free(struct prom_job *j)
{
	free(j->url);
	buf_fini(&j->body);
	free(j);
}

/* A range query's answer, on the loop. */
static void finish_range(struct prom_job *j)
{
	struct prom_matrix m;
	struct err e;

	if (j->pc->closing) {
		j->range_done(j->ctx, false, NULL, "cancelled", "shutting down");
	} else if (j->curl_rc != CURLE_OK) {
		j->range_done(j->ctx, false, NULL, j->curl_rc == CURLE_OPERATION_TIMEDOUT ?
		    "timeout" : j->curl_rc == CURLE_WRITE_ERROR ? "bad_response" : "connect",
		    j->curl_err[0] ? j->curl_err : curl_easy_strerror(j->curl_rc));
	} else if (prom_parse_range(j->body.p ? j->body.p : "", j->body.len, (int)j->status, &m,
	    &e) == -1) {
		j->range_done(j->ctx, false, NULL, parse_cause(j->status), e.msg);
	} else {
		j->range_done(j->ctx, true, &m, NULL, NULL);
		prom_matrix_free(&m);
	}
	job_free(j);
}

/* Back on the loop. */
static void finish(struct loop *l, void *arg)
{
	struct prom_job *j = arg;
	struct prom_client *pc = j->pc;
	struct prom_result res;
	struct err e;

	(void)l;
	pc->busy = false;
	if (j->range_done != NULL) {
		finish_range(j);
		return;
	}
	if (pc->closing) {
		j->done(j->ctx, false, NULL, "cancelled", "shutting down");
	} else if (j->curl_rc != CURLE_OK) {
		const char *cause = j->curl_rc == CURLE_OPERATION_TIMEDOUT ? "timeout" :
		    j->curl_rc == CURLE_WRITE_ERROR ? "bad_response" : "connect";

		j->done(j->ctx, false, NULL, cause,
		    j->curl_err[0] ? j->curl_err : curl_easy_strerror(j->curl_rc));
	} else if (prom_parse_query(j->body.p ? j->body.p : "", j->body.len, (int)j->status,
	    &res, &e) == -1) {
		j->done(j->ctx, false, NULL, parse_cause(j->status), e.msg);
	} else {
		j->done(j->ctx, true, &res, NULL, NULL);
		prom_result_free(&res);
	}
	job_free(j);
}

struct prom_client *prom_client_new(struct loop *l, const char *base_url, int64_t timeout_ms,
    struct err *e)
{
	struct prom_client *pc = calloc(1, sizeof(*pc));

	if (pc == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	pc->loop = l;
	pc->timeout_ms = timeout_ms;
	snprintf(pc->base, sizeof(pc->base), "%s", base_url);
	/* No trailing slash, so "/api/v1/query" joins cleanly. */
	while (pc->base[0] && pc->base[strlen(pc->base) - 1] == '/')
		pc->base[strlen(pc->base) - 1] = '\0';
	pc->pool = workpool_new(1, 4, e);
	if (pc->pool == NULL) {
		free(pc);
		return NULL;
	}
	return pc;
}

void prom_client_free(struct prom_client *pc)
{
	if (pc == NULL)
		return;
	pc->closing = true;
	workpool_free(pc->pool);	/* waits for the query in flight */
	loop_flush_posts(pc->loop);	/* its answer, as cancelled */
	free(pc);
}

bool prom_client_busy(const struct prom_client *pc)
{
	return pc->busy;
}

/* Queues GET base/api/v1/query[_range]?query=EXPR TAIL on the worker. */
static int submit(struct prom_client *pc, const char *expr, const char *tail,
    prom_done_fn done, prom_range_fn range_done, void *ctx)
{
	struct prom_job *j;
	char *q;
	size_t n;

	if (pc->busy)
		return -1;
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return -1;
	q = curl_easy_escape(NULL, expr, 0);
	n = strlen(pc->base) + (q ? strlen(q) : 0) + strlen(tail) + 40;
	j->url = malloc(n);
	if (q == NULL || j->url == NULL) {
		curl_free(q);
		free(j->url);
		free(j);
		return -1;
	}
	snprintf(j->url, n, "%s/api/v1/%s?query=%s%s", pc->base,
	    range_done ? "query_range" : "query", q, tail);
	curl_free(q);
	j->pc = pc;
	j->done = done;
	j->range_done = range_done;
	j->ctx = ctx;
	buf_init(&j->body, PROM_BODY_MAX);
	if (workpool_submit(pc->pool, run, pc->loop, finish, j) == -1) {
		free(j->url);
		free(j);
		return -1;
	}
	pc->busy = true;
	return 0;
}

int prom_client_query(struct prom_client *pc, const char *expr, prom_done_fn done, void *ctx)
{
	return submit(pc, expr, "", done, NULL, ctx);
}

int prom_client_range(struct prom_client *pc, const char *expr, int64_t start_unix_s,
    int64_t end_unix_s, int64_t step_s, prom_range_fn done, void *ctx)
{
	char tail[96];

	snprintf(tail, sizeof(tail), "&start=%lld&end=%lld&step=%lld", (long long)start_unix_s,
	    (long long)end_unix_s, (long long)step_s);
	return submit(pc, expr, tail, NULL, done, ctx);
}
