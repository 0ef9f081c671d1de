/* provider/aws_xml.h: reads the AWS Query API replies the aws provider uses
 * (DescribeAutoScalingGroups, DescribeInstances, and both error shapes), as
 * documented in ../shared/reference/aws-autoscaling.md. Pure, on top of
 * common/xml.h; missing required elements are errors, unknown ones ignored.
 * Not here: HTTP, signing (sigv4.h). */
#ifndef POOLSCALE_PROVIDER_AWS_XML_H
#define POOLSCALE_PROVIDER_AWS_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define AWS_MAX_MEMBERS 1024

struct aws_asg_instance {
	char id[24];
	char lifecycle[32];		/* InService, Pending, Terminating, ... */
	char health[16];		/* Healthy, Unhealthy */
};

struct aws_group {
	bool found;			/* false: no group of that name */
	int min, max, desired;
	size_t n;
	struct aws_asg_instance *v;
};

struct aws_ec2_instance {
	char id[24];
	char state[24];			/* pending, running, shutting-down, ... */
	char private_ip[48];		/* "" when none */
	char public_ip[48];
	char launch_time[32];
};

struct aws_ec2_instances {
	size_t n;
	struct aws_ec2_instance *v;
	char next_token[1024];		/* "" when this was the last page */
};

int aws_parse_group(const char *body, size_t len, struct aws_group *out, struct err *e);
void aws_group_fini(struct aws_group *g);
int aws_parse_instances(const char *body, size_t len, struct aws_ec2_instances *out,
    struct err *e);
void aws_instances_fini(struct aws_ec2_instances *l);
/* Code and message of an ErrorResponse (Auto Scaling) or Response/Errors
 * (EC2) body; "" and the body's first line when it is neither. */
void aws_parse_error(const char *body, size_t len, char *code, size_t ccap, char *msg,
    size_t mcap);
/* Whether an error code says "try again later": throttling (Auto Scaling's
 * Throttling, EC2's RequestLimitExceeded, ...) or a transient failure, the
 * codes the AWS SDKs' standard retry mode retries whatever the status. */
bool aws_code_retryable(const char *code);

#endif
