/* The cloud providers' response readers (Exoscale JSON, AWS XML, the exec
 * provider's member list), AWS credentials, and the provider config. Every
 * reader gets every prefix of a good reply: an error, never a crash or a
 * guess. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller/config.h"
#include "guard.h"
#include "provider/aws.h"
#include "provider/aws_xml.h"
#include "provider/cloudhttp.h"
#include "provider/exec.h"
#include "provider/exo_json.h"

#define POOL_ID "5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
#define I1 "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
#define I2 "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

static const char pool_json[] =
	"{\"id\": \"" POOL_ID "\", \"name\": \"web\", \"size\": 2, \"state\": \"running\","
	" \"instances\": [{\"id\": \"" I1 "\"}, {\"id\": \"" I2 "\"}],"
	" \"instance-prefix\": \"pool\", \"labels\": {\"app\": \"web\"}, \"unknown\": [1, 2]}";

static const char instances_json[] =
	"{\"instances\": ["
	"{\"id\": \"" I1 "\", \"name\": \"pool-1\", \"state\": \"running\","
	" \"public-ip\": \"203.0.113.7\", \"manager\": {\"id\": \"" POOL_ID "\","
	" \"type\": \"instance-pool\"}, \"created-at\": \"2026-01-01T00:00:10Z\"},"
	"{\"id\": \"" I2 "\", \"state\": \"starting\", \"ipv6-address\": \"2001:db8::1\","
	" \"created-at\": \"2026-01-01T01:00:00.123+01:00\"}]}";

static const char op_json[] =
	"{\"id\": \"e2047130-b86e-11ef-83b3-0d8312b2c2d7\", \"state\": \"failure\","
	" \"reason\": \"busy\", \"message\": \"pool is busy\","
	" \"reference\": {\"id\": \"" POOL_ID "\", \"link\": \"/v2/instance-pool/" POOL_ID "\","
	" \"command\": \"get-instance-pool\"}}";

static void test_exo_pool(void **state)
{
	struct exo_pool p;
	struct err e;

	(void)state;
	assert_int_equal(exo_parse_pool(pool_json, strlen(pool_json), &p, &e), 0);
	assert_int_equal(p.size, 2);
	assert_string_equal(p.state, "running");
	assert_int_equal(p.n, 2);
	assert_string_equal(p.ids[0], I1);
	assert_string_equal(p.ids[1], I2);
	exo_pool_fini(&p);
}

static void test_exo_instances(void **state)
{
	struct exo_instances l;
	struct err e;

	(void)state;
	assert_int_equal(exo_parse_instances(instances_json, strlen(instances_json), &l, &e), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].public_ip, "203.0.113.7");
	assert_int_equal(l.v[0].created_unix_s, 1767225610);
	assert_string_equal(l.v[1].state, "starting");
	assert_string_equal(l.v[1].public_ip, "");
	assert_string_equal(l.v[1].ipv6, "2001:db8::1");
	assert_int_equal(l.v[1].created_unix_s, 1767225600);
	exo_instances_fini(&l);
}

static void test_exo_operation(void **state)
{
	struct exo_operation op;
	struct err e;
	static const char odd[] = "{\"id\": \"e2047130-b86e-11ef-83b3-0d8312b2c2d7\","
	    " \"state\": \"exploded\"}";

	(void)state;
	assert_int_equal(exo_parse_operation(op_json, strlen(op_json), &op, &e), 0);
	assert_string_equal(op.state, "failure");
	assert_string_equal(op.reason, "busy");
	assert_string_equal(op.message, "pool is busy");
	assert_int_equal(exo_parse_operation(odd, strlen(odd), &op, &e), -1);
	assert_non_null(strstr(e.msg, "unknown state"));
}

static void test_exo_bad_replies(void **state)
{
	static const char *const bad[] = {
		"[]", "{}", "{\"size\": -1, \"state\": \"running\"}",
		"{\"size\": 1, \"state\": \"running\", \"instances\": [{\"id\": \"nope\"}]}",
		"{\"size\": 1, \"state\": \"running\", \"instances\": [\"" I1 "\"]}",
		"{\"size\": \"2\", \"state\": \"running\"}",
		"{\"size\": 1, \"size\": 2, \"state\": \"running\"}",
	};
	struct exo_pool p;
	struct exo_instances l;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(exo_parse_pool(bad[i], strlen(bad[i]), &p, &e), -1);
	static const char no_state[] = "{\"instances\": [{\"id\": \"" I1 "\"}]}";

	assert_int_equal(exo_parse_instances(no_state, strlen(no_state), &l, &e), -1);
	assert_non_null(strstr(e.msg, "state"));
}

/* Every strict prefix of a good reply is rejected, read in guarded memory. */
static void test_exo_truncated(void **state)
{
	const char *docs[] = { pool_json, instances_json, op_json };

	(void)state;
	for (size_t d = 0; d < 3; d++) {
		for (size_t n = 0; n < strlen(docs[d]) - 1; n++) {
			struct guarded g;
			char *p = guard_copy(&g, docs[d], n);
			struct exo_pool pp;
			struct exo_instances l;
			struct exo_operation op;
			struct err e;

			assert_int_equal(exo_parse_pool(p, n, &pp, &e), -1);
			assert_int_equal(exo_parse_instances(p, n, &l, &e), -1);
			assert_int_equal(exo_parse_operation(p, n, &op, &e), -1);
			guard_free(&g);
		}
	}
}

static void test_exo_error_message(void **state)
{
	char m[64];
	static const char problem[] = "{\"type\": \"x\", \"title\": \"Forbidden\", \"status\": 403,"
	    " \"detail\": \"bad key\"}";

	(void)state;
	static const char sig[] = "{\"message\": \"Invalid request signature\"}";
	static const char rate[] = "{\"error\": \"Rate limited\", \"retry_after\": 1}";

	exo_error_message(sig, strlen(sig), m, sizeof(m));
	assert_string_equal(m, "Invalid request signature");
	exo_error_message(rate, strlen(rate), m, sizeof(m));
	assert_string_equal(m, "Rate limited");
	exo_error_message(problem, strlen(problem), m, sizeof(m));
	assert_string_equal(m, "bad key");
	exo_error_message("upstream timed out\nmore", 23, m, sizeof(m));
	assert_string_equal(m, "upstream timed out");
	exo_error_message("", 0, m, sizeof(m));
	assert_string_equal(m, "(empty body)");
}

/* ---- AWS ---- */

static const char asg_xml[] =
	"<DescribeAutoScalingGroupsResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\n"
	"  <DescribeAutoScalingGroupsResult>\n"
	"    <AutoScalingGroups>\n"
	"      <member>\n"
	"        <AutoScalingGroupName>web-asg</AutoScalingGroupName>\n"
	"        <MinSize>1</MinSize>\n"
	"        <MaxSize>10</MaxSize>\n"
	"        <DesiredCapacity>2</DesiredCapacity>\n"
	"        <DefaultCooldown>300</DefaultCooldown>\n"
	"        <AvailabilityZones><member>eu-west-1a</member></AvailabilityZones>\n"
	"        <HealthCheckType>EC2</HealthCheckType>\n"
	"        <Instances>\n"
	"          <member>\n"
	"            <InstanceId>i-0123456789abcdef0</InstanceId>\n"
	"            <AvailabilityZone>eu-west-1a</AvailabilityZone>\n"
	"            <LifecycleState>InService</LifecycleState>\n"
	"            <HealthStatus>Healthy</HealthStatus>\n"
	"            <ProtectedFromScaleIn>false</ProtectedFromScaleIn>\n"
	"          </member>\n"
	"          <member>\n"
	"            <InstanceId>i-0fedcba9876543210</InstanceId>\n"
	"            <AvailabilityZone>eu-west-1b</AvailabilityZone>\n"
	"            <LifecycleState>Pending</LifecycleState>\n"
	"            <HealthStatus>Healthy</HealthStatus>\n"
	"            <ProtectedFromScaleIn>false</ProtectedFromScaleIn>\n"
	"          </member>\n"
	"        </Instances>\n"
	"        <CreatedTime>2015-08-30T12:00:00.000Z</CreatedTime>\n"
	"      </member>\n"
	"    </AutoScalingGroups>\n"
	"  </DescribeAutoScalingGroupsResult>\n"
	"  <ResponseMetadata><RequestId>7c6e177f</RequestId></ResponseMetadata>\n"
	"</DescribeAutoScalingGroupsResponse>\n";

static const char ec2_xml[] =
	"<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
	"  <requestId>8f7724cf</requestId>\n"
	"  <reservationSet>\n"
	"    <item><reservationId>r-1</reservationId><instancesSet><item>\n"
	"      <instanceId>i-0123456789abcdef0</instanceId>\n"
	"      <instanceState><code>16</code><name>running</name></instanceState>\n"
	"      <launchTime>2015-08-30T12:00:00.000Z</launchTime>\n"
	"      <privateIpAddress>10.0.1.23</privateIpAddress>\n"
	"      <ipAddress>203.0.113.25</ipAddress>\n"
	"    </item></instancesSet></item>\n"
	"    <item><reservationId>r-2</reservationId><instancesSet><item>\n"
	"      <instanceId>i-0fedcba9876543210</instanceId>\n"
	"      <instanceState><code>0</code><name>pending</name></instanceState>\n"
	"      <privateIpAddress>10.0.1.24</privateIpAddress>\n"
	"    </item></instancesSet></item>\n"
	"  </reservationSet>\n"
	"</DescribeInstancesResponse>\n";

static void test_aws_group(void **state)
{
	struct aws_group g;
	struct err e;
	static const char empty[] = "<DescribeAutoScalingGroupsResponse><DescribeAutoScalingGroupsResult>"
	    "<AutoScalingGroups/></DescribeAutoScalingGroupsResult></DescribeAutoScalingGroupsResponse>";

	(void)state;
	assert_int_equal(aws_parse_group(asg_xml, strlen(asg_xml), &g, &e), 0);
	assert_true(g.found);
	assert_int_equal(g.min, 1);
	assert_int_equal(g.max, 10);
	assert_int_equal(g.desired, 2);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.v[0].id, "i-0123456789abcdef0");
	assert_string_equal(g.v[1].lifecycle, "Pending");
	aws_group_fini(&g);
	assert_int_equal(aws_parse_group(empty, strlen(empty), &g, &e), 0);
	assert_false(g.found);
}

static void test_aws_instances(void **state)
{
	struct aws_ec2_instances l;
	struct err e;

	(void)state;
	assert_int_equal(aws_parse_instances(ec2_xml, strlen(ec2_xml), &l, &e), 0);
	assert_int_equal(l.n, 2);	/* across both reservations */
	assert_string_equal(l.v[0].private_ip, "10.0.1.23");
	assert_string_equal(l.v[0].public_ip, "203.0.113.25");
	assert_string_equal(l.v[1].id, "i-0fedcba9876543210");
	assert_string_equal(l.v[1].state, "pending");
	assert_string_equal(l.v[1].public_ip, "");
	assert_string_equal(l.next_token, "");
	aws_instances_fini(&l);
}

static void test_aws_bad_replies(void **state)
{
	struct aws_group g;
	struct err e;
	static const char no_desired[] = "<DescribeAutoScalingGroupsResponse>"
	    "<DescribeAutoScalingGroupsResult><AutoScalingGroups><member><MinSize>1</MinSize>"
	    "<MaxSize>3</MaxSize></member></AutoScalingGroups></DescribeAutoScalingGroupsResult>"
	    "</DescribeAutoScalingGroupsResponse>";
	static const char wrong_root[] = "<SetDesiredCapacityResponse/>";

	(void)state;
	assert_int_equal(aws_parse_group(no_desired, strlen(no_desired), &g, &e), -1);
	assert_non_null(strstr(e.msg, "DesiredCapacity"));
	assert_int_equal(aws_parse_group(wrong_root, strlen(wrong_root), &g, &e), -1);
	for (size_t n = 0; n < strlen(asg_xml) - 2; n++) {
		struct guarded gd;
		char *p = guard_copy(&gd, asg_xml, n);

		assert_int_equal(aws_parse_group(p, n, &g, &e), -1);
		guard_free(&gd);
	}
	for (size_t n = 0; n < strlen(ec2_xml) - 2; n++) {
		struct guarded gd;
		char *p = guard_copy(&gd, ec2_xml, n);
		struct aws_ec2_instances l;

		assert_int_equal(aws_parse_instances(p, n, &l, &e), -1);
		guard_free(&gd);
	}
}

static void test_aws_errors(void **state)
{
	char code[64], msg[160];
	static const char as_err[] = "<ErrorResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">"
	    "<Error><Type>Sender</Type><Code>ScalingActivityInProgress</Code>"
	    "<Message>Scaling activity 1234 is in progress.</Message></Error>"
	    "<RequestId>b2c3</RequestId></ErrorResponse>";
	static const char ec2_err[] = "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>"
	    "<Message>The instance ID &apos;i-1&apos; does not exist</Message></Error></Errors>"
	    "<RequestID>ea96</RequestID></Response>";

	(void)state;
	aws_parse_error(as_err, strlen(as_err), code, sizeof(code), msg, sizeof(msg));
	assert_string_equal(code, "ScalingActivityInProgress");
	assert_string_equal(msg, "Scaling activity 1234 is in progress.");
	aws_parse_error(ec2_err, strlen(ec2_err), code, sizeof(code), msg, sizeof(msg));
	assert_string_equal(code, "InvalidInstanceID.NotFound");
	assert_string_equal(msg, "The instance ID 'i-1' does not exist");
	aws_parse_error("Bad Gateway", 11, code, sizeof(code), msg, sizeof(msg));
	assert_string_equal(code, "");
	assert_string_equal(msg, "Bad Gateway");
}

/* The SDKs' standard retry mode retries these codes whatever the status:
 * Auto Scaling throttles with HTTP 400 and Throttling, EC2 with
 * RequestLimitExceeded. Anything else in a 4xx is final. */
static void test_aws_retryable_codes(void **state)
{
	static const struct { const char *code; bool retry; } rows[] = {
		{ "Throttling", true },			/* Auto Scaling */
		{ "RequestLimitExceeded", true },	/* EC2 */
		{ "ThrottlingException", true },	/* the reference's table */
		{ "ThrottledException", true },
		{ "RequestThrottledException", true },
		{ "TooManyRequestsException", true },
		{ "ProvisionedThroughputExceededException", true },
		{ "TransactionInProgressException", true },
		{ "BandwidthLimitExceeded", true },
		{ "LimitExceededException", true },
		{ "RequestThrottled", true },
		{ "SlowDown", true },
		{ "PriorRequestNotComplete", true },
		{ "EC2ThrottledException", true },
		{ "RequestTimeout", true },
		{ "RequestTimeoutException", true },
		{ "ValidationError", false },
		{ "SignatureDoesNotMatch", false },
		{ "ScalingActivityInProgress", false },
		{ "LimitExceeded", false },		/* a quota, not a rate */
		{ "InvalidInstanceID.NotFound", false },
		{ "throttling", false },		/* codes are case-sensitive */
		{ "ThrottlingX", false },
		{ "Throttl", false },
		{ "", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (aws_code_retryable(rows[i].code) != rows[i].retry)
			fail_msg("%s: want %d", rows[i].code, rows[i].retry);
	}
}

#define SIG_MSG "The request signature we calculated does not match the signature you " \
	"provided. Check your AWS Secret Access Key and signing method. Consult the service " \
	"documentation for details."

/* A service's message is cut at a sentence, else at a word, never inside one. */
static void test_fit_text(void **state)
{
	static const struct { const char *name, *text; size_t cap; const char *want; } rows[] = {
		{ "fits_whole", "Rate exceeded", 14, "Rate exceeded" },
		{ "fits_whole_roomy", SIG_MSG, 400, SIG_MSG },
		{ "one_byte_short", "Rate exceeded", 13, "Rate..." },
		{ "whole_sentences", SIG_MSG, 100,
		    "The request signature we calculated does not match the signature you "
		    "provided." },
		{ "two_sentences", SIG_MSG, 160,
		    "The request signature we calculated does not match the signature you "
		    "provided. Check your AWS Secret Access Key and signing method." },
		{ "sentence_end_exact", "One. Two.", 5, "One." },
		{ "dot_inside_word_is_no_end", "Use v1.2 now please", 12, "Use v1.2..." },
		{ "question_and_bang", "Why? Because! Then more", 14, "Why? Because!" },
		{ "words_when_no_sentence", "Value null at 'desiredCapacity' failed", 20,
		    "Value null at..." },
		{ "one_long_word", "abcdefghijklmnop", 8, "abcd..." },
		{ "tiny", "abcdefghijklmnop", 3, "" },
		{ "empty", "", 1, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char dst[512];

		memset(dst, 'x', sizeof(dst));
		cloud_fit_text(rows[i].text, dst, rows[i].cap);
		if (strcmp(dst, rows[i].want) != 0)
			fail_msg("%s: got \"%s\"", rows[i].name, dst);
		assert_true(strlen(dst) < rows[i].cap);
	}
}

/* The wrong-secret error a controller prints: the prefix and the service's
 * first sentence, not "... Check your AWS". */
static void test_err_message_fits(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(cloud_err_message(&e, SIG_MSG, "aws: %s: HTTP %d %s (check the access "
	    "key and secret)", "DescribeAutoScalingGroups", 403, "SignatureDoesNotMatch"), -1);
	assert_string_equal(e.msg, "aws: DescribeAutoScalingGroups: HTTP 403 "
	    "SignatureDoesNotMatch (check the access key and secret): The request signature we "
	    "calculated does not match the signature you provided.");
	assert_int_equal(cloud_err_message(&e, "", "aws: %s: HTTP %d", "X", 502), -1);
	assert_string_equal(e.msg, "aws: X: HTTP 502");
	assert_int_equal(cloud_err_message(&e, "Rate exceeded", "aws: X: HTTP 400 Throttling"), -1);
	assert_string_equal(e.msg, "aws: X: HTTP 400 Throttling: Rate exceeded");
	assert_int_equal(cloud_err_message(NULL, "m", "x"), -1);
}

static void test_aws_creds_file(void **state)
{
	char path[] = "/tmp/poolscale-creds-XXXXXX";
	int fd = mkstemp(path);
	static const char ini[] = "[default]\naws_access_key_id = AKIDDEFAULT\n"
	    "aws_secret_access_key = secretdefault\n\n# comment\n[ci]\n"
	    "aws_access_key_id=AKIDCI\naws_secret_access_key=secretci\n"
	    "aws_session_token = tok+/=\n";
	struct asg_cfg cfg;
	struct aws_creds c;
	struct err e;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, ini, strlen(ini)), (ssize_t)strlen(ini));
	close(fd);
	asg_cfg_default(&cfg);
	snprintf(cfg.credentials_file, sizeof(cfg.credentials_file), "%s", path);
	assert_int_equal(aws_load_creds(&cfg, &c, &e), 0);
	assert_string_equal(c.access_key, "AKIDDEFAULT");
	assert_string_equal(c.session_token, "");
	snprintf(cfg.profile, sizeof(cfg.profile), "ci");
	assert_int_equal(aws_load_creds(&cfg, &c, &e), 0);
	assert_string_equal(c.secret_key, "secretci");
	assert_string_equal(c.session_token, "tok+/=");
	snprintf(cfg.profile, sizeof(cfg.profile), "prod");
	assert_int_equal(aws_load_creds(&cfg, &c, &e), -1);
	assert_non_null(strstr(e.msg, "[prod]"));
	assert_null(strstr(e.msg, "secret"));	/* never a secret in a message */
	unlink(path);
	/* Without a file or profile in the config, the environment wins. */
	asg_cfg_default(&cfg);
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
	setenv("AWS_SESSION_TOKEN", "tokenv", 1);
	assert_int_equal(aws_load_creds(&cfg, &c, &e), 0);
	assert_string_equal(c.access_key, "AKIDENV");
	assert_string_equal(c.session_token, "tokenv");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
}

/* ---- exec ---- */

static void test_exec_members(void **state)
{
	struct member_list l;
	struct err e;
	static const char good[] = "[{\"id\": \"linode-1\", \"address\": \"192.0.2.1\", \"state\": "
	    "\"running\", \"created\": 1700000000}, {\"id\": \"linode-2\", \"address\": "
	    "\"2001:db8::2\", \"state\": \"pending\"}, {\"id\": \"linode-3\", \"address\": "
	    "\"192.0.2.3\", \"state\": \"terminating\"}]";
	static const char *const bad[] = {
		"", "{}", "[{\"id\": \"a\"}]", "[{\"id\": \"a b\", \"address\": \"192.0.2.1\"}]",
		"[{\"id\": \"a\", \"address\": \"example.com\"}]",
		"[{\"id\": \"a\", \"address\": \"192.0.2.1\"}, {\"id\": \"a\", \"address\": \"192.0.2.2\"}]",
		"[{\"id\": \"0123456789012345678901234567890123456789\", \"address\": \"192.0.2.1\"}]",
	};

	(void)state;
	member_list_init(&l);
	assert_int_equal(exec_parse_members(good, strlen(good), &l, &e), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[0].created_unix_s, 1700000000);
	assert_false(l.v[0].booting || l.v[0].stopping);
	assert_true(l.v[1].booting);
	assert_true(l.v[2].stopping);
	member_list_fini(&l);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		member_list_init(&l);
		assert_int_equal(exec_parse_members(bad[i], strlen(bad[i]), &l, &e), -1);
		member_list_fini(&l);
	}
}

/* ---- config ---- */

static int load(const char *text, struct ctl_cfg *c, struct buf *errs)
{
	buf_reset(errs);
	return ctl_cfg_load_string("t.yml", text, c, errs);
}

static void test_config_providers(void **state)
{
	struct ctl_cfg c;
	struct buf errs;

	(void)state;
	buf_init(&errs, 1 << 16);
	assert_int_equal(load("max: 20\nprovider:\n  kind: exoscale\n  app_port: 80\n"
	    "  timeout: 3s\n  retries: 2\n  exoscale:\n    zone: de-fra-1\n    pool_id: " POOL_ID
	    "\n    key_file: k\n", &c, &errs), 0);
	assert_string_equal(c.provider, "exoscale");
	assert_int_equal(c.app_port, 80);
	assert_int_equal(c.metrics_port, 9100);
	assert_int_equal(c.list_interval_ms, 10000);
	assert_int_equal(c.exoscale.http.timeout_ms, 3000);
	assert_int_equal(c.aws.http.retries, 2);
	assert_string_equal(c.exoscale.key_file, "./k");
	ctl_cfg_fini(&c);

	assert_int_equal(load("provider:\n  kind: exec\n  exec:\n    list: [./list.sh]\n"
	    "    set_size: [./size.sh, \"{size}\"]\n    remove: [./rm.sh, \"{id}\"]\n"
	    "    timeout: 5s\n", &c, &errs), 0);
	assert_int_equal(c.exec.set_size.argc, 2);
	assert_string_equal(c.exec.set_size.argv[1], "{size}");
	assert_int_equal(c.exec.timeout_ms, 5000);
	ctl_cfg_fini(&c);

	/* Errors name the file, the line and the key. */
	assert_int_equal(load("provider:\n  kind: gce\n", &c, &errs), 1);
	assert_non_null(strstr(errs.p, "t.yml:2:"));
	ctl_cfg_fini(&c);
	assert_int_equal(load("provider:\n  kind: exoscale\n  exoscale:\n    pool_id: ABC\n", &c,
	    &errs), 1);
	assert_non_null(strstr(errs.p, "t.yml:4: provider.exoscale.pool_id"));
	ctl_cfg_fini(&c);
	assert_true(load("provider:\n  kind: aws\n  aws:\n    region: eu-west-1\n"
	    "    adress: public\n", &c, &errs) >= 2);	/* typo, and no group */
	assert_non_null(strstr(errs.p, "provider.aws.adress: unknown key"));
	assert_non_null(strstr(errs.p, "provider.aws.group: missing"));
	ctl_cfg_fini(&c);
	assert_int_equal(load("provider:\n  kind: exec\n  exec:\n    shell: true\n"
	    "    list: [a, b]\n    set_size: x\n    remove: y\n", &c, &errs), 1);
	assert_non_null(strstr(errs.p, "one command string"));
	ctl_cfg_fini(&c);
	/* Each argument fits the buffer the local provider expands it into. */
	{
		char text[600];

		snprintf(text, sizeof(text), "provider:\n  local:\n    command: [app, \"%0300d\"]\n",
		    0);
		assert_int_equal(load(text, &c, &errs), 1);
		assert_non_null(strstr(errs.p, "t.yml:3: provider.local.command: an argument is "
		    "longer than 254 bytes"));
		ctl_cfg_fini(&c);
	}
	buf_fini(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exo_pool),
		cmocka_unit_test(test_exo_instances),
		cmocka_unit_test(test_exo_operation),
		cmocka_unit_test(test_exo_bad_replies),
		cmocka_unit_test(test_exo_truncated),
		cmocka_unit_test(test_exo_error_message),
		cmocka_unit_test(test_aws_group),
		cmocka_unit_test(test_aws_instances),
		cmocka_unit_test(test_aws_bad_replies),
		cmocka_unit_test(test_aws_errors),
		cmocka_unit_test(test_aws_retryable_codes),
		cmocka_unit_test(test_fit_text),
		cmocka_unit_test(test_err_message_fits),
		cmocka_unit_test(test_aws_creds_file),
		cmocka_unit_test(test_exec_members),
		cmocka_unit_test(test_config_providers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
