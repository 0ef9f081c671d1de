#include "provider/linode_api.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/linode_json.h"

struct sign_ctx {
	struct lin_api *a;
	const char *filter;
};

static int sign(void *ctx, const struct cloud_req *r, struct cloud_header *h, size_t *nh,
    struct err *e)
{
	struct sign_ctx *s = ctx;

	(void)r;
	snprintf(h[0].name, sizeof(h[0].name), "Authorization");
	snprintf(h[0].value, sizeof(h[0].value), "Bearer %s", s->a->token);
	*nh = 1;
	if (s->filter != NULL) {
		if (strlen(s->filter) >= sizeof(h[1].value))
			return err_set(e, "X-Filter longer than %zu bytes", sizeof(h[1].value) - 1);
		snprintf(h[1].name, sizeof(h[1].name), "X-Filter");
		snprintf(h[1].value, sizeof(h[1].value), "%s", s->filter);
		*nh = 2;
	}
	return 0;
}

static bool retryable(long status, const char *body, size_t len)
{
	return cloud_http_retryable(status) || (status == 400 && lin_error_busy(body, len));
}

/* A create whose answer was a 5xx may have been done: only a 429 (refused
 * before anything happened) is sent again as is. */
static bool create_retryable(long status, const char *body, size_t len)
{
	(void)body;
	(void)len;
	return status == 429;
}

long lin_api_do(struct lin_api *a, const struct lin_call *c, struct buf *resp,
    struct err *e)
{
	char url[1024];
	struct sign_ctx sc = { a, c->filter };
	struct cloud_req r = {
		.method = c->method, .url = url, .body = c->body,
		.body_len = c->body ? strlen(c->body) : 0,
		.content_type = c->body ? "application/json" : NULL,
		.sign = sign, .sign_ctx = &sc,
		.retryable = c->create ? create_retryable : retryable,
		.once_unanswered = c->create,
	};
	struct err ce = { "" };
	long status;

	snprintf(url, sizeof(url), "%s%s%s%s", a->base, c->path, c->query ? "?" : "",
	    c->query ? c->query : "");
	status = cloud_http_do(&a->http, &r, resp, &ce);
	if (status == -1)
		err_set(e, "linode: %s %s: %s", c->method, c->path, ce.msg);
	return status;
}

int lin_api_error(const struct lin_call *c, long status, const struct buf *resp,
    struct err *e)
{
	char msg[1024];

	lin_error_message(resp->p ? resp->p : "", resp->len, msg, sizeof(msg));
	if (status == 401 || status == 403)
		return cloud_err_message(e, msg, "linode: %s %s: HTTP %ld (check the token and "
		    "its scopes: linodes:read_write nodebalancers:read_write)", c->method, c->path,
		    status);
	return cloud_err_message(e, msg, "linode: %s %s: HTTP %ld", c->method, c->path, status);
}

int lin_api_call(struct lin_api *a, const struct lin_call *c, struct buf *resp,
    struct err *e)
{
	long status = lin_api_do(a, c, resp, e);

	if (status == -1)
		return -1;
	if (status >= 200 && status < 300)
		return 0;
	return lin_api_error(c, status, resp, e);
}

static char *filter_for(const char *key, const char *value)
{
	char *s = NULL;

	/* Values are checked (labels, tags) but quoted by the rules anyway.
	 * In id order: an instance created while the pages are read lands on
	 * the last one, where it shifts nothing. */
	if (asprintf(&s, "{\"%s\":\"%s\",\"+order_by\":\"id\"}", key, value) == -1)
		return NULL;
	return s;
}

/* One reading of every page; 1 when the pages disagree: an instance went
 * while they were read, and the ones after it moved a page back, so one
 * may have been skipped. out->pages: how many pages there were. */
static int list_once(struct lin_api *a, struct lin_call *c, char *query, size_t qcap,
    struct lin_instances *out, struct err *e)
{
	int64_t npages = 1;
	struct buf b;
	int64_t results = -1;
	bool moved = false;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	buf_init(&b, 0);
	for (int64_t page = 1, pages = 1; page <= pages; page++) {
		struct lin_instances p;
		struct lin_instance *v;

		snprintf(query, qcap, "page=%lld&page_size=%d", (long long)page, LIN_PAGE_SIZE);
		if (lin_api_call(a, c, &b, e) == -1 ||
		    lin_parse_instances(b.p ? b.p : "", b.len, &p, e) == -1) {
			rc = -1;
			break;
		}
		pages = npages = p.pages;
		moved |= page > 1 && p.results != results;
		results = p.results;
		v = reallocarray(out->v, out->n + p.n + 1, sizeof(*v));
		if (v == NULL) {
			lin_instances_fini(&p);
			rc = err_set(e, "out of memory");
			break;
		}
		out->v = v;
		memcpy(out->v + out->n, p.v, p.n * sizeof(*v));
		out->n += p.n;
		lin_instances_fini(&p);
	}
	buf_fini(&b);
	out->pages = npages;
	if (rc == 0 && (moved || (results >= 0 && (int64_t)out->n != results)))
		rc = 1;
	if (rc != 0)
		lin_instances_fini(out);
	return rc;
}

/* Every instance of a is in b (both in id order). */
static bool all_still_listed(const struct lin_instances *a, const struct lin_instances *b)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && b->v[j].id < a->v[i].id)
			j++;
		if (j == b->n || b->v[j].id != a->v[i].id)
			return false;
	}
	return true;
}

int lin_list_instances(struct lin_api *a, const char *key, const char *value,
    struct lin_instances *out, struct err *e)
{
	char query[64];
	char *filter = filter_for(key, value);
	struct lin_call c = { .method = "GET", .path = "/linode/instances", .query = query,
		.filter = filter };
	int rc = 1;

	struct lin_instances first = { 0 }, next;
	bool have_first = false;

	memset(out, 0, sizeof(*out));
	if (filter == NULL)
		return err_set(e, "out of memory");
	/* A list that may miss one would make set_size create one too many:
	 * read again, and fail rather than guess. The count catches an
	 * instance that went while the pages were read, but not one that went
	 * while another came (new ids land on the last page). So a list of
	 * several pages is taken once a second reading still lists every
	 * instance it had: what went during the first reading, after its page
	 * was read, is gone from the second. One page cannot skip anything. */
	for (int i = 0; i < LIN_LIST_TRIES && rc == 1; i++) {
		rc = list_once(a, &c, query, sizeof(query), &next, e);
		if (rc != 0)
			continue;
		if (next.pages <= 1) {
			*out = next;
		} else if (have_first && all_still_listed(&first, &next)) {
			*out = first;
			have_first = false;
			lin_instances_fini(&next);
		} else {
			lin_instances_fini(&first);
			first = next;
			have_first = true;
			rc = 1;
		}
	}
	if (have_first)
		lin_instances_fini(&first);
	free(filter);
	if (rc == 1)
		return err_set(e, "linode: the instance list did not hold still while its pages "
		    "were read (%d readings)", LIN_LIST_TRIES);
	return rc;
}
