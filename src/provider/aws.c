#include "provider/aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/fileio.h"
#include "provider/aws_xml.h"
#include "provider/sigv4.h"

#define AS_VERSION "2011-01-01"
#define EC2_VERSION "2016-11-15"
#define FORM_TYPE "application/x-www-form-urlencoded; charset=utf-8"

struct aws {
	struct asg_cfg cfg;
	char as_url[300], ec2_url[300];
	struct aws_creds creds;
	struct cloud_http http;
};

/* What one signed call needs beside the request. */
struct aws_call {
	struct aws *a;
	const char *service;
};

void asg_cfg_default(struct asg_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->address, sizeof(c->address), "private");
	cloud_http_cfg_default(&c->http);
}

/* ---- credentials ---- */

static int env_creds(struct aws_creds *out)
{
	const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
	const char *tok = getenv("AWS_SESSION_TOKEN");

	if (ak == NULL || sk == NULL || ak[0] == '\0' || sk[0] == '\0')
		return 0;
	snprintf(out->access_key, sizeof(out->access_key), "%s", ak);
	snprintf(out->secret_key, sizeof(out->secret_key), "%s", sk);
	snprintf(out->session_token, sizeof(out->session_token), "%s", tok ? tok : "");
	return 1;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* The INI file the AWS CLI writes: [profile] then key = value lines. */
static int file_creds(const char *path, const char *profile, struct aws_creds *out,
    struct err *e)
{
	struct buf b;
	char *line, *save = NULL;
	bool in = false, seen = false;
	int rc;

	buf_init(&b, 1 << 20);
	if (file_read_all(path, &b, NULL, e) == -1 || buf_append(&b, "", 1) == -1) {
		buf_fini(&b);
		return err_set(e, "aws: no credentials: AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY are not set, and %s cannot be read", path);
	}
	for (line = strtok_r(b.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *s = trim(line), *eq;

		if (*s == '#' || *s == ';' || *s == '\0')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (close)
				*close = '\0';
			in = strcmp(trim(s + 1), profile) == 0;
			seen |= in;
			continue;
		}
		if (!in || (eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		s = trim(s);
		if (strcmp(s, "aws_access_key_id") == 0)
			snprintf(out->access_key, sizeof(out->access_key), "%s", trim(eq + 1));
		else if (strcmp(s, "aws_secret_access_key") == 0)
			snprintf(out->secret_key, sizeof(out->secret_key), "%s", trim(eq + 1));
		else if (strcmp(s, "aws_session_token") == 0)
			snprintf(out->session_token, sizeof(out->session_token), "%s", trim(eq + 1));
	}
	explicit_bzero(b.p, b.len);
	buf_fini(&b);
	if (!seen)
		rc = err_set(e, "aws: %s has no [%s] profile", path, profile);
	else if (out->access_key[0] == '\0' || out->secret_key[0] == '\0')
		rc = err_set(e, "aws: profile [%s] in %s lacks aws_access_key_id or "
		    "aws_secret_access_key", profile, path);
	else
		rc = 0;
	return rc;
}

int aws_load_creds(const struct asg_cfg *cfg, struct aws_creds *out, struct err *e)
{
	char path[1100];
	const char *profile = cfg->profile, *env;

	memset(out, 0, sizeof(*out));
	/* An explicit file or profile in the config wins over the environment. */
	if (cfg->credentials_file[0] == '\0' && cfg->profile[0] == '\0' && env_creds(out))
		return 0;
	if (cfg->credentials_file[0] != '\0')
		snprintf(path, sizeof(path), "%s", cfg->credentials_file);
	else if ((env = getenv("AWS_SHARED_CREDENTIALS_FILE")) != NULL && env[0])
		snprintf(path, sizeof(path), "%s", env);
	else
		snprintf(path, sizeof(path), "%s/.aws/credentials",
		    getenv("HOME") ? getenv("HOME") : "");
	if (profile[0] == '\0')
		profile = getenv("AWS_PROFILE") && getenv("AWS_PROFILE")[0] ?
		    getenv("AWS_PROFILE") : "default";
	return file_creds(path, profile, out, e);
}

/* ---- signed calls ---- */

static int sign(void *ctx, const struct cloud_req *r, struct cloud_header *h, size_t *nh,
    struct err *e)
{
	const struct aws_call *k = ctx;
	struct aws *a = k->a;
	char host[256], date[17];
	const char *p = strstr(r->url, "://"), *slash;
	struct sigv4_header sh[2];
	struct sigv4_creds cr = {
		a->creds.access_key, a->creds.secret_key, a->creds.session_token,
	};
	struct sigv4_req sr;
	struct buf auth;
	size_t n = 0;
	int rc;

	p = p ? p + 3 : r->url;
	slash = strchr(p, '/');
	snprintf(host, sizeof(host), "%.*s", (int)(slash ? (size_t)(slash - p) : strlen(p)), p);
	sigv4_amz_date((int64_t)time(NULL), date);
	sh[0].name = "host";
	sh[0].value = host;
	sh[1].name = "content-type";
	sh[1].value = FORM_TYPE;
	memset(&sr, 0, sizeof(sr));
	sr.method = r->method;
	sr.path = "/";
	sr.query = "";
	sr.headers = sh;
	sr.nheaders = 2;
	sr.body = r->body;
	sr.body_len = r->body_len;
	sr.amz_date = date;
	sr.region = a->cfg.region;
	sr.service = k->service;
	buf_init(&auth, sizeof(h[0].value) - 1);
	rc = sigv4_sign(&sr, &cr, &auth, NULL, NULL, e);
	if (rc == 0) {
		snprintf(h[n].name, sizeof(h[n].name), "Authorization");
		snprintf(h[n++].value, sizeof(h[0].value), "%.*s", (int)auth.len, auth.p);
		snprintf(h[n].name, sizeof(h[n].name), "X-Amz-Date");
		snprintf(h[n++].value, sizeof(h[0].value), "%s", date);
		if (cr.session_token[0] != '\0') {
			snprintf(h[n].name, sizeof(h[n].name), "X-Amz-Security-Token");
			snprintf(h[n++].value, sizeof(h[0].value), "%s", cr.session_token);
		}
		*nh = n;
	}
	buf_fini(&auth);
	return rc;
}

/* AWS says "slow down" with a 400 and a code (Throttling,
 * RequestLimitExceeded), so the status alone cannot tell: the SDKs read the
 * code, and so does this. */
static bool retryable(long status, const char *body, size_t len)
{
	char code[64], msg[8];

	if (cloud_http_retryable(status))
		return true;
	aws_parse_error(body, len, code, sizeof(code), msg, sizeof(msg));
	return aws_code_retryable(code);
}

/* Posts form to the service; 0 with the 200 body in resp, or -1 with e
 * naming the action and the service's error code and message. */
static int call(struct aws *a, const char *service, const char *action, const struct buf *form,
    struct buf *resp, struct err *e)
{
	struct aws_call k = { a, service };
	struct cloud_req r = {
		.method = "POST",
		.url = strcmp(service, "ec2") == 0 ? a->ec2_url : a->as_url,
		.body = form->p ? form->p : "", .body_len = form->len, .content_type = FORM_TYPE,
		.sign = sign, .sign_ctx = &k, .retryable = retryable,
	};
	struct err ce = { "" };
	/* Whole: cloud_err_message fits it to the room e has left. */
	char code[64], msg[1024];
	long status = cloud_http_do(&a->http, &r, resp, &ce);

	if (status == -1)
		return err_set(e, "aws: %s: %s", action, ce.msg);
	if (status == 200)
		return 0;
	aws_parse_error(resp->p ? resp->p : "", resp->len, code, sizeof(code), msg, sizeof(msg));
	if (strcmp(code, "SignatureDoesNotMatch") == 0 || strcmp(code, "InvalidClientTokenId") == 0 ||
	    strcmp(code, "IncompleteSignature") == 0 || strcmp(code, "UnrecognizedClientException") == 0)
		return cloud_err_message(e, msg, "aws: %s: HTTP %ld %s (check the access key and "
		    "secret)", action, status, code);
	return cloud_err_message(e, msg, "aws: %s: HTTP %ld%s%s", action, status,
	    code[0] ? " " : "", code);
}

/* Appends &name=value, the value URI-encoded. */
static int param(struct buf *b, const char *name, const char *value)
{
	if (buf_appendf(b, "&%s=", name) == -1)
		return -1;
	return sigv4_uri_encode(b, value, strlen(value));
}

static int describe_group(struct aws *a, struct aws_group *g, struct err *e)
{
	struct buf form, resp;
	int rc;

	buf_init(&form, 4096);
	buf_init(&resp, 0);
	buf_appends(&form, "Action=DescribeAutoScalingGroups&Version=" AS_VERSION);
	rc = param(&form, "AutoScalingGroupNames.member.1", a->cfg.group) == -1 ?
	    err_set(e, "aws: group name too long") : 0;
	if (rc == 0)
		rc = call(a, "autoscaling", "DescribeAutoScalingGroups", &form, &resp, e);
	if (rc == 0)
		rc = aws_parse_group(resp.p ? resp.p : "", resp.len, g, e);
	if (rc == 0 && !g->found)
		rc = err_set(e, "aws: no Auto Scaling group named \"%s\" in %s", a->cfg.group,
		    a->cfg.region);
	buf_fini(&form);
	buf_fini(&resp);
	return rc;
}

static bool leaving(const char *lifecycle)
{
	return strncmp(lifecycle, "Terminat", 8) == 0 || strncmp(lifecycle, "Detach", 6) == 0 ||
	    strcmp(lifecycle, "EnteringStandby") == 0 || strcmp(lifecycle, "Standby") == 0;
}

/* RFC 3339 launchTime to unix seconds (0 when absent or odd). */
static int64_t launch_s(const char *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t[0] == '\0' || strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return (int64_t)timegm(&tm);
}

static int describe_instances(struct aws *a, const struct aws_group *g,
    struct aws_ec2_instances *all, struct err *e)
{
	char token[1024] = "";
	int rc = 0;

	memset(all, 0, sizeof(*all));
	all->v = calloc(g->n + 1, sizeof(*all->v));
	if (all->v == NULL)
		return err_set(e, "out of memory");
	do {
		struct aws_ec2_instances page;
		struct buf form, resp;
		char name[32];

		buf_init(&form, 64 * 1024);
		buf_init(&resp, 0);
		buf_appends(&form, "Action=DescribeInstances&Version=" EC2_VERSION);
		for (size_t i = 0; i < g->n; i++) {
			snprintf(name, sizeof(name), "InstanceId.%zu", i + 1);
			param(&form, name, g->v[i].id);
		}
		if (token[0])
			param(&form, "NextToken", token);
		rc = call(a, "ec2", "DescribeInstances", &form, &resp, e);
		if (rc == 0)
			rc = aws_parse_instances(resp.p ? resp.p : "", resp.len, &page, e);
		buf_fini(&form);
		buf_fini(&resp);
		if (rc == -1)
			break;
		for (size_t i = 0; i < page.n && all->n < g->n; i++)
			all->v[all->n++] = page.v[i];
		snprintf(token, sizeof(token), "%s", page.next_token);
		aws_instances_fini(&page);
	} while (token[0] != '\0');
	if (rc == -1)
		aws_instances_fini(all);
	return rc;
}

static int refresh_creds(struct aws *a, struct err *e)
{
	return aws_load_creds(&a->cfg, &a->creds, e);
}

static int aws_list(void *impl, struct member_list *out, struct err *e)
{
	struct aws *a = impl;
	struct aws_group g;
	struct aws_ec2_instances inst = { 0 };
	int rc = 0;

	if (refresh_creds(a, e) == -1 || describe_group(a, &g, e) == -1)
		return -1;
	/* AWS refuses any desired capacity outside these: the controller
	 * keeps its size within them. */
	out->min_size = g.min;
	out->max_size = g.max;
	if (g.n > 0)
		rc = describe_instances(a, &g, &inst, e);
	for (size_t i = 0; rc == 0 && i < g.n; i++) {
		const struct aws_ec2_instance *x = NULL;
		const char *addr;
		struct member m;

		for (size_t j = 0; j < inst.n && x == NULL; j++)
			if (strcmp(inst.v[j].id, g.v[i].id) == 0)
				x = &inst.v[j];
		if (x == NULL) {
			rc = err_set(e, "aws: instance %s of the group is not in DescribeInstances",
			    g.v[i].id);
			break;
		}
		addr = strcmp(a->cfg.address, "public") == 0 ? x->public_ip : x->private_ip;
		if (addr[0] == '\0') {
			if (strncmp(g.v[i].lifecycle, "Pending", 7) == 0 || leaving(g.v[i].lifecycle))
				continue;	/* no address yet, or any more */
			rc = err_set(e, "aws: instance %s (%s) has no %s IP address", x->id,
			    g.v[i].lifecycle, a->cfg.address);
			break;
		}
		memset(&m, 0, sizeof(m));
		snprintf(m.id, sizeof(m.id), "%s", x->id);
		snprintf(m.address, sizeof(m.address), "%s", addr);
		m.stopping = leaving(g.v[i].lifecycle);
		m.booting = strncmp(g.v[i].lifecycle, "Pending", 7) == 0 ||
		    strcmp(x->state, "running") != 0;
		m.created_unix_s = launch_s(x->launch_time);
		if (member_list_add(out, &m) == -1)
			rc = err_set(e, "out of memory");
	}
	if (rc == 0)
		out->size = g.desired;
	aws_instances_fini(&inst);
	aws_group_fini(&g);
	return rc;
}

static int aws_set_size(void *impl, int n, struct err *e)
{
	struct aws *a = impl;
	struct aws_group g;
	struct buf form, resp;
	int rc, desired, max;
	char num[16];

	if (refresh_creds(a, e) == -1 || describe_group(a, &g, e) == -1)
		return -1;
	desired = g.desired;
	max = g.max;
	aws_group_fini(&g);
	/* Grows only, and only when needed: asking again is harmless. */
	if (desired >= n)
		return 0;
	if (n > max)
		return err_set(e, "aws: size %d is above the group's MaxSize %d: raise MaxSize "
		    "or lower max", n, max);
	buf_init(&form, 4096);
	buf_init(&resp, 0);
	buf_appends(&form, "Action=SetDesiredCapacity&Version=" AS_VERSION);
	param(&form, "AutoScalingGroupName", a->cfg.group);
	snprintf(num, sizeof(num), "%d", n);
	param(&form, "DesiredCapacity", num);
	param(&form, "HonorCooldown", "false");
	rc = call(a, "autoscaling", "SetDesiredCapacity", &form, &resp, e);
	buf_fini(&form);
	buf_fini(&resp);
	return rc;
}

static bool valid_id(const char *id)
{
	size_t n = strlen(id);

	if (n < 3 || n > 19 || strncmp(id, "i-", 2) != 0)
		return false;
	for (size_t i = 2; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

/* Whether id is in the group and not leaving it. */
static bool in_service(const struct aws_group *g, const char *id)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->v[i].id, id) == 0)
			return !leaving(g->v[i].lifecycle);
	return false;
}

static int terminate(struct aws *a, const char *id, bool decrement, struct err *e)
{
	struct buf form, resp;
	int rc;

	buf_init(&form, 4096);
	buf_init(&resp, 0);
	buf_appends(&form, "Action=TerminateInstanceInAutoScalingGroup&Version=" AS_VERSION);
	param(&form, "InstanceId", id);
	param(&form, "ShouldDecrementDesiredCapacity", decrement ? "true" : "false");
	rc = call(a, "autoscaling", "TerminateInstanceInAutoScalingGroup", &form, &resp, e);
	buf_fini(&form);
	buf_fini(&resp);
	return rc;
}

static int aws_remove(void *impl, const char *id, struct err *e)
{
	struct aws *a = impl;
	struct aws_group g;
	struct err ge;
	bool member, decrement;

	if (!valid_id(id))
		return err_set(e, "aws: \"%s\" is not an instance id", id);
	if (refresh_creds(a, e) == -1 || describe_group(a, &g, e) == -1)
		return -1;
	member = in_service(&g, id);
	/* At MinSize AWS refuses to shrink, and asking again never helps.
	 * The controller keeps its size at MinSize or above, so a removal
	 * there replaces a member (dead, unhealthy): terminate it without
	 * decrementing and the group launches the replacement itself. */
	decrement = g.desired > g.min;
	aws_group_fini(&g);
	if (!member)
		return 0;	/* leaving or gone already */
	if (terminate(a, id, decrement, e) == 0)
		return 0;
	/* A retried terminate that had already worked fails on the retry: if
	 * the member is leaving or gone, the call did what was asked. */
	if (describe_group(a, &g, &ge) == -1)
		return -1;
	member = in_service(&g, id);
	aws_group_fini(&g);
	return member ? -1 : 0;
}

static void aws_cancel(void *impl)
{
	struct aws *a = impl;

	cloud_http_cancel(&a->http);
}

static void aws_api_stats(void *impl, uint64_t *calls, uint64_t *retries, uint64_t *failures)
{
	struct aws *a = impl;

	cloud_http_read_stats(&a->http, calls, retries, failures);
}

static void aws_free(void *impl)
{
	struct aws *a = impl;

	if (a == NULL)
		return;
	explicit_bzero(&a->creds, sizeof(a->creds));
	free(a);
}

static const struct provider_ops aws_ops = {
	.name = "aws",
	.list = aws_list,
	.set_size = aws_set_size,
	.remove = aws_remove,
	.cancel = aws_cancel,
	.api_stats = aws_api_stats,
	.free = aws_free,
};

static void url(char *dst, size_t cap, const char *given, const char *svc, const char *region)
{
	size_t n;

	if (given[0] != '\0')
		snprintf(dst, cap, "%s", given);
	else
		snprintf(dst, cap, "https://%s.%s.amazonaws.com/", svc, region);
	/* The Query API posts to "/". */
	n = strlen(dst);
	if (n > 0 && dst[n - 1] != '/' && n + 1 < cap)
		memcpy(dst + n, "/", 2);
}

int prov_aws_new(const struct asg_cfg *cfg, struct provider *out, struct err *e)
{
	struct aws *a = calloc(1, sizeof(*a));
	const char *r;

	if (a == NULL)
		return err_set(e, "out of memory");
	a->cfg = *cfg;
	if (a->cfg.region[0] == '\0') {
		r = getenv("AWS_REGION");
		if (r == NULL || r[0] == '\0')
			r = getenv("AWS_DEFAULT_REGION");
		if (r == NULL || r[0] == '\0') {
			free(a);
			return err_set(e, "aws: no region: set provider.aws.region or AWS_REGION");
		}
		snprintf(a->cfg.region, sizeof(a->cfg.region), "%s", r);
	}
	if (a->cfg.group[0] == '\0') {
		free(a);
		return err_set(e, "aws: provider.aws.group is not set");
	}
	if (aws_load_creds(&a->cfg, &a->creds, e) == -1) {
		aws_free(a);
		return -1;
	}
	url(a->as_url, sizeof(a->as_url), cfg->endpoint, "autoscaling", a->cfg.region);
	url(a->ec2_url, sizeof(a->ec2_url), cfg->ec2_endpoint, "ec2", a->cfg.region);
	cloud_http_init(&a->http, &cfg->http);
	out->ops = &aws_ops;
	out->impl = a;
	return 0;
}
