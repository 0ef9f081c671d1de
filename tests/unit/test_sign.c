/* Request signers: Exoscale EXO2-HMAC-SHA256 and AWS SigV4, against the
 * vendors' vectors (shared/reference/exoscale-api-v2.md section 5,
 * aws-autoscaling.md section 9). Extra rows computed with botocore 1.43
 * (SigV4) and Python's hmac over the section 2 message (Exoscale). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/exo_sign.h"
#include "provider/sigv4.h"
#include "guard.h"

#define TEXT_MAX ((size_t)16 << 20)

/* NUL-terminates b (tests only) so assert_string_equal can show the diff. */
static const char *str(struct buf *b)
{
	assert_int_equal(buf_append(b, "", 1), 0);
	b->len--;
	return b->p;
}

/* ---- Exoscale ---- */

#define E0_KEY "EXOxxxxxxxxxxxxxxxxxxxxxxxx"
#define E0_SECRET "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
#define E_KEY "EXO0123456789abcdef01234567"
#define E_SECRET "poolscaleTestSecret-0123456789abcdefABCDEFGH"
#define E_POOL "/v2/instance-pool/5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"

static const struct {
	const char *name, *key, *secret, *method, *path, *query, *body;
	int64_t expires;
	const char *message, *auth;
} exo_rows[] = {
	{ "E0a_zone", E0_KEY, E0_SECRET, "GET", "/v2/zone", NULL, NULL, 3376684800,
	  "GET /v2/zone\n\n\n\n3376684800",
	  "EXO2-HMAC-SHA256 credential=EXOxxxxxxxxxxxxxxxxxxxxxxxx,expires=3376684800,"
	  "signature=Ntbq/p0HVmA3Zg1HHY+Lq1vjFGi7HeMrrgXDS5jRNlY=" },
	{ "E0b_zone_query", E0_KEY, E0_SECRET, "GET", "/v2/zone", "k1=v1&k2=v2", NULL, 3376684800,
	  "GET /v2/zone\n\nv1v2\n\n3376684800",
	  "EXO2-HMAC-SHA256 credential=EXOxxxxxxxxxxxxxxxxxxxxxxxx,signed-query-args=k1;k2,"
	  "expires=3376684800,signature=iqOBz13+44L5j0uJclE8hmUhQQcvtCSoPEOXYK6liqY=" },
	{ "E1_get_pool", E_KEY, E_SECRET, "GET", E_POOL, NULL, NULL, 1767225600,
	  "GET " E_POOL "\n\n\n\n1767225600",
	  "EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,expires=1767225600,"
	  "signature=cUzakC2xhefm2jzbYjBebBsja5o8MIZt3UA3bN7KyWw=" },
	{ "E2_scale", E_KEY, E_SECRET, "PUT", E_POOL ":scale", NULL, "{\"size\":3}", 1767225600,
	  "PUT " E_POOL ":scale\n{\"size\":3}\n\n\n1767225600",
	  "EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,expires=1767225600,"
	  "signature=88n1NifZd4OlUoFZmRBgdXV466ls9F4YVrXPWx9QRNw=" },
	{ "E3_evict", E_KEY, E_SECRET, "PUT", E_POOL ":evict", NULL,
	  "{\"instances\":[\"9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a\"]}", 1767225600,
	  "PUT " E_POOL ":evict\n{\"instances\":[\"9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a\"]}"
	  "\n\n\n1767225600",
	  "EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,expires=1767225600,"
	  "signature=Z9DqIQA75ROvBxqcUXhPwKc/3DHdKWwjdu2G4RUXIoM=" },
	{ "E4_operation", E_KEY, E_SECRET, "GET",
	  "/v2/operation/e2047130-b86e-11ef-83b3-0d8312b2c2d7", "", NULL, 1767225600,
	  "GET /v2/operation/e2047130-b86e-11ef-83b3-0d8312b2c2d7\n\n\n\n1767225600",
	  "EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,expires=1767225600,"
	  "signature=GJFLaTubP1vl4kDtYZ6g5lVBfscXFik6ILAEf/ZQyrg=" },
	{ "E5_members_query_out_of_order", E_KEY, E_SECRET, "GET", "/v2/instance",
	  "manager-type=instance-pool&manager-id=5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b", NULL,
	  1767225600,
	  "GET /v2/instance\n\n5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5binstance-pool\n\n1767225600",
	  "EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,"
	  "signed-query-args=manager-id;manager-type,expires=1767225600,"
	  "signature=imZf81KqBOxwR52WIGBCBcJqjOt9cnHxQe2zW0CPRR8=" },
	/* Go's url.ParseQuery: b twice is left out, '+' is a space, c= is kept
	 * with an empty value, "&&" is skipped. */
	{ "duplicate_left_out_plus_space_empty_kept", E_KEY, E_SECRET, "GET", "/v2/instance",
	  "b=2&a=x+y&&b=3&c=", NULL, 1767225600,
	  "GET /v2/instance\n\nx y\n\n1767225600",
	  "EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,signed-query-args=a;c,"
	  "expires=1767225600,signature=HEgv/c0PqiC4iKdEPh1bwX+obcNVNT4GW6uLaMQQPCc=" },
	{ "same_duplicate_values_left_out_too", E_KEY, E_SECRET, "GET", "/v2/instance",
	  "a=1&a=1", NULL, 1767225600,
	  "GET /v2/instance\n\n\n\n1767225600", NULL },
	{ "percent_decoded_value", E_KEY, E_SECRET, "GET", "/v2/instance",
	  "labels=app%3Dweb%2C%20x", NULL, 1767225600,
	  "GET /v2/instance\n\napp=web, x\n\n1767225600", NULL },
};

static void test_exo_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exo_rows) / sizeof(exo_rows[0]); i++) {
		struct exo_req r = {
			.method = exo_rows[i].method, .path = exo_rows[i].path,
			.query = exo_rows[i].query, .body = exo_rows[i].body,
			.body_len = exo_rows[i].body != NULL ? strlen(exo_rows[i].body) : 0,
			.expires_unix_s = exo_rows[i].expires,
		};
		struct err e = { "" };
		struct buf msg, auth;

		print_message("%s\n", exo_rows[i].name);
		buf_init(&msg, TEXT_MAX);
		buf_init(&auth, TEXT_MAX);
		assert_int_equal(exo_message(&r, &msg, &e), 0);
		assert_string_equal(str(&msg), exo_rows[i].message);
		assert_int_equal(exo_sign(&r, exo_rows[i].key, exo_rows[i].secret, &auth, &e), 0);
		if (exo_rows[i].auth != NULL)
			assert_string_equal(str(&auth), exo_rows[i].auth);
		buf_fini(&msg);
		buf_fini(&auth);
	}
}

static const struct {
	const char *name, *method, *path, *query;
	size_t body_len;
} exo_bad[] = {
	{ "malformed_escape", "GET", "/v2/instance", "a=%G1", 0 },
	{ "truncated_escape", "GET", "/v2/instance", "a=1&b=%4", 0 },
	{ "escape_in_name", "GET", "/v2/instance", "%zz=1", 0 },
	{ "nul_escape", "GET", "/v2/instance", "a=%00", 0 },
	{ "semicolon_separator", "GET", "/v2/instance", "a=1;b=2", 0 },
	{ "comma_in_signed_name", "GET", "/v2/instance", "a%2Cb=1", 0 },
	{ "no_path", "GET", NULL, NULL, 0 },
	{ "relative_path", "GET", "v2/zone", NULL, 0 },
	{ "no_method", "", "/v2/zone", NULL, 0 },
	{ "null_body_with_length", "PUT", "/v2/zone", NULL, 3 },
};

static void test_exo_rejects(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exo_bad) / sizeof(exo_bad[0]); i++) {
		struct exo_req r = {
			.method = exo_bad[i].method, .path = exo_bad[i].path,
			.query = exo_bad[i].query, .body_len = exo_bad[i].body_len,
			.expires_unix_s = 1767225600,
		};
		struct err e = { "" };
		struct buf out;

		print_message("%s\n", exo_bad[i].name);
		buf_init(&out, TEXT_MAX);
		assert_int_equal(buf_appends(&out, "kept"), 0);
		assert_int_equal(exo_message(&r, &out, &e), -1);
		assert_true(e.msg[0] != '\0');
		e.msg[0] = '\0';
		assert_int_equal(exo_sign(&r, E_KEY, E_SECRET, &out, &e), -1);
		assert_true(e.msg[0] != '\0');
		assert_int_equal(out.len, 4);	/* left as it was */
		buf_fini(&out);
	}
}

/* An API key holding ';' or ',' would break the Authorization header's
 * ",signed-query-args=a;b" list: refused, the buffer left as it was. */
static void test_exo_key_with_separator(void **state)
{
	static const char *const keys[] = { "EXO0123;456", "EXO0123,456" };
	struct exo_req r = { .method = "GET", .path = "/v2/instance-pool",
	    .expires_unix_s = 1767225600 };

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct err e = { "" };
		struct buf out;

		print_message("%s\n", keys[i]);
		buf_init(&out, TEXT_MAX);
		assert_int_equal(exo_sign(&r, keys[i], E_SECRET, &out, &e), -1);
		assert_non_null(strstr(e.msg, "API key"));
		assert_int_equal(out.len, 0);
		buf_fini(&out);
	}
}

static void test_exo_credentials_and_full_buffer(void **state)
{
	struct exo_req r = { .method = "GET", .path = "/v2/zone", .expires_unix_s = 1 };
	struct err e = { "" };
	struct buf out;

	(void)state;
	buf_init(&out, TEXT_MAX);
	assert_int_equal(exo_sign(&r, "", E_SECRET, &out, &e), -1);
	assert_int_equal(exo_sign(&r, E_KEY, "", &out, &e), -1);
	assert_int_equal(exo_sign(&r, E_KEY, NULL, &out, &e), -1);
	buf_fini(&out);
	buf_init(&out, 40);	/* too small for the header */
	assert_int_equal(exo_sign(&r, E_KEY, E_SECRET, &out, &e), -1);
	assert_int_equal(out.len, 0);
	buf_fini(&out);
}

static char *long_body(size_t n)
{
	char *p = malloc(n);

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)('a' + i % 26);
	return p;
}

static void test_exo_long_body(void **state)
{
	const size_t n = 1000000;
	char *body = long_body(n);
	struct exo_req r = {
		.method = "PUT", .path = E_POOL ":scale", .body = body, .body_len = n,
		.expires_unix_s = 1767225600,
	};
	struct err e = { "" };
	struct buf msg, auth;

	(void)state;
	buf_init(&msg, TEXT_MAX);
	buf_init(&auth, TEXT_MAX);
	assert_int_equal(exo_message(&r, &msg, &e), 0);
	assert_int_equal(msg.len, strlen("PUT " E_POOL ":scale\n") + n + strlen("\n\n\n1767225600"));
	assert_memory_equal(msg.p + strlen("PUT " E_POOL ":scale\n"), body, n);
	assert_int_equal(exo_sign(&r, E_KEY, E_SECRET, &auth, &e), 0);
	assert_string_equal(str(&auth),
	    "EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,expires=1767225600,"
	    "signature=iyHREHOm7BpL+66aDQYGKf94k5nn7pC8+RYJ/w+83Lw=");
	buf_fini(&msg);
	buf_fini(&auth);
	free(body);
}

/* ---- SigV4 ---- */

#define AK "AKIDEXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define DATE "20150830T123600Z"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define FORM "application/x-www-form-urlencoded; charset=utf-8"
#define AS_HOST "autoscaling.eu-west-1.amazonaws.com"
#define EC2_HOST "ec2.eu-west-1.amazonaws.com"
#define V0_TOKEN "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
#define A3_TOKEN "FwoGZXIvYXdzEXAMPLESESSIONTOKEN+/="

static const struct {
	const char *name, *method, *query, *host, *content_type, *body, *token;
	const char *region, *service;
	const char *canonical, *string_to_sign, *auth, *key_hex;
} v4_rows[] = {
	{ "V0_get_vanilla", "GET", NULL, "example.amazonaws.com", NULL, NULL, NULL,
	  "us-east-1", "service",
	  "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	  "host;x-amz-date\n" EMPTY_SHA,
	  "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
	  "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
	  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	  "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75" },
	/* The reference gives the string-to-sign hash and the Authorization;
	 * the canonical request is V0's plus the token header. */
	{ "V0b_get_vanilla_with_session_token", "GET", NULL, "example.amazonaws.com", NULL, NULL,
	  V0_TOKEN, "us-east-1", "service",
	  "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
	  "x-amz-security-token:" V0_TOKEN "\n\n"
	  "host;x-amz-date;x-amz-security-token\n" EMPTY_SHA,
	  "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
	  "067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b",
	  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	  "SignedHeaders=host;x-amz-date;x-amz-security-token, "
	  "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
	  "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75" },
	{ "A1_get_describe_groups", "GET",
	  "Action=DescribeAutoScalingGroups&AutoScalingGroupNames.member.1=web-asg&Version=2011-01-01",
	  AS_HOST, NULL, NULL, NULL, "eu-west-1", "autoscaling",
	  "GET\n/\n"
	  "Action=DescribeAutoScalingGroups&AutoScalingGroupNames.member.1=web-asg&Version=2011-01-01\n"
	  "host:" AS_HOST "\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" EMPTY_SHA,
	  "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-1/autoscaling/aws4_request\n"
	  "0307c1faf990f9350187e1989155c533e545aaf226856a96f758f2b0932595ba",
	  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/autoscaling/aws4_request, "
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=95c254e0e13d466a03945c9992d300a3f46422ace5864192a8e261dcf2baaf7b",
	  "ede3a0395d434cff7a270097db059a53db1c755a09794fda83e5b105aff237c2" },
	{ "A2_post_set_desired_capacity", "POST", NULL, AS_HOST, FORM,
	  "Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=web-asg"
	  "&DesiredCapacity=3&HonorCooldown=false", NULL, "eu-west-1", "autoscaling",
	  "POST\n/\n\ncontent-type:" FORM "\nhost:" AS_HOST "\nx-amz-date:20150830T123600Z\n\n"
	  "content-type;host;x-amz-date\n"
	  "ed4a336a0efddb50b87bca92b5b909decb55bb884a1f04c90828446c79380107",
	  "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-1/autoscaling/aws4_request\n"
	  "9bd92b2bf738d4de9ea97150303237b2198a4a74e141832274bf64a77802f319",
	  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/autoscaling/aws4_request, "
	  "SignedHeaders=content-type;host;x-amz-date, "
	  "Signature=659ca574ca7090fa7f6f8027f19ae5bac8e9f7c4834c97a1436c4a18121523bb",
	  "ede3a0395d434cff7a270097db059a53db1c755a09794fda83e5b105aff237c2" },
	{ "A3_post_terminate_with_token", "POST", NULL, AS_HOST, FORM,
	  "Action=TerminateInstanceInAutoScalingGroup&Version=2011-01-01"
	  "&InstanceId=i-0123456789abcdef0&ShouldDecrementDesiredCapacity=true", A3_TOKEN,
	  "eu-west-1", "autoscaling",
	  "POST\n/\n\ncontent-type:" FORM "\nhost:" AS_HOST "\nx-amz-date:20150830T123600Z\n"
	  "x-amz-security-token:" A3_TOKEN "\n\n"
	  "content-type;host;x-amz-date;x-amz-security-token\n"
	  "a22da1c5ebc8024f83cf1e79869ceb5ce50410bd073665c3da2c73e5319a7a57",
	  "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-1/autoscaling/aws4_request\n"
	  "b21e1581eb785e7789d6e81c80566c3bcc0afc98881c4df455f43a6c0fae910a",
	  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/autoscaling/aws4_request, "
	  "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
	  "Signature=916ef23f9a9400482d6496e4d405a71239c05cc26b1140e9c87c5b7b82e1be54",
	  "ede3a0395d434cff7a270097db059a53db1c755a09794fda83e5b105aff237c2" },
	{ "A4_post_ec2_describe_instances", "POST", NULL, EC2_HOST, FORM,
	  "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0"
	  "&InstanceId.2=i-0fedcba9876543210", NULL, "eu-west-1", "ec2",
	  "POST\n/\n\ncontent-type:" FORM "\nhost:" EC2_HOST "\nx-amz-date:20150830T123600Z\n\n"
	  "content-type;host;x-amz-date\n"
	  "7ebb90c484dd5c73115244db2ab161804e47da4584dbb68234bcff94a226e4f6",
	  "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-1/ec2/aws4_request\n"
	  "dbcea45cacba459b3833ad8838fe0c333e11be03cad0f19c793cbaccf027f0ff",
	  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/ec2/aws4_request, "
	  "SignedHeaders=content-type;host;x-amz-date, "
	  "Signature=d76e1a6746b31e7695a43f323d1e6b5dbf72973974e529864364ca9991723014",
	  "1c696c5229d594db9587fe77c385ed80decad0724aa97a6b991ce572c208d865" },
	/* The query as a client sends it (botocore-style form encoding, '+' for
	 * the space): the signer re-encodes it to %20, %3A, %2F. */
	{ "A5_get_ec2_tag_filter", "GET",
	  "Action=DescribeInstances&Version=2016-11-15"
	  "&Filter.1.Name=tag%3Aaws%3Aautoscaling%3AgroupName&Filter.1.Value.1=web+asg%2Fblue",
	  EC2_HOST, NULL, NULL, NULL, "eu-west-1", "ec2",
	  "GET\n/\n"
	  "Action=DescribeInstances&Filter.1.Name=tag%3Aaws%3Aautoscaling%3AgroupName"
	  "&Filter.1.Value.1=web%20asg%2Fblue&Version=2016-11-15\n"
	  "host:" EC2_HOST "\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" EMPTY_SHA,
	  "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-1/ec2/aws4_request\n"
	  "01148feb3c940fd4957d377230d8773c5e6fccf2dd5e547b0a8e752b1ddb3fda",
	  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/ec2/aws4_request, "
	  "SignedHeaders=host;x-amz-date, "
	  "Signature=2d84953fb02fea7b39ec4cbbedc275d92f2a6e8c9e6ac3ed983d9dcde42e4471",
	  "1c696c5229d594db9587fe77c385ed80decad0724aa97a6b991ce572c208d865" },
};

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void test_sigv4_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(v4_rows) / sizeof(v4_rows[0]); i++) {
		struct sigv4_header h[2] = {
			{ "Host", v4_rows[i].host }, { "Content-Type", v4_rows[i].content_type },
		};
		struct sigv4_creds c = { AK, SK, v4_rows[i].token };
		struct sigv4_req r = {
			.method = v4_rows[i].method, .path = "/", .query = v4_rows[i].query,
			.headers = h, .nheaders = v4_rows[i].content_type != NULL ? 2 : 1,
			.body = v4_rows[i].body,
			.body_len = v4_rows[i].body != NULL ? strlen(v4_rows[i].body) : 0,
			.amz_date = DATE, .region = v4_rows[i].region,
			.service = v4_rows[i].service,
		};
		struct err e = { "" };
		struct buf auth, creq, sts, auth_only;
		unsigned char key[32];
		char key_hex[65];

		print_message("%s\n", v4_rows[i].name);
		buf_init(&auth, TEXT_MAX);
		buf_init(&creq, TEXT_MAX);
		buf_init(&sts, TEXT_MAX);
		buf_init(&auth_only, TEXT_MAX);
		assert_int_equal(sigv4_sign(&r, &c, &auth, &creq, &sts, &e), 0);
		assert_string_equal(str(&creq), v4_rows[i].canonical);
		assert_string_equal(str(&sts), v4_rows[i].string_to_sign);
		assert_string_equal(str(&auth), v4_rows[i].auth);
		assert_int_equal(sigv4_sign(&r, &c, &auth_only, NULL, NULL, &e), 0);
		assert_string_equal(str(&auth_only), v4_rows[i].auth);
		assert_int_equal(sigv4_signing_key(SK, "20150830", v4_rows[i].region,
		    v4_rows[i].service, key), 0);
		hex(key, sizeof(key), key_hex);
		assert_string_equal(key_hex, v4_rows[i].key_hex);
		buf_fini(&auth);
		buf_fini(&creq);
		buf_fini(&sts);
		buf_fini(&auth_only);
	}
}

/* Signs a GET to EC2 with the given raw query; the Authorization into out. */
static int sign_query(const char *query, struct buf *out, struct err *e)
{
	struct sigv4_header h = { "Host", EC2_HOST };
	struct sigv4_creds c = { AK, SK, NULL };
	struct sigv4_req r = {
		.method = "GET", .path = "/", .query = query, .headers = &h, .nheaders = 1,
		.amz_date = DATE, .region = "eu-west-1", .service = "ec2",
	};

	return sigv4_sign(&r, &c, out, NULL, NULL, e);
}

/* A5's note: '+', %20, a raw ':' and parameter order on the wire all give
 * the same canonical query, so the same signature. */
static void test_sigv4_query_spellings(void **state)
{
	static const char *const spellings[] = {
		"Action=DescribeInstances&Version=2016-11-15"
		"&Filter.1.Name=tag%3Aaws%3Aautoscaling%3AgroupName&Filter.1.Value.1=web%20asg%2Fblue",
		"Filter.1.Value.1=web%20asg%2fblue&Filter.1.Name=tag:aws:autoscaling:groupName"
		"&Version=2016-11-15&Action=DescribeInstances",
		"Action=DescribeInstances&&Version=2016-11-15"
		"&Filter.1.Name=tag%3Aaws%3Aautoscaling%3AgroupName&Filter.1.Value.1=web+asg/blue&",
	};
	const char *want = v4_rows[sizeof(v4_rows) / sizeof(v4_rows[0]) - 1].auth;

	(void)state;
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		struct err e = { "" };
		struct buf out;

		print_message("spelling %zu\n", i);
		buf_init(&out, TEXT_MAX);
		assert_int_equal(sign_query(spellings[i], &out, &e), 0);
		assert_string_equal(str(&out), want);
		buf_fini(&out);
	}
}

static void test_sigv4_canonical_query_order(void **state)
{
	struct sigv4_header h = { "Host", EC2_HOST };
	struct sigv4_creds c = { AK, SK, NULL };
	struct sigv4_req r = {
		.method = "GET", .path = "/", .headers = &h, .nheaders = 1,
		.amz_date = DATE, .region = "eu-west-1", .service = "ec2",
		/* Sorted by encoded name, then value: "a" before "a-b" (not
		 * "a-b=" before "a="), repeated names by value, '~' kept and
		 * bytes above it encoded; no '=' means an empty value. */
		.query = "a-b=1&a=2&a=10&z=%7E%7F%C3%A9&flag",
	};
	struct err e = { "" };
	struct buf auth, creq;

	(void)state;
	buf_init(&auth, TEXT_MAX);
	buf_init(&creq, TEXT_MAX);
	assert_int_equal(sigv4_sign(&r, &c, &auth, &creq, NULL, &e), 0);
	assert_string_equal(str(&creq),
	    "GET\n/\na=10&a=2&a-b=1&flag=&z=~%7F%C3%A9\n"
	    "host:" EC2_HOST "\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" EMPTY_SHA);
	buf_fini(&auth);
	buf_fini(&creq);
}

static void test_sigv4_headers_and_path(void **state)
{
	struct sigv4_header h[] = {
		{ "X-Custom", "  a   b \t c  " }, { "HOST", "example.amazonaws.com" },
		{ "x-empty", "   " },
	};
	struct sigv4_creds c = { AK, SK, "" };	/* "" is no token */
	struct sigv4_req r = {
		.method = "GET", .path = "/a b/c%2F/", .headers = h, .nheaders = 3,
		.amz_date = DATE, .region = "us-east-1", .service = "service",
	};
	struct err e = { "" };
	struct buf auth, creq;

	(void)state;
	buf_init(&auth, TEXT_MAX);
	buf_init(&creq, TEXT_MAX);
	assert_int_equal(sigv4_sign(&r, &c, &auth, &creq, NULL, &e), 0);
	assert_string_equal(str(&creq),
	    "GET\n/a%20b/c%252F/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
	    "x-custom:a b c\nx-empty:\n\nhost;x-amz-date;x-custom;x-empty\n" EMPTY_SHA);
	buf_fini(&auth);
	buf_fini(&creq);
}

static const struct {
	const char *name, *method, *path, *query, *host, *extra_name, *extra_value, *date;
} v4_bad[] = {
	{ "malformed_escape", "GET", "/", "a=%G1", "h", NULL, NULL, DATE },
	{ "truncated_escape", "GET", "/", "a=%4", "h", NULL, NULL, DATE },
	{ "escape_in_name", "GET", "/", "a%=1", "h", NULL, NULL, DATE },
	{ "nul_in_value", "GET", "/", "a=%00", "h", NULL, NULL, DATE },
	{ "no_host", "GET", "/", NULL, NULL, "X-Other", "1", DATE },
	{ "host_twice", "GET", "/", NULL, "h", "host", "h2", DATE },
	{ "caller_date", "GET", "/", NULL, "h", "X-Amz-Date", DATE, DATE },
	{ "caller_token", "GET", "/", NULL, "h", "x-amz-security-token", "t", DATE },
	{ "header_name_not_token", "GET", "/", NULL, "h", "bad name", "1", DATE },
	{ "header_value_newline", "GET", "/", NULL, "h", "X-A", "1\r\nX-B: 2", DATE },
	{ "bad_date", "GET", "/", NULL, "h", NULL, NULL, "2015-08-30T12:36:00Z" },
	{ "short_date", "GET", "/", NULL, "h", NULL, NULL, "20150830T1236Z" },
	{ "no_method", "", "/", NULL, "h", NULL, NULL, DATE },
	{ "relative_path", "GET", "a", NULL, "h", NULL, NULL, DATE },
	{ "dot_segment", "GET", "/a/../b", NULL, "h", NULL, NULL, DATE },
	{ "empty_segment", "GET", "//a", NULL, "h", NULL, NULL, DATE },
};

static void test_sigv4_rejects(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(v4_bad) / sizeof(v4_bad[0]); i++) {
		struct sigv4_header h[2];
		struct sigv4_creds c = { AK, SK, NULL };
		struct sigv4_req r = {
			.method = v4_bad[i].method, .path = v4_bad[i].path,
			.query = v4_bad[i].query, .headers = h, .amz_date = v4_bad[i].date,
			.region = "eu-west-1", .service = "ec2",
		};
		struct err e = { "" };
		struct buf auth, creq, sts;

		print_message("%s\n", v4_bad[i].name);
		if (v4_bad[i].host != NULL)
			h[r.nheaders++] = (struct sigv4_header){ "Host", v4_bad[i].host };
		if (v4_bad[i].extra_name != NULL)
			h[r.nheaders++] = (struct sigv4_header){ v4_bad[i].extra_name,
			    v4_bad[i].extra_value };
		buf_init(&auth, TEXT_MAX);
		buf_init(&creq, TEXT_MAX);
		buf_init(&sts, TEXT_MAX);
		assert_int_equal(buf_appends(&auth, "a"), 0);
		assert_int_equal(buf_appends(&creq, "cr"), 0);
		assert_int_equal(buf_appends(&sts, "sts"), 0);
		assert_int_equal(sigv4_sign(&r, &c, &auth, &creq, &sts, &e), -1);
		assert_true(e.msg[0] != '\0');
		assert_int_equal(auth.len, 1);	/* all left as they were */
		assert_int_equal(creq.len, 2);
		assert_int_equal(sts.len, 3);
		buf_fini(&auth);
		buf_fini(&creq);
		buf_fini(&sts);
	}
}

static void test_sigv4_credentials_and_full_buffer(void **state)
{
	struct sigv4_header h = { "Host", EC2_HOST };
	struct sigv4_req r = {
		.method = "GET", .path = "/", .headers = &h, .nheaders = 1,
		.amz_date = DATE, .region = "eu-west-1", .service = "ec2",
	};
	struct sigv4_creds no_secret = { AK, "", NULL }, no_key = { NULL, SK, NULL };
	struct sigv4_creds c = { AK, SK, NULL };
	struct err e = { "" };
	struct buf out, creq;

	(void)state;
	buf_init(&out, TEXT_MAX);
	assert_int_equal(sigv4_sign(&r, &no_secret, &out, NULL, NULL, &e), -1);
	assert_int_equal(sigv4_sign(&r, &no_key, &out, NULL, NULL, &e), -1);
	r.region = "";
	assert_int_equal(sigv4_sign(&r, &c, &out, NULL, NULL, &e), -1);
	r.region = "eu-west-1";
	buf_init(&creq, 20);	/* too small for the canonical request */
	assert_int_equal(sigv4_sign(&r, &c, &out, &creq, NULL, &e), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(creq.len, 0);
	buf_fini(&creq);
	buf_fini(&out);
}

/* 1 MB form body; expected value from botocore's SigV4Auth. */
static void test_sigv4_long_body(void **state)
{
	const size_t n = 1000000;
	char *body = long_body(n);
	struct sigv4_header h[] = { { "Host", AS_HOST }, { "Content-Type", FORM } };
	struct sigv4_creds c = { AK, SK, NULL };
	struct sigv4_req r = {
		.method = "POST", .path = "/", .headers = h, .nheaders = 2, .body = body,
		.body_len = n, .amz_date = DATE, .region = "eu-west-1",
		.service = "autoscaling",
	};
	struct err e = { "" };
	struct buf auth, creq;
	const char *want_tail =
	    "\n1fa51eae26c4db865aca1af630e5fa892611eb6dad42accaf4e9c8745f7177bf";

	(void)state;
	buf_init(&auth, TEXT_MAX);
	buf_init(&creq, TEXT_MAX);
	assert_int_equal(sigv4_sign(&r, &c, &auth, &creq, NULL, &e), 0);
	assert_true(creq.len > strlen(want_tail));
	assert_string_equal(str(&creq) + creq.len - strlen(want_tail), want_tail);
	assert_string_equal(str(&auth),
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/autoscaling/aws4_request, "
	    "SignedHeaders=content-type;host;x-amz-date, "
	    "Signature=dfdd6ae38a150b5c770589dd9163c2cbb9f03168762a49af992d492b32b12fd8");
	buf_fini(&auth);
	buf_fini(&creq);
	free(body);
}

static const struct {
	const char *name;
	int64_t unix_s;
	const char *want;
} dates[] = {
	{ "vectors_date", 1440938160, "20150830T123600Z" },
	{ "epoch", 0, "19700101T000000Z" },
	{ "second_before_epoch", -1, "19691231T235959Z" },
	{ "leap_day", 1709164800, "20240229T000000Z" },
	{ "end_of_2000", 978307199, "20001231T235959Z" },
	{ "exoscale_expiry", 3376684800, "20770101T000000Z" },
	{ "last_second", 253402300799, "99991231T235959Z" },
	{ "clamped_high", INT64_MAX, "99991231T235959Z" },
	{ "clamped_low", INT64_MIN, "00000101T000000Z" },
};

static void test_amz_date(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		char dst[17];

		print_message("%s\n", dates[i].name);
		memset(dst, 'x', sizeof(dst));
		sigv4_amz_date(dates[i].unix_s, dst);
		assert_string_equal(dst, dates[i].want);
	}
}

static void test_uri_encode(void **state)
{
	static const char in[] = "AZaz09-_.~ /:+=&%\x7f\x80\xff";
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(sigv4_uri_encode(&b, in, sizeof(in) - 1), 0);
	assert_string_equal(str(&b), "AZaz09-_.~%20%2F%3A%2B%3D%26%25%7F%80%FF");
	buf_fini(&b);
	buf_init(&b, 5);	/* "%20%20" does not fit: left unchanged */
	assert_int_equal(sigv4_uri_encode(&b, "  ", 2), -1);
	assert_int_equal(b.len, 0);
	assert_int_equal(sigv4_uri_encode(&b, "", 0), 0);
	buf_fini(&b);
}

static void test_query_decode(void **state)
{
	struct sigv4_query q;
	struct err e = { "" };

	(void)state;
	assert_int_equal(sigv4_query_decode("b=x+y%2b&&a&=v&c=1=2", &q, &e), 0);
	assert_int_equal(q.n, 4);
	assert_string_equal(q.v[0].name, "b");
	assert_string_equal(q.v[0].value, "x y+");
	assert_string_equal(q.v[1].name, "a");
	assert_string_equal(q.v[1].value, "");
	assert_string_equal(q.v[2].name, "");
	assert_string_equal(q.v[2].value, "v");
	assert_string_equal(q.v[3].name, "c");
	assert_string_equal(q.v[3].value, "1=2");
	sigv4_query_fini(&q);
	assert_int_equal(sigv4_query_decode(NULL, &q, &e), 0);
	assert_int_equal(q.n, 0);
	sigv4_query_fini(&q);
	assert_int_equal(sigv4_query_decode("a=%G1", &q, &e), -1);
	assert_string_equal(e.msg, "query: malformed escape \"%G1\"");
	assert_int_equal(sigv4_query_decode("a=1%", &q, &e), -1);
}

/* Every prefix of a query ends right before an unreadable page, so a
 * decoder looking past the NUL (say, for the digits of a cut "%4") faults. */
static void test_query_decode_truncations(void **state)
{
	static const char full[] = "Filter.1.Value.1=web+asg%2Fblue&a=%41&&b&=";

	(void)state;
	for (size_t len = 0; len < sizeof(full); len++) {
		struct guarded g;
		struct sigv4_query q;
		struct err e = { "" };
		char *p = guard_copy(&g, full, len + 1);

		p[len] = '\0';
		if (sigv4_query_decode(p, &q, &e) == 0)
			sigv4_query_fini(&q);
		else
			assert_true(e.msg[0] != '\0');
		guard_free(&g);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exo_vectors),
		cmocka_unit_test(test_exo_rejects),
		cmocka_unit_test(test_exo_key_with_separator),
		cmocka_unit_test(test_exo_credentials_and_full_buffer),
		cmocka_unit_test(test_exo_long_body),
		cmocka_unit_test(test_sigv4_vectors),
		cmocka_unit_test(test_sigv4_query_spellings),
		cmocka_unit_test(test_sigv4_canonical_query_order),
		cmocka_unit_test(test_sigv4_headers_and_path),
		cmocka_unit_test(test_sigv4_rejects),
		cmocka_unit_test(test_sigv4_credentials_and_full_buffer),
		cmocka_unit_test(test_sigv4_long_body),
		cmocka_unit_test(test_amz_date),
		cmocka_unit_test(test_uri_encode),
		cmocka_unit_test(test_query_decode),
		cmocka_unit_test(test_query_decode_truncations),
	};

	return cmocka_run_group_tests_name("sign", tests, NULL, NULL);
}
