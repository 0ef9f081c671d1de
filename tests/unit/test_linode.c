/* The linode provider's pure parts: what an instance status means, the API
 * v4 replies it reads (instances, /ips, nodes, errors), the create body it
 * sends, labels and tags, and the provider.linode config section. Every
 * reader gets every prefix of a good reply: an error, never a crash or a
 * guess. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/config.h"
#include "guard.h"
#include "provider/linode.h"
#include "provider/linode_json.h"

/* Trimmed from a recorded reply [reference §3], with fields newer than the
 * spec that a strict reader must ignore. */
static const char instances_json[] =
	"{\"data\": [{\"id\": 77641926, \"label\": \"ps-web-0a1b2c3d\", \"group\": \"\","
	" \"status\": \"provisioning\", \"created\": \"2018-01-02T03:04:05\","
	" \"type\": \"g6-nanode-1\", \"ipv4\": [\"192.0.2.1\", \"192.168.133.234\"],"
	" \"ipv6\": \"1234::5678/128\", \"tags\": [\"poolscale-web\"], \"site_type\": \"core\","
	" \"placement_group\": null, \"capabilities\": []},"
	" {\"id\": 77641927, \"label\": \"ps-web-ffff0000\", \"status\": \"running\"}],"
	" \"page\": 1, \"pages\": 3, \"results\": 250}";

static const char ips_json[] =
	"{\"ipv4\": {\"public\": [{\"address\": \"203.0.113.1\", \"public\": true, \"prefix\": 24}],"
	" \"private\": [{\"address\": \"192.168.133.234\", \"public\": false, \"prefix\": 17,"
	" \"subnet_mask\": \"255.255.128.0\", \"type\": \"ipv4\"}], \"shared\": [],"
	" \"reserved\": []}, \"ipv6\": {\"slaac\": {\"address\": \"c001:d00d::1337\"}}}";

static const char nodes_json[] =
	"{\"data\": [{\"id\": 2104029484, \"address\": \"192.168.210.120:80\","
	" \"label\": \"node-1\", \"status\": \"Unknown\", \"weight\": 50, \"mode\": \"accept\","
	" \"config_id\": 2450488, \"nodebalancer_id\": 1595317, \"vpc_config_id\": null}],"
	" \"page\": 2, \"pages\": 2, \"results\": 101}";

static void test_status_phase(void **state)
{
	static const struct { const char *status; enum lin_phase phase; } cases[] = {
		{ "running", LIN_PHASE_RUNNING },
		{ "provisioning", LIN_PHASE_PENDING },
		{ "booting", LIN_PHASE_PENDING },
		{ "offline", LIN_PHASE_STOPPING },
		{ "shutting_down", LIN_PHASE_STOPPING },
		{ "deleting", LIN_PHASE_STOPPING },
		{ "stopped", LIN_PHASE_STOPPING },
		/* Anything else is "not ready", never an error [reference §3]. */
		{ "busy", LIN_PHASE_PENDING },
		{ "migrating", LIN_PHASE_PENDING },
		{ "resizing", LIN_PHASE_PENDING },
		{ "a-status-from-2030", LIN_PHASE_PENDING },
		{ "Running", LIN_PHASE_PENDING },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (lin_status_phase(cases[i].status) != cases[i].phase)
			fail_msg("%s: %s", cases[i].status, lin_phase_name(lin_status_phase(
			    cases[i].status)));
	}
	assert_string_equal(lin_phase_name(LIN_PHASE_STOPPING), "stopping");
}

static void test_instances(void **state)
{
	struct lin_instances l;
	struct err e;

	(void)state;
	assert_int_equal(lin_parse_instances(instances_json, strlen(instances_json), &l, &e), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.page, 1);
	assert_int_equal(l.pages, 3);
	assert_int_equal(l.results, 250);
	assert_int_equal(l.v[0].id, 77641926);
	assert_string_equal(l.v[0].label, "ps-web-0a1b2c3d");
	assert_string_equal(l.v[0].status, "provisioning");
	assert_int_equal(l.v[0].created_unix_s, 1514862245);	/* UTC, no zone suffix */
	assert_int_equal(l.v[1].created_unix_s, 0);
	lin_instances_fini(&l);
	static const char empty[] = "{\"data\": [], \"page\": 1, \"pages\": 0, \"results\": 0}";
	assert_int_equal(lin_parse_instances(empty, strlen(empty), &l, &e), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.results, 0);
	lin_instances_fini(&l);
	/* No count given is unknown, not zero: the reader cannot check it. */
	static const char uncounted[] = "{\"data\": [], \"page\": 1, \"pages\": 1}";
	assert_int_equal(lin_parse_instances(uncounted, strlen(uncounted), &l, &e), 0);
	assert_int_equal(l.results, -1);
	lin_instances_fini(&l);
}

static void test_ips_and_nodes(void **state)
{
	char priv[48];
	struct lin_nodes n;
	struct err e;
	int64_t id;
	static const char no_private[] = "{\"ipv4\": {\"public\": [{\"address\": \"203.0.113.1\"}],"
	    " \"private\": []}}";

	(void)state;
	assert_int_equal(lin_parse_private_ip(ips_json, strlen(ips_json), priv, sizeof(priv), &e),
	    0);
	assert_string_equal(priv, "192.168.133.234");
	assert_int_equal(lin_parse_private_ip(no_private, strlen(no_private), priv, sizeof(priv),
	    &e), 0);
	assert_string_equal(priv, "");
	assert_int_equal(lin_parse_nodes(nodes_json, strlen(nodes_json), &n, &e), 0);
	assert_int_equal(n.n, 1);
	assert_int_equal(n.page, 2);
	assert_int_equal(n.results, 101);
	assert_int_equal(n.v[0].id, 2104029484);
	assert_string_equal(n.v[0].address, "192.168.210.120:80");
	assert_string_equal(n.v[0].mode, "accept");
	lin_nodes_fini(&n);
	assert_int_equal(lin_parse_id(nodes_json + 10, 0, &id, &e), -1);
	assert_int_equal(lin_parse_id("{\"id\": 5}", 9, &id, &e), 0);
	assert_int_equal(id, 5);
}

static void test_bad_replies(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"page\": 1, \"pages\": 1}",
		"{\"data\": {}, \"page\": 1, \"pages\": 1}",
		"{\"data\": [], \"pages\": 1}",
		("{\"data\": [{\"id\": \"1\", \"label\": \"ab-c\", \"status\": \"running\"}],"
		" \"page\": 1, \"pages\": 1}"),
		"{\"data\": [{\"id\": 1, \"status\": \"running\"}], \"page\": 1, \"pages\": 1}",
		"{\"data\": [{\"id\": 1, \"label\": \"ab-c\"}], \"page\": 1, \"pages\": 1}",
		"{\"data\": [1], \"page\": 1, \"pages\": 1}",
		"{\"data\": [], \"data\": [], \"page\": 1, \"pages\": 1}",
	};
	struct lin_instances l;
	struct lin_nodes n;
	char priv[48];
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (lin_parse_instances(bad[i], strlen(bad[i]), &l, &e) != -1)
			fail_msg("accepted %s", bad[i]);
		if (i != 4 && i != 6 && lin_parse_nodes(bad[i], strlen(bad[i]), &n, &e) != -1)
			fail_msg("nodes accepted %s", bad[i]);
	}
	assert_int_equal(lin_parse_private_ip("{\"ipv4\": {\"private\": {}}}", 25, priv,
	    sizeof(priv), &e), -1);
	for (size_t len = 0; len < strlen(instances_json) - 1; len++) {
		struct guarded g;
		char *p = guard_copy(&g, instances_json, len);

		assert_int_equal(lin_parse_instances(p, len, &l, &e), -1);
		guard_free(&g);
	}
	for (size_t len = 0; len < strlen(nodes_json) - 1; len++) {
		struct guarded g;
		char *p = guard_copy(&g, nodes_json, len);

		assert_int_equal(lin_parse_nodes(p, len, &n, &e), -1);
		guard_free(&g);
	}
	for (size_t len = 0; len < strlen(ips_json) - 1; len++) {
		struct guarded g;
		char *p = guard_copy(&g, ips_json, len);

		assert_int_equal(lin_parse_private_ip(p, len, priv, sizeof(priv), &e), -1);
		guard_free(&g);
	}
}

static void test_errors(void **state)
{
	char m[128];
	static const char taken[] = "{\"errors\": [{\"reason\": \"Label must be unique among "
	    "your linodes\", \"field\": \"label\"}]}";
	static const char two[] = "{\"errors\": [{\"reason\": \"region is not valid\", "
	    "\"field\": \"region\"}, {\"reason\": \"Invalid Token\"}]}";
	static const char busy[] = "{\"errors\": [{\"reason\": \"Linode busy.\"}]}";
	static const char other[] = "{\"errors\": [{\"reason\": \"Tags must be unique\", "
	    "\"field\": \"tags\"}]}";

	(void)state;
	lin_error_message(two, strlen(two), m, sizeof(m));
	assert_string_equal(m, "region: region is not valid; Invalid Token");
	lin_error_message("<html>bad gateway</html>\n", 25, m, sizeof(m));
	assert_string_equal(m, "<html>bad gateway</html>");
	assert_true(lin_error_label_taken(taken, strlen(taken)));
	assert_false(lin_error_label_taken(two, strlen(two)));
	/* The same words about another field are not the label's. */
	assert_false(lin_error_label_taken(other, strlen(other)));
	assert_true(lin_error_busy(busy, strlen(busy)));
	assert_false(lin_error_busy(taken, strlen(taken)));
}

static void test_create_body(void **state)
{
	const char *keys[] = { "ssh-ed25519 AAAA ops@example" };
	struct lin_create c = {
		.region = "us-east", .type = "g6-nanode-1", .image = "linode/debian12",
		.label = "ps-web-0a1b2c3d", .tag = "poolscale-web", .root_pass = "Xy1-secret-pass",
		.keys = keys, .nkeys = 1, .firewall_id = 1001, .user_data_b64 = "I2Nsb3VkLWNvbmZpZwo=",
	};
	char *s = lin_create_body(&c);
	json_t *o = json_loads(s, 0, NULL);

	(void)state;
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "region")), "us-east");
	assert_string_equal(json_string_value(json_object_get(o, "label")), "ps-web-0a1b2c3d");
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "tags"), 0)),
	    "poolscale-web");
	assert_true(json_is_true(json_object_get(o, "private_ip")));
	assert_true(json_is_true(json_object_get(o, "booted")));
	assert_int_equal(json_integer_value(json_object_get(o, "firewall_id")), 1001);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "metadata"),
	    "user_data")), "I2Nsb3VkLWNvbmZpZwo=");
	assert_int_equal(json_array_size(json_object_get(o, "authorized_keys")), 1);
	json_decref(o);
	free(s);
	/* No firewall, keys or cloud-init: the keys are left out, not null. */
	c.firewall_id = 0;
	c.nkeys = 0;
	c.user_data_b64 = NULL;
	s = lin_create_body(&c);
	o = json_loads(s, 0, NULL);
	assert_null(json_object_get(o, "firewall_id"));
	assert_null(json_object_get(o, "metadata"));
	assert_null(json_object_get(o, "authorized_keys"));
	json_decref(o);
	free(s);
}

static void test_labels_and_tags(void **state)
{
	struct err e;

	(void)state;
	assert_true(lin_label_ok("ps-web-0a1b2c3d"));
	assert_true(lin_label_ok("abc"));
	assert_false(lin_label_ok("ab"));
	assert_false(lin_label_ok("1ps-web"));
	assert_false(lin_label_ok("ps--web"));
	assert_false(lin_label_ok("ps-web-"));
	assert_false(lin_label_ok("ps_web"));
	assert_false(lin_label_ok("PS-web"));
	assert_int_equal(linode_tag_check("poolscale-web", &e), 0);
	assert_int_equal(linode_tag_check("ab", &e), -1);
	assert_int_equal(linode_tag_check("a b c", &e), -1);
	assert_int_equal(linode_tag_check("a\"bc", &e), -1);
}

static void test_config(void **state)
{
	struct ctl_cfg c;
	struct buf errs;
	static const char good[] = "provider:\n  kind: linode\n  app_port: 8081\n  linode:\n"
	    "    region: us-east\n    type: g6-nanode-1\n    image: linode/debian12\n"
	    "    tag: poolscale-web\n    authorized_keys: [\"ssh-ed25519 AAAA x\"]\n"
	    "    nodebalancer_id: 4\n    nodebalancer_config_id: 7\n";
	static const char missing[] = "provider:\n  kind: linode\n  linode:\n"
	    "    region: us-east\n    authorized_keys: [\"not a key\"]\n    firewall_id: 0\n";

	(void)state;
	buf_init(&errs, 4096);
	assert_int_equal(ctl_cfg_load_string("t.yml", good, &c, &errs), 0);
	assert_string_equal(c.provider, "linode");
	assert_string_equal(c.linode.tag, "poolscale-web");
	assert_string_equal(c.linode.label_prefix, "poolscale");
	assert_int_equal(c.linode.nkeys, 1);
	assert_int_equal(c.linode.node_port, 8081);	/* the app's port by default */
	assert_int_equal(c.linode.nodebalancer_config_id, 7);
	ctl_cfg_fini(&c);
	buf_reset(&errs);
	assert_int_not_equal(ctl_cfg_load_string("t.yml", missing, &c, &errs), 0);
	assert_int_equal(buf_append(&errs, "", 1), 0);
	assert_non_null(strstr(errs.p, "t.yml:5: provider.linode.authorized_keys: not an OpenSSH"));
	assert_non_null(strstr(errs.p, "t.yml:6: provider.linode.firewall_id"));
	assert_non_null(strstr(errs.p, "provider.linode.type: missing"));
	assert_non_null(strstr(errs.p, "provider.linode.tag: missing"));
	ctl_cfg_fini(&c);
	buf_fini(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_phase),
		cmocka_unit_test(test_instances),
		cmocka_unit_test(test_ips_and_nodes),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_create_body),
		cmocka_unit_test(test_labels_and_tags),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
