/* The failover state's JSON (controller/hastate.h): what a leader writes
 * a new leader reads back whole, and anything else is refused rather than
 * half taken (a new leader then keeps its own state and says so). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/hastate.h"

static struct ha_state *full(void)
{
	struct ha_state *s = calloc(1, sizeof(*s));

	s->desired = 7;
	s->latch.up = true;
	s->last_step_unix_ms = 1764900000123LL;
	snprintf(s->by, sizeof(s->by), "mgmt-a");
	s->written_unix_ms = 1764900001000LL;
	/* Unix ms past 2^32 and a negative change: both must survive. */
	s->target.recs[0] = (struct target_point){ 1764899990000LL, 5 };
	s->target.recs[1] = (struct target_point){ 1764899995000LL, 3 };
	s->target.nrecs = 2;
	s->target.changes[0] = (struct target_point){ 1764899980000LL, 2 };
	s->target.changes[1] = (struct target_point){ 1764899999000LL, -1 };
	s->target.nchanges = 2;
	snprintf(s->drains[0].id, sizeof(s->drains[0].id), "i-0003");
	s->drains[0].since_unix_ms = 1764899999500LL;
	s->drains[0].removing = true;
	snprintf(s->drains[1].id, sizeof(s->drains[1].id), "5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b");
	s->drains[1].since_unix_ms = 1764900000000LL;
	s->ndrains = 2;
	return s;
}

static void test_round_trip(void **state)
{
	struct ha_state *a = full(), *b = calloc(1, sizeof(*b));
	struct err e = { "" };
	size_t len = 0;
	char *json;

	(void)state;
	json = ha_state_format(a, &len);
	assert_non_null(json);
	assert_int_equal(len, strlen(json));
	assert_int_equal(ha_state_parse(json, len, b, &e), 0);
	assert_int_equal(b->desired, 7);
	assert_true(b->latch.up);
	assert_false(b->latch.down);
	assert_int_equal(b->last_step_unix_ms, 1764900000123LL);
	assert_string_equal(b->by, "mgmt-a");
	assert_int_equal(b->written_unix_ms, 1764900001000LL);
	assert_int_equal(b->target.nrecs, 2);
	assert_int_equal(b->target.recs[1].at_ms, 1764899995000LL);
	assert_int_equal(b->target.recs[1].value, 3);
	assert_int_equal(b->target.nchanges, 2);
	assert_int_equal(b->target.changes[1].value, -1);
	assert_int_equal(b->ndrains, 2);
	assert_string_equal(b->drains[0].id, "i-0003");
	assert_true(b->drains[0].removing);
	assert_false(b->drains[1].removing);
	assert_int_equal(b->drains[1].since_unix_ms, 1764900000000LL);
	free(json);
	free(a);
	free(b);
}

static void refused(const char *json, const char *why)
{
	struct ha_state *s = calloc(1, sizeof(*s));
	struct err e = { "" };

	assert_int_equal(ha_state_parse(json, strlen(json), s, &e), -1);
	assert_non_null(strstr(e.msg, why));
	free(s);
}

static void test_refuses_what_it_did_not_write(void **state)
{
	(void)state;
	refused("", "not JSON");
	refused("{\"desired\": 3", "not JSON");
	refused("{\"version\": 2, \"desired\": 3, \"step\": {}, \"target\": {}, \"drains\": []}",
	    "version");
	refused("{\"version\": 1, \"step\": {}, \"target\": {}, \"drains\": []}", "missing");
	refused("{\"version\": 1, \"desired\": -1, \"step\": {}, \"target\": "
	    "{\"recommendations\": [], \"changes\": []}, \"drains\": []}", "negative");
	refused("{\"version\": 1, \"desired\": 2, \"step\": {}, \"target\": "
	    "{\"recommendations\": [[1, 2, 3]], \"changes\": []}, \"drains\": []}",
	    "recommendations[0]");
	refused("{\"version\": 1, \"desired\": 2, \"step\": {}, \"target\": "
	    "{\"recommendations\": [], \"changes\": {}}, \"drains\": []}", "changes is not a list");
	refused("{\"version\": 1, \"desired\": 2, \"step\": {}, \"target\": "
	    "{\"recommendations\": [], \"changes\": []}, \"drains\": [{\"id\": 5}]}", "drains[0]");
}

static void test_empty_history_and_no_drains(void **state)
{
	struct ha_state *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct err e = { "" };
	size_t len = 0;
	char *json;

	(void)state;
	a->desired = 0;		/* a pool scaled to zero is a state too */
	json = ha_state_format(a, &len);
	assert_int_equal(ha_state_parse(json, len, b, &e), 0);
	assert_int_equal(b->desired, 0);
	assert_int_equal(b->target.nrecs, 0);
	assert_int_equal(b->ndrains, 0);
	assert_false(b->latch.up || b->latch.down);
	free(json);
	free(a);
	free(b);
}

/* Several pools, one document: each pool reads back its own part whole;
 * a pool the document lacks starts from its own; a lone state (what a
 * controller of one pool writes) is one pool's, not each of several. */
static void test_document_of_several_pools(void **state)
{
	struct ha_state *s = full(), *back = calloc(1, sizeof(*back));
	const char *names[3] = { "web", "api-2", "x_y" };
	char *parts[3], *doc, *part;
	size_t len = 0, dlen = 0, plen = 0;
	struct err e;

	(void)state;
	parts[0] = ha_state_format(s, &len);
	s->desired = 2;
	s->ndrains = 0;
	parts[1] = NULL;			/* no part (out of memory) */
	parts[2] = ha_state_format(s, &len);
	doc = ha_doc_join(names, parts, 3, &dlen);
	assert_non_null(doc);
	assert_int_equal(dlen, strlen(doc));
	assert_int_equal(ha_doc_part(doc, dlen, "web", true, &part, &plen, &e), 0);
	assert_non_null(part);
	assert_int_equal(ha_state_parse(part, plen, back, &e), 0);
	assert_int_equal(back->desired, 7);
	assert_int_equal(back->ndrains, 2);
	assert_string_equal(back->drains[1].id, "5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b");
	free(part);
	assert_int_equal(ha_doc_part(doc, dlen, "x_y", true, &part, &plen, &e), 0);
	assert_int_equal(ha_state_parse(part, plen, back, &e), 0);
	assert_int_equal(back->desired, 2);
	assert_int_equal(back->ndrains, 0);
	free(part);
	/* Left out, or a pool new to the file: none, not an error. */
	assert_int_equal(ha_doc_part(doc, dlen, "api-2", true, &part, &plen, &e), 0);
	assert_null(part);
	assert_int_equal(ha_doc_part(doc, dlen, "new", true, &part, &plen, &e), 0);
	assert_null(part);
	/* A controller down to one pool finds its part all the same. */
	assert_int_equal(ha_doc_part(doc, dlen, "web", false, &part, &plen, &e), 0);
	assert_non_null(part);
	free(part);
	/* A lone state: one pool's own document; several refuse it. */
	assert_int_equal(ha_doc_part(parts[0], strlen(parts[0]), "web", false, &part, &plen, &e),
	    0);
	assert_int_equal(plen, strlen(parts[0]));
	assert_memory_equal(part, parts[0], plen);
	free(part);
	assert_int_equal(ha_doc_part(parts[0], strlen(parts[0]), "web", true, &part, &plen, &e),
	    -1);
	assert_null(part);
	assert_non_null(strstr(e.msg, "one pool's"));
	assert_int_equal(ha_doc_part("{\"pools\":[1]}", 13, "web", true, &part, &plen, &e), -1);
	assert_int_equal(ha_doc_part("{\"pools\":{\"web\":1}}", 19, "web", true, &part, &plen, &e),
	    -1);
	assert_non_null(strstr(e.msg, "pools.web is not an object"));
	assert_int_equal(ha_doc_part("[]", 2, "web", false, &part, &plen, &e), -1);
	assert_int_equal(ha_doc_part("{\"pools\":", 9, "web", true, &part, &plen, &e), -1);
	free(doc);
	free(parts[0]);
	free(parts[2]);
	free(s);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refuses_what_it_did_not_write),
		cmocka_unit_test(test_empty_history_and_no_drains),
		cmocka_unit_test(test_document_of_several_pools),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
