#include "provider/linode_api.h"

#include <stdio.h>
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
