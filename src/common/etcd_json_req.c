/* The etcd v3 gateway's request bodies; see etcd_json.h. Built with
 * jansson (compact, insertion order), so the bytes are fixed and strings
 * escaped. */
#include "common/etcd_json.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- request bodies --------------------------------------------------------- */

static json_t *b64_json(const void *p, size_t len)
{
	struct buf b;
	json_t *j;

	buf_init(&b, ETCD_B64_MAX_CHARS + 8);
	if (etcd_b64_append(&b, p, len) == -1) {
		buf_fini(&b);
		return NULL;
	}
	j = json_stringn(b.len ? b.p : "", b.len);
	buf_fini(&b);
	return j;
}

static json_t *key_json(const char *key)
{
	return b64_json(key, strlen(key));
}

/* int64s go as strings, like etcd's own replies (1.2). */
static json_t *i64_json(int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, v);
	return json_string(s);
}

/* Takes root: dumps it compact into out, in insertion order; NULL root (a
 * constructor ran out of memory) is an error too. */
static int emit(struct buf *out, json_t *root, struct err *e)
{
	char *s;
	int rc;

	if (root == NULL)
		return err_set(e, "etcd request: out of memory");
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (s == NULL)
		return err_set(e, "etcd request: out of memory");
	rc = buf_appends(out, s);
	/* the authenticate body holds the password */
	explicit_bzero(s, strlen(s));
	free(s);
	return rc == -1 ? err_set(e, "etcd request: over %zu bytes", out->max) : 0;
}

static int check_key(const char *key, const char *what, struct err *e)
{
	if (key == NULL || key[0] == '\0')
		return err_set(e, "etcd request: %s is empty", what);
	return 0;
}

int etcd_json_grant(struct buf *out, int64_t ttl_s, struct err *e)
{
	return emit(out, json_pack("{s:o}", "TTL", i64_json(ttl_s)), e);
}

int etcd_json_lease_id(struct buf *out, int64_t id, struct err *e)
{
	return emit(out, json_pack("{s:o}", "ID", i64_json(id)), e);
}

int etcd_json_range(struct buf *out, const char *key, struct err *e)
{
	if (check_key(key, "key", e) == -1)
		return -1;
	return emit(out, json_pack("{s:o}", "key", key_json(key)), e);
}

static json_t *compare_created(const char *key, int64_t revision)
{
	return json_pack("[{s:o,s:s,s:s,s:o}]", "key", key_json(key), "target", "CREATE",
	    "result", "EQUAL", "create_revision", i64_json(revision));
}

static json_t *op_range(const char *key)
{
	return json_pack("{s:{s:o}}", "request_range", "key", key_json(key));
}

int etcd_json_create_if_absent(struct buf *out, const char *key, const char *value,
    int64_t lease, const char *read_key, struct err *e)
{
	json_t *put, *success;

	if (check_key(key, "key", e) == -1 ||
	    (read_key != NULL && check_key(read_key, "read key", e) == -1))
		return -1;
	if (value == NULL)
		return err_set(e, "etcd request: no value");
	put = json_pack("{s:o,s:o}", "key", key_json(key), "value",
	    b64_json(value, strlen(value)));
	if (put != NULL && lease != 0 && json_object_set_new(put, "lease", i64_json(lease)) == -1) {
		json_decref(put);
		put = NULL;
	}
	success = json_pack("[{s:o}]", "request_put", put);
	if (success != NULL && read_key != NULL &&
	    json_array_append_new(success, op_range(read_key)) == -1) {
		json_decref(success);
		success = NULL;
	}
	return emit(out, json_pack("{s:o,s:o,s:[o]}", "compare", compare_created(key, 0),
	    "success", success, "failure", op_range(key)), e);
}

int etcd_json_put_if(struct buf *out, const char *guard_key, int64_t guard_revision,
    const char *key, const void *value, size_t len, struct err *e)
{
	if (check_key(guard_key, "guard key", e) == -1 || check_key(key, "key", e) == -1)
		return -1;
	/* revision 0 would make "the key is absent" the guard */
	if (guard_revision <= 0)
		return err_set(e, "etcd request: guard revision %" PRId64 " is not > 0",
		    guard_revision);
	if (value == NULL && len > 0)
		return err_set(e, "etcd request: no value");
	return emit(out, json_pack("{s:o,s:[{s:{s:o,s:o}}],s:[o]}",
	    "compare", compare_created(guard_key, guard_revision),
	    "success", "request_put", "key", key_json(key), "value", b64_json(value, len),
	    "failure", op_range(guard_key)), e);
}

int etcd_json_delete_if(struct buf *out, const char *guard_key, int64_t guard_revision,
    struct err *e)
{
	if (check_key(guard_key, "guard key", e) == -1)
		return -1;
	if (guard_revision <= 0)
		return err_set(e, "etcd request: guard revision %" PRId64 " is not > 0",
		    guard_revision);
	return emit(out, json_pack("{s:o,s:[{s:{s:o}}]}",
	    "compare", compare_created(guard_key, guard_revision),
	    "success", "request_delete_range", "key", key_json(guard_key)), e);
}

int etcd_json_authenticate(struct buf *out, const char *name, const char *password,
    struct err *e)
{
	json_t *n, *p;

	if (check_key(name, "user name", e) == -1)
		return -1;
	if (password == NULL)
		return err_set(e, "etcd request: no password");
	n = json_string(name);
	p = json_string(password);
	if (n == NULL || p == NULL) {
		json_decref(n);
		json_decref(p);
		return err_set(e, "etcd request: user name or password is not UTF-8");
	}
	return emit(out, json_pack("{s:o,s:o}", "name", n, "password", p), e);
}
