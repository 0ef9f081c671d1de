#include "provider/aws_xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xml.h"
#include "provider/cloudhttp.h"

static int copy(const struct xml_node *n, const char *path, char *dst, size_t cap,
    bool required, struct err *e)
{
	const char *t = xml_text(n, path);

	dst[0] = '\0';
	if (t == NULL || t[0] == '\0')
		return required ? err_set(e, "aws: <%s> missing", path) : 0;
	if (strlen(t) >= cap)
		return err_set(e, "aws: <%s> longer than %zu bytes", path, cap - 1);
	memcpy(dst, t, strlen(t) + 1);
	return 0;
}

static int integer(const struct xml_node *n, const char *path, int *out, struct err *e)
{
	const char *t = xml_text(n, path);
	char *end;
	long v;

	if (t == NULL)
		return err_set(e, "aws: <%s> missing", path);
	v = strtol(t, &end, 10);
	if (end == t || *end != '\0' || v < 0 || v > 1000000)
		return err_set(e, "aws: <%s> is not a count: \"%.32s\"", path, t);
	*out = (int)v;
	return 0;
}

/* Parses body and checks that its root element is name. */
static struct xml_node *parse_as(const char *body, size_t len, const char *name, struct err *e)
{
	struct xml_node *root = xml_parse(body, len, e);

	if (root != NULL && strcmp(root->name, name) != 0) {
		err_set(e, "aws: expected %s, got <%s>", name, root->name);
		xml_free(root);
		return NULL;
	}
	return root;
}

/* Room for n members (one more, so 0 still allocates), at most AWS_MAX_MEMBERS. */
static void *alloc_members(size_t n, size_t size, struct err *e)
{
	void *v;

	if (n > AWS_MAX_MEMBERS) {
		err_set(e, "aws: more than %d instances", AWS_MAX_MEMBERS);
		return NULL;
	}
	v = calloc(n + 1, size);
	if (v == NULL)
		err_set(e, "out of memory");
	return v;
}

int aws_parse_group(const char *body, size_t len, struct aws_group *out, struct err *e)
{
	struct xml_node *root = parse_as(body, len, "DescribeAutoScalingGroupsResponse", e);
	const struct xml_node *groups, *g, *insts, *it;
	size_t n = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	groups = xml_path(root, "DescribeAutoScalingGroupsResult/AutoScalingGroups");
	if (groups == NULL) {
		err_set(e, "aws: <AutoScalingGroups> missing");
		goto out;
	}
	g = xml_child(groups, "member");
	if (g == NULL) {
		rc = 0;		/* no such group */
		goto out;
	}
	out->found = true;
	if (integer(g, "MinSize", &out->min, e) == -1 || integer(g, "MaxSize", &out->max, e) == -1 ||
	    integer(g, "DesiredCapacity", &out->desired, e) == -1)
		goto out;
	insts = xml_child(g, "Instances");
	for (it = xml_child(insts, "member"); it; it = xml_next(it, "member"))
		n++;
	if ((out->v = alloc_members(n, sizeof(*out->v), e)) == NULL)
		goto out;
	for (it = xml_child(insts, "member"); it; it = xml_next(it, "member")) {
		struct aws_asg_instance *x = &out->v[out->n];

		if (copy(it, "InstanceId", x->id, sizeof(x->id), true, e) == -1 ||
		    copy(it, "LifecycleState", x->lifecycle, sizeof(x->lifecycle), true, e) == -1 ||
		    copy(it, "HealthStatus", x->health, sizeof(x->health), true, e) == -1)
			goto out;
		out->n++;
	}
	rc = 0;
out:
	xml_free(root);
	if (rc == -1)
		aws_group_fini(out);
	return rc;
}

void aws_group_fini(struct aws_group *g)
{
	free(g->v);
	g->v = NULL;
	g->n = 0;
}

int aws_parse_instances(const char *body, size_t len, struct aws_ec2_instances *out,
    struct err *e)
{
	struct xml_node *root = parse_as(body, len, "DescribeInstancesResponse", e);
	const struct xml_node *res, *r, *it;
	size_t n = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	res = xml_child(root, "reservationSet");
	if (res == NULL) {
		err_set(e, "aws: <reservationSet> missing");
		goto out;
	}
	/* A request's instances may span several reservations. */
	for (r = xml_child(res, "item"); r; r = xml_next(r, "item"))
		for (it = xml_path(r, "instancesSet/item"); it; it = xml_next(it, "item"))
			n++;
	if ((out->v = alloc_members(n, sizeof(*out->v), e)) == NULL)
		goto out;
	for (r = xml_child(res, "item"); r; r = xml_next(r, "item")) {
		for (it = xml_path(r, "instancesSet/item"); it; it = xml_next(it, "item")) {
			struct aws_ec2_instance *x = &out->v[out->n];

			if (copy(it, "instanceId", x->id, sizeof(x->id), true, e) == -1 ||
			    copy(it, "instanceState/name", x->state, sizeof(x->state), true,
			    e) == -1 ||
			    copy(it, "privateIpAddress", x->private_ip, sizeof(x->private_ip), false,
			    e) == -1 ||
			    copy(it, "ipAddress", x->public_ip, sizeof(x->public_ip), false, e) == -1 ||
			    copy(it, "launchTime", x->launch_time, sizeof(x->launch_time), false,
			    e) == -1)
				goto out;
			out->n++;
		}
	}
	if (copy(root, "nextToken", out->next_token, sizeof(out->next_token), false, e) == -1)
		goto out;
	rc = 0;
out:
	xml_free(root);
	if (rc == -1)
		aws_instances_fini(out);
	return rc;
}

void aws_instances_fini(struct aws_ec2_instances *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void aws_parse_error(const char *body, size_t len, char *code, size_t ccap, char *msg,
    size_t mcap)
{
	struct xml_node *root = xml_parse(body, len, NULL);
	const struct xml_node *er = NULL;

	code[0] = msg[0] = '\0';
	if (root != NULL && strcmp(root->name, "ErrorResponse") == 0)
		er = xml_child(root, "Error");
	else if (root != NULL && strcmp(root->name, "Response") == 0)
		er = xml_path(root, "Errors/Error");
	if (er != NULL) {
		snprintf(code, ccap, "%s", xml_text(er, "Code") ? xml_text(er, "Code") : "");
		snprintf(msg, mcap, "%s", xml_text(er, "Message") ? xml_text(er, "Message") : "");
		xml_free(root);
		return;
	}
	xml_free(root);
	cloud_body_line(body, len, msg, mcap);
}

/* botocore's standard retry mode (botocore/retries/standard.py): its
 * _THROTTLED_ERROR_CODES, "the union of all error codes we've seen that
 * represent a throttled error", then its _TRANSIENT_ERROR_CODES. The other
 * SDKs retry the same set. */
static const char *const retryable_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException", "TransactionInProgressException",
	"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
	"RequestThrottled", "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
	"RequestTimeout", "RequestTimeoutException",
};

bool aws_code_retryable(const char *code)
{
	for (size_t i = 0; i < sizeof(retryable_codes) / sizeof(retryable_codes[0]); i++)
		if (strcmp(code, retryable_codes[i]) == 0)
			return true;
	return false;
}
