/* provider/aws.h: an EC2 Auto Scaling group through the Query API, SigV4
 * signed (../shared/reference/aws-autoscaling.md): DescribeAutoScalingGroups
 * for the members and their lifecycle, EC2 DescribeInstances for addresses,
 * SetDesiredCapacity to grow, TerminateInstanceInAutoScalingGroup with
 * ShouldDecrementDesiredCapacity=true for the member the controller chose.
 * Credentials from the standard environment variables or the shared
 * credentials file, re-read before each call so rotated keys are picked up.
 * Not here: instance-metadata (IMDS) credentials; draining. */
#ifndef POOLSCALE_PROVIDER_AWS_H
#define POOLSCALE_PROVIDER_AWS_H

#include "provider/cloudhttp.h"
#include "provider/provider.h"

struct asg_cfg {
	char region[32];		/* "": AWS_REGION, else AWS_DEFAULT_REGION */
	char group[256];		/* the Auto Scaling group's name */
	char endpoint[256];		/* "": https://autoscaling.{region}.amazonaws.com/ */
	char ec2_endpoint[256];		/* "": https://ec2.{region}.amazonaws.com/ */
	char credentials_file[1024];	/* "": AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials */
	char profile[64];		/* "": AWS_PROFILE, else "default" */
	char address[8];		/* "private" or "public" */
	struct cloud_http_cfg http;
};

void asg_cfg_default(struct asg_cfg *c);
int prov_aws_new(const struct asg_cfg *cfg, struct provider *out, struct err *e);

/* Credentials as the SDKs find them: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * and AWS_SESSION_TOKEN, else the profile's section of the credentials
 * file. Exposed for tests. */
struct aws_creds {
	char access_key[128];
	char secret_key[256];
	char session_token[4096];
};

int aws_load_creds(const struct asg_cfg *cfg, struct aws_creds *out, struct err *e);

#endif
