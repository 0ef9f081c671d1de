/* common/etcd_json: the etcd v3 gateway's bodies and replies. The replies
 * are the ones captured from etcd 3.4.23 in
 * ../shared/reference/etcd-v3-gateway.md (sections named per test); every
 * prefix of each is refused, read right before an unreadable page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/etcd_json.h"
#include "guard.h"

#define HDR "{\"cluster_id\":\"7076157020237216560\",\"member_id\":\"14378554829983447306\"," \
	"\"revision\":\"4\",\"raft_term\":\"2\"}"
#define LEADER_B64 "cG9vbHNjYWxlL2VsZWN0aW9uL2xlYWRlcg=="
#define STATE_B64 "cG9vbHNjYWxlL3N0YXRl"

/* 2.1 */
static const char grant_json[] = "{\"header\":" HDR ",\"ID\":\"8721962035320207111\",\"TTL\":\"10\"}";
/* 2.3 */
static const char keepalive_json[] =
	"{\"result\":{\"header\":" HDR ",\"ID\":\"8721962035320207129\",\"TTL\":\"10\"}}\n";
static const char keepalive_dead_json[] = "{\"result\":{\"header\":" HDR ",\"ID\":\"12345\"}}";
/* 1.3 */
static const char no_leader_json[] = "{\"error\":{\"grpc_code\":14,\"http_code\":503,"
	"\"message\":\"etcdserver: no leader\",\"http_status\":\"Service Unavailable\"}}";
static const char lease_not_found_json[] = "{\"error\":\"etcdserver: requested lease not found\","
	"\"message\":\"etcdserver: requested lease not found\",\"code\":5}";
static const char bad_token_json[] = "{\"error\":\"etcdserver: invalid auth token\","
	"\"message\":\"etcdserver: invalid auth token\",\"code\":16}";
/* 2.4 */
static const char revoke_json[] = "{\"header\":{\"cluster_id\":\"7076157020237216560\","
	"\"member_id\":\"14378554829983447306\",\"revision\":\"5\",\"raft_term\":\"2\"}}";
/* 3.2 */
static const char range_json[] = "{\"header\":" HDR ",\"kvs\":[{\"key\":\"" LEADER_B64 "\","
	"\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"aG9zdC1h\","
	"\"lease\":\"8721962035320207137\"}],\"count\":\"1\"}";
static const char range_missing_json[] = "{\"header\":" HDR "}";
static const char range_two_json[] = "{\"header\":" HDR ",\"kvs\":[{\"key\":\"" LEADER_B64 "\","
	"\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"aG9zdC1h\","
	"\"lease\":\"8721962035320207137\"},{\"key\":\"cG9vbHNjYWxlL2VsZWN0aW9uL290aGVy\","
	"\"create_revision\":\"3\",\"mod_revision\":\"4\",\"version\":\"2\",\"value\":\"eQ==\"}],"
	"\"count\":\"2\"}";
/* 3.4: A wins, B loses (no "succeeded"), guarded writes and resign */
static const char campaign_won_json[] = "{\"header\":" HDR ",\"succeeded\":true,\"responses\":"
	"[{\"response_put\":{\"header\":{\"revision\":\"8\"}}}]}";
static const char campaign_won_read_json[] = "{\"header\":" HDR ",\"succeeded\":true,"
	"\"responses\":[{\"response_put\":{\"header\":{\"revision\":\"12\"}}},"
	"{\"response_range\":{\"header\":{\"revision\":\"12\"},\"kvs\":[{\"key\":\"" STATE_B64 "\","
	"\"create_revision\":\"9\",\"mod_revision\":\"9\",\"version\":\"1\","
	"\"value\":\"ZGVzaXJlZD01\"}],\"count\":\"1\"}}]}";
static const char campaign_won_nostate_json[] = "{\"header\":" HDR ",\"succeeded\":true,"
	"\"responses\":[{\"response_put\":{\"header\":{\"revision\":\"8\"}}},"
	"{\"response_range\":{\"header\":{\"revision\":\"8\"}}}]}";
static const char campaign_lost_json[] = "{\"header\":" HDR ",\"responses\":[{\"response_range\":"
	"{\"header\":{\"revision\":\"8\"},\"kvs\":[{\"key\":\"" LEADER_B64 "\",\"create_revision\":\"8\","
	"\"mod_revision\":\"8\",\"version\":\"1\",\"value\":\"aG9zdC1h\","
	"\"lease\":\"8721962035320207152\"}],\"count\":\"1\"}}]}";
static const char put_if_ok_json[] = "{\"header\":" HDR ",\"succeeded\":true,\"responses\":"
	"[{\"response_put\":{\"header\":{\"revision\":\"9\"}}}]}";
static const char put_if_lost_json[] = "{\"header\":" HDR ",\"responses\":[{\"response_range\":"
	"{\"header\":{\"revision\":\"11\"},\"kvs\":[{\"key\":\"" LEADER_B64 "\",\"create_revision\":\"11\","
	"\"mod_revision\":\"11\",\"version\":\"1\",\"value\":\"aG9zdC1i\","
	"\"lease\":\"8721962035320207154\"}],\"count\":\"1\"}}]}";
static const char put_if_nobody_json[] = "{\"header\":" HDR ",\"responses\":[{\"response_range\":"
	"{\"header\":{\"revision\":\"11\"}}}]}";
static const char delete_if_ok_json[] = "{\"header\":" HDR ",\"succeeded\":true,\"responses\":"
	"[{\"response_delete_range\":{\"header\":{\"revision\":\"10\"},\"deleted\":\"1\"}}]}";
/* 6.2 */
static const char token_json[] = "{\"header\":" HDR ",\"token\":\"hYCQTREGsMiBStFq.87\"}";

static void test_grant(void **state)
{
	int64_t id, ttl;

	(void)state;
	assert_int_equal(etcd_json_parse_grant(grant_json, strlen(grant_json), &id, &ttl, NULL), 0);
	/* above 2^53: a double would give ...7104 or ...7112 */
	assert_true(id == INT64_C(8721962035320207111));
	assert_int_equal(ttl, 10);
	/* the same as JSON integers (accepted on input, so maybe on output) */
	const char num[] = "{\"ID\":8721962035320207111,\"TTL\":2}";
	assert_int_equal(etcd_json_parse_grant(num, strlen(num), &id, &ttl, NULL), 0);
	assert_true(id == INT64_C(8721962035320207111));
	assert_int_equal(ttl, 2);
}

static void test_keepalive(void **state)
{
	struct etcd_json_error se;
	int64_t id, ttl;

	(void)state;
	assert_int_equal(etcd_json_parse_keepalive(keepalive_json, strlen(keepalive_json), &id, &ttl,
	    &se, NULL), 0);
	assert_true(id == INT64_C(8721962035320207129));
	assert_int_equal(ttl, 10);
	/* a dead lease: HTTP 200, no TTL. A success of the call, TTL 0 */
	assert_int_equal(etcd_json_parse_keepalive(keepalive_dead_json, strlen(keepalive_dead_json),
	    &id, &ttl, &se, NULL), 0);
	assert_int_equal(id, 12345);
	assert_int_equal(ttl, 0);
	const char zero[] = "{\"result\":{\"ID\":\"7\",\"TTL\":\"0\"}}";
	assert_int_equal(etcd_json_parse_keepalive(zero, strlen(zero), &id, &ttl, &se, NULL), 0);
	assert_int_equal(ttl, 0);
	const char neg[] = "{\"result\":{\"ID\":\"7\",\"TTL\":\"-1\"}}";
	assert_int_equal(etcd_json_parse_keepalive(neg, strlen(neg), &id, &ttl, &se, NULL), 0);
	assert_int_equal(ttl, 0);
	/* the stream's error line */
	struct err e;
	assert_int_equal(etcd_json_parse_keepalive(no_leader_json, strlen(no_leader_json), &id,
	    &ttl, &se, &e), -1);
	assert_int_equal(se.code, 14);
	assert_int_equal(se.http_code, 503);
	assert_string_equal(se.message, "etcdserver: no leader");
	assert_non_null(strstr(e.msg, "no leader"));
	/* no "result" at all is not a lease lost: it is unreadable */
	const char none[] = "{\"header\":{}}";
	assert_int_equal(etcd_json_parse_keepalive(none, strlen(none), &id, &ttl, &se, NULL), -1);
	assert_int_equal(se.code, 0);
}

static void test_header_and_token(void **state)
{
	char token[64];
	int64_t rev;

	(void)state;
	assert_int_equal(etcd_json_parse_header(revoke_json, strlen(revoke_json), &rev, NULL), 0);
	assert_int_equal(rev, 5);
	assert_int_equal(etcd_json_parse_token(token_json, strlen(token_json), token, sizeof(token),
	    NULL), 0);
	assert_string_equal(token, "hYCQTREGsMiBStFq.87");
	/* too long for the caller's buffer, or unfit for a header line */
	assert_int_equal(etcd_json_parse_token(token_json, strlen(token_json), token, 10, NULL), -1);
	const char crlf[] = "{\"token\":\"abc\\r\\nX-Evil: 1\"}";
	assert_int_equal(etcd_json_parse_token(crlf, strlen(crlf), token, sizeof(token), NULL), -1);
	const char empty[] = "{\"token\":\"\"}";
	assert_int_equal(etcd_json_parse_token(empty, strlen(empty), token, sizeof(token), NULL), -1);
}

static void test_range(void **state)
{
	struct etcd_kv kv;
	int64_t rev;

	(void)state;
	etcd_kv_init(&kv, 1024);
	assert_int_equal(etcd_json_parse_range(range_json, strlen(range_json), &kv, &rev, NULL), 0);
	assert_true(kv.found);
	assert_int_equal(rev, 4);
	assert_int_equal(kv.create_revision, 2);
	assert_int_equal(kv.mod_revision, 2);
	assert_true(kv.lease == INT64_C(8721962035320207137));
	assert_int_equal(kv.value.len, 6);
	assert_memory_equal(kv.value.p, "host-a", 6);
	/* a missing key: no kvs, no count */
	assert_int_equal(etcd_json_parse_range(range_missing_json, strlen(range_missing_json), &kv,
	    &rev, NULL), 0);
	assert_false(kv.found);
	assert_int_equal(rev, 4);
	assert_int_equal(kv.value.len, 0);
	assert_int_equal(kv.lease, 0);
	/* a range of one key cannot give two */
	assert_int_equal(etcd_json_parse_range(range_two_json, strlen(range_two_json), &kv, &rev,
	    NULL), -1);
	assert_false(kv.found);
	/* a value past the caller's limit is refused, not cut */
	struct etcd_kv small;
	etcd_kv_init(&small, 5);
	assert_int_equal(etcd_json_parse_range(range_json, strlen(range_json), &small, &rev, NULL),
	    -1);
	assert_false(small.found);
	etcd_kv_fini(&small);
	etcd_kv_fini(&kv);
}

static void test_campaign(void **state)
{
	struct etcd_kv kv;
	int64_t rev;
	bool won;

	(void)state;
	etcd_kv_init(&kv, 1024);
	assert_int_equal(etcd_json_parse_create_if_absent(campaign_won_json,
	    strlen(campaign_won_json), false, &won, &rev, &kv, NULL), 0);
	assert_true(won);
	assert_int_equal(rev, 8);
	assert_false(kv.found);
	/* won, and read the state in the same txn */
	assert_int_equal(etcd_json_parse_create_if_absent(campaign_won_read_json,
	    strlen(campaign_won_read_json), true, &won, &rev, &kv, NULL), 0);
	assert_true(won);
	assert_int_equal(rev, 12);
	assert_true(kv.found);
	assert_int_equal(kv.value.len, 9);
	assert_memory_equal(kv.value.p, "desired=5", 9);
	assert_int_equal(kv.lease, 0);
	assert_int_equal(etcd_json_parse_create_if_absent(campaign_won_nostate_json,
	    strlen(campaign_won_nostate_json), true, &won, &rev, &kv, NULL), 0);
	assert_true(won);
	assert_false(kv.found);
	/* a response the request did not ask for */
	assert_int_equal(etcd_json_parse_create_if_absent(campaign_won_read_json,
	    strlen(campaign_won_read_json), false, &won, &rev, &kv, NULL), -1);
	assert_false(won);
	/* the read was asked for but the reply lacks it */
	assert_int_equal(etcd_json_parse_create_if_absent(campaign_won_json,
	    strlen(campaign_won_json), true, &won, &rev, &kv, NULL), -1);
	assert_false(won);
	/* lost: no "succeeded", the holder in the failure branch's range */
	assert_int_equal(etcd_json_parse_create_if_absent(campaign_lost_json,
	    strlen(campaign_lost_json), true, &won, &rev, &kv, NULL), 0);
	assert_false(won);
	assert_int_equal(rev, 0);
	assert_true(kv.found);
	assert_memory_equal(kv.value.p, "host-a", 6);
	assert_true(kv.lease == INT64_C(8721962035320207152));
	assert_int_equal(kv.create_revision, 8);
	etcd_kv_fini(&kv);
}

static void test_put_if_delete_if(void **state)
{
	struct etcd_kv kv;
	bool ok;

	(void)state;
	etcd_kv_init(&kv, 1024);
	assert_int_equal(etcd_json_parse_put_if(put_if_ok_json, strlen(put_if_ok_json), &ok, &kv,
	    NULL), 0);
	assert_true(ok);
	assert_false(kv.found);
	/* the stale leader's write: refused, and the new holder is B */
	assert_int_equal(etcd_json_parse_put_if(put_if_lost_json, strlen(put_if_lost_json), &ok,
	    &kv, NULL), 0);
	assert_false(ok);
	assert_true(kv.found);
	assert_memory_equal(kv.value.p, "host-b", 6);
	assert_true(kv.lease == INT64_C(8721962035320207154));
	assert_int_equal(kv.create_revision, 11);
	assert_int_equal(etcd_json_parse_put_if(put_if_lost_json, strlen(put_if_lost_json), &ok,
	    NULL, NULL), 0);
	assert_false(ok);
	assert_int_equal(etcd_json_parse_put_if(put_if_nobody_json, strlen(put_if_nobody_json), &ok,
	    &kv, NULL), 0);
	assert_false(ok);
	assert_false(kv.found);
	/* succeeded, but the response is not the put's */
	assert_int_equal(etcd_json_parse_put_if(delete_if_ok_json, strlen(delete_if_ok_json), &ok,
	    &kv, NULL), -1);
	assert_false(ok);
	assert_int_equal(etcd_json_parse_delete_if(delete_if_ok_json, strlen(delete_if_ok_json),
	    &ok, NULL), 0);
	assert_true(ok);
	assert_int_equal(etcd_json_parse_delete_if(revoke_json, strlen(revoke_json), &ok, NULL), 0);
	assert_false(ok);
	etcd_kv_fini(&kv);
}

static void test_error_shapes(void **state)
{
	struct etcd_json_error je;

	(void)state;
	assert_true(etcd_json_parse_error(lease_not_found_json, strlen(lease_not_found_json), &je));
	assert_int_equal(je.code, 5);
	assert_int_equal(je.http_code, 0);
	assert_string_equal(je.message, "etcdserver: requested lease not found");
	assert_true(etcd_json_parse_error(bad_token_json, strlen(bad_token_json), &je));
	assert_int_equal(je.code, 16);
	assert_true(etcd_json_parse_error(no_leader_json, strlen(no_leader_json), &je));
	assert_int_equal(je.code, 14);
	assert_int_equal(je.http_code, 503);
	assert_string_equal(je.message, "etcdserver: no leader");
	/* "error" without "message" */
	const char bare[] = "{\"error\":\"unexpected EOF\",\"code\":3}";
	assert_true(etcd_json_parse_error(bare, strlen(bare), &je));
	assert_string_equal(je.message, "unexpected EOF");
	/* a server's message cannot put a newline into our log line */
	const char nl[] = "{\"error\":\"x\",\"message\":\"a\\nb\\u0007c\",\"code\":2}";
	assert_true(etcd_json_parse_error(nl, strlen(nl), &je));
	assert_string_equal(je.message, "a?b?c");
	/* not errors: a good reply, the 404 page, a grant's empty "error" */
	assert_false(etcd_json_parse_error(grant_json, strlen(grant_json), &je));
	assert_false(etcd_json_parse_error("404 page not found", 18, &je));
	assert_false(etcd_json_parse_error("", 0, &je));
	const char code_str[] = "{\"error\":\"x\",\"code\":\"5\"}";
	assert_false(etcd_json_parse_error(code_str, strlen(code_str), &je));
}

/* Every proper prefix of every reply above is refused by its parser. */
static void test_truncated(void **state)
{
	static const struct {
		const char *name, *json;
		int kind;	/* 0 grant, 1 keepalive, 2 range, 3 campaign, 4 put_if, 5 delete_if, 6 token, 7 header */
	} rows[] = {
		{ "grant", grant_json, 0 }, { "keepalive", keepalive_json, 1 },
		{ "keepalive_dead", keepalive_dead_json, 1 }, { "range", range_json, 2 },
		{ "range_missing", range_missing_json, 2 }, { "won", campaign_won_read_json, 3 },
		{ "lost", campaign_lost_json, 3 }, { "put_if_lost", put_if_lost_json, 4 },
		{ "delete_if", delete_if_ok_json, 5 }, { "token", token_json, 6 },
		{ "revoke", revoke_json, 7 },
	};
	struct etcd_json_error se;
	struct etcd_kv kv;
	char token[64];
	int64_t a, b;
	bool ok;

	(void)state;
	etcd_kv_init(&kv, 1024);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		size_t full = strlen(rows[r].json);

		/* the keepalive sample ends in "\n": drop it too, still whole */
		if (rows[r].json[full - 1] == '\n')
			full--;
		for (size_t n = 0; n < full; n++) {
			struct guarded g;
			char *p = guard_copy(&g, rows[r].json, n);
			int rc = 0;

			switch (rows[r].kind) {
			case 0: rc = etcd_json_parse_grant(p, n, &a, &b, NULL); break;
			case 1: rc = etcd_json_parse_keepalive(p, n, &a, &b, &se, NULL); break;
			case 2: rc = etcd_json_parse_range(p, n, &kv, &a, NULL); break;
			case 3: rc = etcd_json_parse_create_if_absent(p, n, true, &ok, &a, &kv, NULL); break;
			case 4: rc = etcd_json_parse_put_if(p, n, &ok, &kv, NULL); break;
			case 5: rc = etcd_json_parse_delete_if(p, n, &ok, NULL); break;
			case 6: rc = etcd_json_parse_token(p, n, token, sizeof(token), NULL); break;
			case 7: rc = etcd_json_parse_header(p, n, &a, NULL); break;
			}
			if (rc != -1)
				fail_msg("%s: the first %zu bytes were accepted", rows[r].name, n);
			guard_free(&g);
		}
	}
	etcd_kv_fini(&kv);
}

/* Wrong types and malformed values: refused, never guessed. */
static void test_bad_replies(void **state)
{
	static const struct {
		const char *name, *json;
	} grants[] = {
		{ "id_real", "{\"ID\":8.5,\"TTL\":\"10\"}" },
		{ "id_trailing", "{\"ID\":\"87x\",\"TTL\":\"10\"}" },
		{ "id_empty", "{\"ID\":\"\",\"TTL\":\"10\"}" },
		{ "id_space", "{\"ID\":\" 5\",\"TTL\":\"10\"}" },
		{ "id_plus", "{\"ID\":\"+5\",\"TTL\":\"10\"}" },
		{ "id_overflow", "{\"ID\":\"9223372036854775808\",\"TTL\":\"10\"}" },
		{ "id_nul", "{\"ID\":\"5\\u0000\",\"TTL\":\"10\"}" },
		{ "id_bool", "{\"ID\":true,\"TTL\":\"10\"}" },
		{ "no_id", "{\"TTL\":\"10\"}" },
		{ "no_ttl", "{\"ID\":\"5\"}" },
		{ "grant_error", "{\"ID\":\"5\",\"TTL\":\"10\",\"error\":\"too many\"}" },
		{ "array", "[1]" },
		{ "duplicate", "{\"ID\":\"5\",\"ID\":\"6\",\"TTL\":\"10\"}" },
	};
	static const char *const ranges[] = {
		"{\"kvs\":{}}",
		"{\"kvs\":[\"x\"]}",
		"{\"header\":\"4\"}",
		"{\"header\":{\"revision\":4.5}}",
		"{\"kvs\":[{\"key\":\"aw==\",\"value\":\"aG9zdC1\"}]}",		/* length */
		"{\"kvs\":[{\"key\":\"aw==\",\"value\":\"aG9zdC1h=\"}]}",	/* padding */
		"{\"kvs\":[{\"key\":\"aw==\",\"value\":\"aG9z dC1h\"}]}",	/* space */
		"{\"kvs\":[{\"key\":\"aw==\",\"value\":\"_-8=\"}]}",		/* URL-safe */
		"{\"kvs\":[{\"key\":\"aw==\",\"value\":\"A===\"}]}",
		"{\"kvs\":[{\"key\":\"aw==\",\"value\":\"=AAA\"}]}",
		"{\"kvs\":[{\"key\":\"aw==\",\"value\":5}]}",
		"{\"kvs\":[{\"value\":\"eQ==\"}]}",				/* no key */
		"{\"kvs\":[{\"key\":\"aw=\",\"value\":\"eQ==\"}]}",
		"{\"kvs\":[{\"key\":\"aw==\",\"lease\":\"x\"}]}",
	};
	static const char *const txns[] = {
		"{\"succeeded\":\"true\",\"responses\":[{\"response_put\":{}}]}",
		"{\"succeeded\":true,\"responses\":{}}",
		"{\"succeeded\":true}",
		"{\"succeeded\":true,\"responses\":[{\"response_range\":{}}]}",
		"{\"succeeded\":true,\"responses\":[{\"response_put\":{},\"response_range\":{}}]}",
		"{\"succeeded\":true,\"responses\":[{\"response_put\":{}}]}",	/* no revision */
		"{\"responses\":[{\"response_put\":{\"header\":{\"revision\":\"3\"}}}]}",
		"{\"responses\":[]}",
		"{\"responses\":[{\"response_range\":{\"kvs\":[{\"key\":\"aw==\",\"value\":\"%%%%\"}]}}]}",
	};
	struct etcd_kv kv;
	int64_t a, b;
	bool won;

	(void)state;
	for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); i++)
		if (etcd_json_parse_grant(grants[i].json, strlen(grants[i].json), &a, &b, NULL) != -1)
			fail_msg("grant %s accepted", grants[i].name);
	etcd_kv_init(&kv, 1024);
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		if (etcd_json_parse_range(ranges[i], strlen(ranges[i]), &kv, &a, NULL) != -1)
			fail_msg("range %s accepted", ranges[i]);
		assert_false(kv.found);
	}
	for (size_t i = 0; i < sizeof(txns) / sizeof(txns[0]); i++) {
		if (etcd_json_parse_create_if_absent(txns[i], strlen(txns[i]), false, &won, &a, &kv,
		    NULL) != -1)
			fail_msg("campaign %s accepted", txns[i]);
		assert_false(won);
	}
	/* int64 extremes that are fine */
	const char max[] = "{\"ID\":\"9223372036854775807\",\"TTL\":\"9000000000\"}";
	assert_int_equal(etcd_json_parse_grant(max, strlen(max), &a, &b, NULL), 0);
	assert_true(a == INT64_MAX && b == INT64_C(9000000000));
	etcd_kv_fini(&kv);
}

static void test_base64(void **state)
{
	static const struct {
		const char *plain, *b64;
	} rows[] = {
		{ "", "" }, { "a", "YQ==" }, { "ab", "YWI=" }, { "abc", "YWJj" },
		{ "host-a", "aG9zdC1h" }, { "poolscale/election/leader", LEADER_B64 },
		{ "poolscale/election0", "cG9vbHNjYWxlL2VsZWN0aW9uMA==" },
	};
	unsigned char bytes[300];
	struct buf out, back;

	(void)state;
	buf_init(&out, 4096);
	buf_init(&back, 4096);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = strlen(rows[i].plain);

		buf_reset(&out);
		assert_int_equal(etcd_b64_append(&out, rows[i].plain, n), 0);
		assert_int_equal(out.len, strlen(rows[i].b64));
		assert_memory_equal(out.p ? out.p : "", rows[i].b64, out.len);
		/* the padding stands for no bytes: "YQ==" is 1 byte, not 3 */
		assert_int_equal(etcd_b64_decode(rows[i].b64, strlen(rows[i].b64), &back, NULL), 0);
		assert_int_equal(back.len, n);
		if (n > 0)
			assert_memory_equal(back.p, rows[i].plain, n);
	}
	/* every length and byte value survives the round trip */
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 151 + 7);
	bytes[0] = 0;
	bytes[1] = 0xff;
	for (size_t n = 0; n <= sizeof(bytes); n++) {
		buf_reset(&out);
		assert_int_equal(etcd_b64_append(&out, bytes, n), 0);
		assert_int_equal(etcd_b64_decode(out.p ? out.p : "", out.len, &back, NULL), 0);
		assert_int_equal(back.len, n);
		if (n > 0)
			assert_memory_equal(back.p, bytes, n);
	}
	buf_fini(&out);
	buf_fini(&back);
}

static void expect_body(int rc, struct buf *b, const char *want)
{
	assert_int_equal(rc, 0);
	if (b->len != strlen(want) || memcmp(b->p, want, b->len) != 0)
		fail_msg("body\n%.*s\nwanted\n%s", (int)b->len, b->p, want);
	buf_reset(b);
}

/* The bodies, byte for byte: IDs and revisions as strings, keys padded. */
static void test_bodies(void **state)
{
	static const char campaign[] =
		"{\"compare\":[{\"key\":\"" LEADER_B64 "\",\"target\":\"CREATE\",\"result\":\"EQUAL\","
		"\"create_revision\":\"0\"}],\"success\":[{\"request_put\":{\"key\":\"" LEADER_B64 "\","
		"\"value\":\"aG9zdC1h\",\"lease\":\"8721962035320207152\"}}],"
		"\"failure\":[{\"request_range\":{\"key\":\"" LEADER_B64 "\"}}]}";
	static const char campaign_read[] =
		"{\"compare\":[{\"key\":\"" LEADER_B64 "\",\"target\":\"CREATE\",\"result\":\"EQUAL\","
		"\"create_revision\":\"0\"}],\"success\":[{\"request_put\":{\"key\":\"" LEADER_B64 "\","
		"\"value\":\"aG9zdC1h\",\"lease\":\"8721962035320207152\"}},"
		"{\"request_range\":{\"key\":\"" STATE_B64 "\"}}],"
		"\"failure\":[{\"request_range\":{\"key\":\"" LEADER_B64 "\"}}]}";
	static const char put_if[] =
		"{\"compare\":[{\"key\":\"" LEADER_B64 "\",\"target\":\"CREATE\",\"result\":\"EQUAL\","
		"\"create_revision\":\"8\"}],\"success\":[{\"request_put\":{\"key\":\"" STATE_B64 "\","
		"\"value\":\"ZGVzaXJlZD01\"}}],"
		"\"failure\":[{\"request_range\":{\"key\":\"" LEADER_B64 "\"}}]}";
	static const char delete_if[] =
		"{\"compare\":[{\"key\":\"" LEADER_B64 "\",\"target\":\"CREATE\",\"result\":\"EQUAL\","
		"\"create_revision\":\"8\"}],"
		"\"success\":[{\"request_delete_range\":{\"key\":\"" LEADER_B64 "\"}}]}";
	const char *leader = "poolscale/election/leader", *st = "poolscale/state";
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 16);
	expect_body(etcd_json_grant(&b, 10, NULL), &b, "{\"TTL\":\"10\"}");
	expect_body(etcd_json_lease_id(&b, INT64_C(8721962035320207111), NULL), &b,
	    "{\"ID\":\"8721962035320207111\"}");
	expect_body(etcd_json_range(&b, leader, NULL), &b, "{\"key\":\"" LEADER_B64 "\"}");
	expect_body(etcd_json_range(&b, "a", NULL), &b, "{\"key\":\"YQ==\"}");
	expect_body(etcd_json_create_if_absent(&b, leader, "host-a", INT64_C(8721962035320207152),
	    NULL, NULL), &b, campaign);
	expect_body(etcd_json_create_if_absent(&b, leader, "host-a", INT64_C(8721962035320207152),
	    st, NULL), &b, campaign_read);
	expect_body(etcd_json_put_if(&b, leader, 8, st, "desired=5", 9, NULL), &b, put_if);
	expect_body(etcd_json_delete_if(&b, leader, 8, NULL), &b, delete_if);
	/* a binary value goes by its length, NUL included */
	expect_body(etcd_json_put_if(&b, "k", 3, "v", "\0\xff", 2, NULL), &b,
	    "{\"compare\":[{\"key\":\"aw==\",\"target\":\"CREATE\",\"result\":\"EQUAL\","
	    "\"create_revision\":\"3\"}],\"success\":[{\"request_put\":{\"key\":\"dg==\","
	    "\"value\":\"AP8=\"}}],\"failure\":[{\"request_range\":{\"key\":\"aw==\"}}]}");
	expect_body(etcd_json_authenticate(&b, "poolscale", "s3cret", NULL), &b,
	    "{\"name\":\"poolscale\",\"password\":\"s3cret\"}");
	expect_body(etcd_json_authenticate(&b, "u", "a\"b\\c", NULL), &b,
	    "{\"name\":\"u\",\"password\":\"a\\\"b\\\\c\"}");
	/* refused: no key, a guard that would mean "absent", bad UTF-8 */
	assert_int_equal(etcd_json_range(&b, "", NULL), -1);
	assert_int_equal(etcd_json_put_if(&b, leader, 0, st, "x", 1, NULL), -1);
	assert_int_equal(etcd_json_delete_if(&b, leader, -1, NULL), -1);
	assert_int_equal(etcd_json_create_if_absent(&b, leader, "x", 1, "", NULL), -1);
	assert_int_equal(etcd_json_authenticate(&b, "u", "\xff", NULL), -1);
	assert_int_equal(b.len, 0);
	buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grant),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_header_and_token),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_campaign),
		cmocka_unit_test(test_put_if_delete_if),
		cmocka_unit_test(test_error_shapes),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
