/* Endpoint URLs, Exoscale zone names and the v1 zone UUIDs of the seeds'
 * tools: what is accepted, and that every refusal says why. Each input
 * ends right before an unreadable page, so a read past its NUL faults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "controller/config.h"
#include "guard.h"
#include "provider/endpoint.h"
#include "provider/exo_zone.h"

enum which { ANY, EXO, ZONE };

static const struct {
	const char *name;
	enum which which;
	const char *in;
	const char *want;	/* NULL: accepted; else part of the reason */
} rows[] = {
	{ "https_host_path", ANY, "https://autoscaling.eu-west-1.amazonaws.com/", NULL },
	{ "http_ip_port", ANY, "http://127.0.0.1:18507/", NULL },
	{ "scheme_any_case", ANY, "HTTPS://example.com", NULL },
	{ "ipv6_port", ANY, "http://[::1]:8080/", NULL },
	{ "no_scheme", ANY, "127.0.0.1:18507/v2", "has no scheme: write https://127.0.0.1:18507/v2" },
	{ "ftp", ANY, "ftp://127.0.0.1/v2", "the scheme ftp is not http or https" },
	{ "file", ANY, "file:///etc/passwd", "the scheme file is not http or https" },
	{ "empty", ANY, "", "the endpoint is empty" },
	{ "no_host", ANY, "https:///v2", "has no host" },
	{ "port_only", ANY, "https://:443/v2", "has no host" },
	{ "port_zero", ANY, "http://h:0/", "the port is not 1..65535" },
	{ "port_high", ANY, "http://h:65536/", "the port is not 1..65535" },
	{ "port_letters", ANY, "http://h:80a/", "the port is not 1..65535" },
	{ "port_empty", ANY, "http://h:/", "the port is not 1..65535" },
	{ "user_info", ANY, "https://key:secret@h/v2", "has user info" },
	{ "query", ANY, "https://h/v2?x=1", "has a query or fragment" },
	{ "fragment", ANY, "https://h/v2#x", "has a query or fragment" },
	{ "space", ANY, "https://h /v2", "has a space or a control character" },
	{ "newline", ANY, "https://h/v2\n", "has a space or a control character" },
	{ "ipv6_unclosed", ANY, "http://[::1/", "bad IPv6 host" },
	{ "ipv6_junk_after", ANY, "http://[::1]x/", "bad IPv6 host" },
	{ "exo_default", EXO, "https://api-ch-gva-2.exoscale.com/v2", NULL },
	{ "exo_trailing_slash", EXO, "http://127.0.0.1:18507/v2/", NULL },
	{ "exo_proxy_prefix", EXO, "https://proxy.example/exoscale/v2", NULL },
	{ "exo_seed_default_v1", EXO, "https://api.exoscale.ch/v1/", "is an Exoscale API v1 endpoint" },
	{ "exo_cloudstack", EXO, "https://api.exoscale.com/compute", "is an Exoscale API v1 endpoint" },
	{ "exo_no_path", EXO, "https://api-ch-gva-2.exoscale.com", "does not end in /v2" },
	{ "exo_v2_inside", EXO, "https://h/v2/instance-pool", "does not end in /v2" },
	{ "exo_v20", EXO, "https://h/v20", "does not end in /v2" },
	{ "exo_no_scheme", EXO, "api-ch-gva-2.exoscale.com/v2", "has no scheme" },
	{ "zone_gva", ZONE, "ch-gva-2", NULL },
	{ "zone_one_char", ZONE, "a", NULL },
	{ "zone_31", ZONE, "abcdefghij-abcdefghij-abcdefghi", NULL },
	{ "zone_32", ZONE, "abcdefghij-abcdefghij-abcdefghij", "is not a zone name" },
	{ "zone_spaces", ZONE, "ch gva 2", "\"ch gva 2\" is not a zone name" },
	{ "zone_upper", ZONE, "CH-GVA-2", "is not a zone name" },
	{ "zone_lead_dash", ZONE, "-ch-gva-2", "is not a zone name" },
	{ "zone_trail_dash", ZONE, "ch-gva-", "is not a zone name" },
	{ "zone_dot", ZONE, "ch.gva", "is not a zone name" },
	{ "zone_empty", ZONE, "", "is not a zone name" },
	{ "zone_known_uuid", ZONE, "4da1b188-dcd6-4ff5-b7fd-bde984055548",
	  "is a zone UUID, not a zone name: give at-vie-1" },
	{ "zone_unknown_uuid", ZONE, "00000000-0000-4000-8000-000000000000",
	  "zone UUID 00000000-0000-4000-8000-000000000000 is unknown (poolscale knows at-vie-1, "
	  "bg-sof-1, ch-dk-2, ch-gva-2, de-fra-1, de-muc-1)" },
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct guarded g;
		char *in = guard_copy(&g, rows[i].in, strlen(rows[i].in) + 1);
		struct err e = { "" };
		int rc = rows[i].which == ANY ? prov_endpoint_check(in, &e) :
		    rows[i].which == EXO ? exo_endpoint_check(in, &e) : exo_zone_check(in, &e);

		print_message("%s\n", rows[i].name);
		if (rows[i].want == NULL && rc != 0)
			fail_msg("%s: refused: %s", rows[i].name, e.msg);
		if (rows[i].want != NULL && (rc != -1 || strstr(e.msg, rows[i].want) == NULL))
			fail_msg("%s: rc %d, \"%s\" lacks \"%s\"", rows[i].name, rc, e.msg,
			    rows[i].want);
		guard_free(&g);
	}
}

/* The table, as `exo zone` listed the v1 zones; any case, as egoscale
 * parses UUIDs. */
static void test_zone_uuids(void **state)
{
	static const struct { const char *uuid, *name; } known[] = {
		{ "4da1b188-dcd6-4ff5-b7fd-bde984055548", "at-vie-1" },
		{ "70e5f8b1-0b2c-4457-a5e0-88bcf1f3db68", "bg-sof-1" },
		{ "91e5e9e4-c9ed-4b76-bee4-427004b3baf9", "ch-dk-2" },
		{ "1128bd56-b4d9-4ac6-a7b9-c715b187ce11", "ch-gva-2" },
		{ "35eb7739-d19e-45f7-a581-4687c54d6d02", "de-fra-1" },
		{ "85664334-0fd5-47bd-94a1-b4f40b1d2eb7", "de-muc-1" },
		{ "4DA1B188-DCD6-4FF5-B7FD-BDE984055548", "at-vie-1" },
	};
	char zone[32];
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		assert_string_equal(exo_zone_by_uuid(known[i].uuid), known[i].name);
		assert_int_equal(exo_zone_from_id(known[i].uuid, zone, sizeof(zone), &e), 0);
		assert_string_equal(zone, known[i].name);
	}
	assert_null(exo_zone_by_uuid("00000000-0000-4000-8000-000000000000"));
	assert_null(exo_zone_by_uuid("at-vie-1"));
	/* A name is taken as it is; an unknown UUID or a bad name is refused. */
	assert_int_equal(exo_zone_from_id("de-fra-1", zone, sizeof(zone), &e), 0);
	assert_string_equal(zone, "de-fra-1");
	assert_int_equal(exo_zone_from_id("00000000-0000-4000-8000-000000000000", zone,
	    sizeof(zone), &e), -1);
	assert_non_null(strstr(e.msg, "is unknown"));
	assert_int_equal(exo_zone_from_id("ch gva 2", zone, sizeof(zone), &e), -1);
	assert_non_null(strstr(e.msg, "is not a zone name"));
}

/* The config reports each as FILE:LINE; a good endpoint and zone load. */
static void test_config_lines(void **state)
{
	static const struct { const char *name, *text, *want; } cfg[] = {
		{ "exo_no_scheme", "provider:\n  exoscale:\n    endpoint: 127.0.0.1:18507/v2\n",
		  "/p.yml:3: provider.exoscale.endpoint: \"127.0.0.1:18507/v2\" has no scheme" },
		{ "exo_ftp", "provider:\n  exoscale:\n    endpoint: ftp://h/v2\n",
		  "/p.yml:3: provider.exoscale.endpoint: \"ftp://h/v2\": the scheme ftp" },
		{ "zone_spaces", "provider:\n  exoscale:\n    zone: \"ch gva 2\"\n",
		  "/p.yml:3: provider.exoscale.zone: \"ch gva 2\" is not a zone name" },
		{ "zone_uuid", "provider:\n  exoscale:\n    zone: 4da1b188-dcd6-4ff5-b7fd-bde984055548\n",
		  "/p.yml:3: provider.exoscale.zone: \"4da1b188-dcd6-4ff5-b7fd-bde984055548\" is a "
		  "zone UUID" },
		{ "aws_no_scheme", "provider:\n  aws:\n    ec2_endpoint: ec2.amazonaws.com\n",
		  "/p.yml:3: provider.aws.ec2_endpoint: \"ec2.amazonaws.com\" has no scheme" },
	};
	struct ctl_cfg c;
	struct buf errs;

	(void)state;
	for (size_t i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++) {
		print_message("%s\n", cfg[i].name);
		buf_init(&errs, 1 << 16);
		assert_int_equal(ctl_cfg_load_string("/p.yml", cfg[i].text, &c, &errs), 1);
		buf_append(&errs, "", 1);
		if (strstr(errs.p, cfg[i].want) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", cfg[i].name, errs.p, cfg[i].want);
		ctl_cfg_fini(&c);
		buf_fini(&errs);
	}
	buf_init(&errs, 1 << 16);
	assert_int_equal(ctl_cfg_load_string("/p.yml", "provider:\n  exoscale:\n    zone: de-fra-1\n"
	    "    endpoint: http://127.0.0.1:1/v2\n  aws:\n    endpoint: http://127.0.0.1:2/\n",
	    &c, &errs), 0);
	assert_string_equal(c.exoscale.zone, "de-fra-1");
	assert_string_equal(c.exoscale.endpoint, "http://127.0.0.1:1/v2");
	assert_string_equal(c.aws.endpoint, "http://127.0.0.1:2/");
	ctl_cfg_fini(&c);
	buf_fini(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_zone_uuids),
		cmocka_unit_test(test_config_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
