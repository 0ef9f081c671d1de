/* Webhook bodies (the reference samples of Alertmanager 0.25 and Grafana)
 * and Prometheus query answers: what counts as a signal or a value, and
 * what is rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "common/buf.h"
#include "controller/webhook.h"
#include "promql/query.h"

static char *slurp(const char *name, size_t *len)
{
	char path[256];
	struct buf b;
	struct err e;

	snprintf(path, sizeof(path), "tests/data/webhooks/%s", name);
	buf_init(&b, 1 << 20);
	if (file_read_all(path, &b, NULL, &e) == -1)
		fail_msg("%s", e.msg);
	buf_append(&b, "", 1);
	*len = b.len - 1;
	return b.p;
}

/* "firing" -> "resolved" everywhere, and "alerting" -> "ok". */
static void resolve(char *s)
{
	char *p;

	while ((p = strstr(s, "\"firing\"")) != NULL)
		memcpy(p, "\"ok\"    ", 8);
	while ((p = strstr(s, "\"alerting\"")) != NULL)
		memcpy(p, "\"ok\"      ", 10);
}

static const struct {
	const char *name, *file;
	int route;
	enum webhook_source source;
	int up, down;
} samples[] = {
	{ "alertmanager_on_alerts_by_label", "alertmanager-webhook.json", 0, WEBHOOK_ALERTMANAGER, 1, 0 },
	{ "alertmanager_on_down_route", "alertmanager-webhook.json", -1, WEBHOOK_ALERTMANAGER, 0, 1 },
	{ "grafana_unified_on_up", "grafana-unified-webhook.json", 1, WEBHOOK_GRAFANA_UNIFIED, 1, 0 },
	{ "grafana_legacy_on_up", "grafana-legacy-webhook.json", 1, WEBHOOK_GRAFANA_LEGACY, 1, 0 },
	{ "grafana_legacy_on_down", "grafana-legacy-webhook.json", -1, WEBHOOK_GRAFANA_LEGACY, 0, 1 },
};

static void test_reference_payloads(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct webhook_signal sig;
		size_t len;
		char *body = slurp(samples[i].file, &len);

		print_message("%s\n", samples[i].name);
		assert_int_equal(webhook_parse(body, len, samples[i].route, "poolscale_action", &sig), 0);
		assert_int_equal(sig.source, samples[i].source);
		assert_int_equal(sig.up, samples[i].up);
		assert_int_equal(sig.down, samples[i].down);
		/* The same alert resolved (or "ok") is accepted and is no signal. */
		resolve(body);
		assert_int_equal(webhook_parse(body, strlen(body), samples[i].route,
		    "poolscale_action", &sig), 0);
		assert_int_equal(sig.up + sig.down, 0);
		free(body);
	}
}

static void test_action_label(void **state)
{
	static const char am[] = "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":["
	    "{\"status\":\"firing\",\"labels\":{\"act\":\"down\"}},"
	    "{\"status\":\"firing\",\"labels\":{\"act\":\"down\"}},"
	    "{\"status\":\"firing\",\"labels\":{\"act\":\"sideways\"}},"
	    "{\"status\":\"firing\",\"labels\":{\"other\":\"up\"}},"
	    "{\"status\":\"resolved\",\"labels\":{\"act\":\"up\"}}]}";
	struct webhook_signal sig;

	(void)state;
	assert_int_equal(webhook_parse(am, strlen(am), 0, "act", &sig), 0);
	assert_int_equal(sig.up, 0);
	assert_int_equal(sig.down, 2);
	/* With the default label name, none of these is a signal. */
	assert_int_equal(webhook_parse(am, strlen(am), 0, "poolscale_action", &sig), 0);
	assert_int_equal(sig.up + sig.down, 0);
}

/* Each counted alert goes to the pool its poolscale_pool label names ("":
 * none); resolved alerts and other actions make no group. */
static void test_pool_groups(void **state)
{
	static const char am[] = "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":["
	    "{\"status\":\"firing\",\"labels\":{\"act\":\"up\",\"poolscale_pool\":\"web\"}},"
	    "{\"status\":\"firing\",\"labels\":{\"act\":\"down\",\"poolscale_pool\":\"lb\"}},"
	    "{\"status\":\"firing\",\"labels\":{\"act\":\"up\",\"poolscale_pool\":\"web\"}},"
	    "{\"status\":\"firing\",\"labels\":{\"act\":\"up\"}},"
	    "{\"status\":\"resolved\",\"labels\":{\"act\":\"up\",\"poolscale_pool\":\"db\"}},"
	    "{\"status\":\"firing\",\"labels\":{\"act\":\"sideways\",\"poolscale_pool\":\"q\"}}]}";
	struct webhook_signal sig;
	struct buf many;

	(void)state;
	assert_int_equal(webhook_parse(am, strlen(am), 0, "act", &sig), 0);
	assert_int_equal(sig.up, 3);
	assert_int_equal(sig.down, 1);
	assert_int_equal(sig.npools, 3);
	assert_string_equal(sig.by_pool[0].pool, "web");
	assert_int_equal(sig.by_pool[0].up, 2);
	assert_int_equal(sig.by_pool[0].down, 0);
	assert_string_equal(sig.by_pool[1].pool, "lb");
	assert_int_equal(sig.by_pool[1].up, 0);
	assert_int_equal(sig.by_pool[1].down, 1);
	assert_string_equal(sig.by_pool[2].pool, "");
	assert_int_equal(sig.by_pool[2].up, 1);
	/* /up and /down count for the pool of their path: no groups. */
	assert_int_equal(webhook_parse(am, strlen(am), 1, "act", &sig), 0);
	assert_int_equal(sig.npools, 0);
	/* More pools than a body may name: refused, nothing counted. */
	buf_init(&many, 1 << 16);
	buf_appends(&many, "{\"version\":\"4\",\"alerts\":[");
	for (int i = 0; i <= WEBHOOK_MAX_POOLS; i++)
		buf_appendf(&many, "%s{\"status\":\"firing\",\"labels\":{\"act\":\"up\","
		    "\"poolscale_pool\":\"p%d\"}}", i ? "," : "", i);
	buf_appends(&many, "]}");
	assert_int_equal(webhook_parse(many.p, many.len, 0, "act", &sig), -1);
	assert_non_null(strstr(sig.error, "too many pools"));
	assert_int_equal(sig.up + sig.down, 0);
	assert_int_equal(sig.npools, 0);
	buf_fini(&many);
}

static void test_plain_bodies(void **state)
{
	struct webhook_signal sig;

	(void)state;
	assert_int_equal(webhook_parse("", 0, 1, "a", &sig), 0);
	assert_int_equal(sig.up, 1);
	assert_int_equal(sig.source, WEBHOOK_PLAIN);
	assert_int_equal(webhook_parse(" \n", 2, -1, "a", &sig), 0);
	assert_int_equal(sig.down, 1);
	/* /api/v1/alerts needs a body. */
	assert_int_equal(webhook_parse("", 0, 0, "a", &sig), -1);
}

static const struct {
	const char *name, *body;
	int route;
	const char *error;
} bad[] = {
	{ "not_json", "{\"version\":", 1, "not JSON" },
	{ "not_object", "[1,2]", 1, "must be a JSON object" },
	{ "unknown_shape", "{\"hello\":\"world\"}", 1, "not a Grafana or Alertmanager" },
	{ "alerts_not_list", "{\"version\":\"4\",\"alerts\":{}}", 1, "must be a list" },
	{ "alert_without_status", "{\"version\":\"4\",\"alerts\":[{}]}", 0, "needs a \"status\"" },
	{ "labels_not_object", "{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":3}]}", 0, "labels" },
	{ "grafana_on_alerts_route", "{\"version\":\"1\",\"orgId\":1,\"alerts\":[]}", 0, "version\": \"4\"" },
	{ "legacy_state_not_string", "{\"ruleId\":1,\"state\":7}", 1, "needs a \"state\"" },
};

static void test_bad_bodies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct webhook_signal sig;

		print_message("%s\n", bad[i].name);
		assert_int_equal(webhook_parse(bad[i].body, strlen(bad[i].body), bad[i].route,
		    "poolscale_action", &sig), -1);
		if (strstr(sig.error, bad[i].error) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", sig.error, bad[i].error);
		assert_int_equal(sig.up + sig.down, 0);
	}
}

static void test_prom_vector(void **state)
{
	/* As captured from Prometheus 2.42 (prometheus.md), two samples. */
	static const char body[] = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	    "\"result\":[{\"metric\":{\"instance\":\"127.0.1.1:9100\"},\"value\":[1795420382.410,\"0.25\"]},"
	    "{\"metric\":{\"instance\":\"[::1]:9100\",\"job\":\"x\"},\"value\":[1795420382.410,\"NaN\"]}]}}";
	struct prom_result r;
	struct err e;
	char host[64];

	(void)state;
	assert_int_equal(prom_parse_query(body, strlen(body), 200, &r, &e), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].instance, "127.0.1.1:9100");
	assert_true(r.v[0].value == 0.25);
	assert_true(isnan(r.v[1].value));
	assert_string_equal(prom_instance_host(r.v[0].instance, host, sizeof(host)), "127.0.1.1");
	assert_string_equal(prom_instance_host(r.v[1].instance, host, sizeof(host)), "::1");
	prom_result_free(&r);
	/* Empty is a valid answer, not zero. */
	{
		static const char empty[] = "{\"status\":\"success\",\"data\":{\"resultType\":"
		    "\"vector\",\"result\":[]}}";

		assert_int_equal(prom_parse_query(empty, strlen(empty), 200, &r, &e), 0);
	}
	assert_int_equal(r.n, 0);
	prom_result_free(&r);
}

static const struct {
	const char *name, *body;
	int status;
	const char *error;
} prom_bad[] = {
	{ "prometheus_error", "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"parse error\"}", 400, "bad_data: parse error" },
	{ "html_503", "<html>unavailable</html>", 503, "HTTP 503" },
	{ "not_json_200", "garbage", 200, "not JSON" },
	{ "no_data", "{\"status\":\"success\"}", 200, "lacks data" },
	{ "matrix", "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}", 200, "matrix" },
	{ "value_not_string", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,0.5]}]}}", 200, "malformed sample 0" },
	{ "value_junk", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,\"0.5x\"]}]}}", 200, "malformed sample 0" },
	/* A success body does not make a failed HTTP answer good (a proxy's
	 * stale page, say): the status decides. */
	{ "success_body_on_500", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}", 500, "HTTP 500" },
	{ "truncated", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{}", 200, "not JSON" },
};

static void test_prom_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(prom_bad) / sizeof(prom_bad[0]); i++) {
		struct prom_result r;
		struct err e = { "" };

		print_message("%s\n", prom_bad[i].name);
		assert_int_equal(prom_parse_query(prom_bad[i].body, strlen(prom_bad[i].body),
		    prom_bad[i].status, &r, &e), -1);
		if (strstr(e.msg, prom_bad[i].error) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", e.msg, prom_bad[i].error);
		assert_null(r.v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_payloads),
		cmocka_unit_test(test_action_label),
		cmocka_unit_test(test_pool_groups),
		cmocka_unit_test(test_plain_bodies),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_prom_vector),
		cmocka_unit_test(test_prom_bad),
	};

	return cmocka_run_group_tests_name("webhook_promql", tests, NULL, NULL);
}
