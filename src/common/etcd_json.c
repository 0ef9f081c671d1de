/* The etcd v3 gateway's replies, and base64; see etcd_json.h. The
 * request bodies are etcd_json_req.c's. */
#include "common/etcd_json.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void etcd_kv_init(struct etcd_kv *kv, size_t max_bytes)
{
	kv->found = false;
	kv->create_revision = 0;
	kv->mod_revision = 0;
	kv->lease = 0;
	buf_init(&kv->value, max_bytes);
}

void etcd_kv_fini(struct etcd_kv *kv)
{
	buf_fini(&kv->value);
}

static void kv_clear(struct etcd_kv *kv)
{
	kv->found = false;
	kv->create_revision = 0;
	kv->mod_revision = 0;
	kv->lease = 0;
	buf_reset(&kv->value);
}

/* --- base64 ---------------------------------------------------------------- */

int etcd_b64_append(struct buf *out, const void *p, size_t len)
{
	size_t n = 4 * ((len + 2) / 3);

	if (len > ETCD_B64_MAX_CHARS || buf_reserve(out, n + 1) == -1)
		return -1;
	/* EVP_EncodeBlock writes n chars and a NUL, which we do not count. */
	EVP_EncodeBlock((unsigned char *)out->p + out->len, p, (int)len);
	out->len += n;
	return 0;
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '+' || c == '/';
}

/* Checks s is standard padded base64 (what etcd's Go decoder accepts, minus
 * the whitespace EVP_DecodeBlock would skip); *pad the '=' count. */
static int b64_check(const char *s, size_t n, size_t *pad, struct err *e)
{
	size_t i;

	if (n % 4 != 0 || n > ETCD_B64_MAX_CHARS)
		return err_set(e, "base64 of %zu characters", n);
	*pad = 0;
	if (n > 0 && s[n - 1] == '=')
		*pad = (n > 1 && s[n - 2] == '=') ? 2 : 1;
	for (i = 0; i < n - *pad; i++)
		if (!b64_char(s[i]))
			return err_set(e, "bad base64 character at %zu", i);
	return 0;
}

int etcd_b64_decode(const char *s, size_t n, struct buf *out, struct err *e)
{
	unsigned char *tmp;
	size_t pad, len;
	int got;

	buf_reset(out);
	if (b64_check(s, n, &pad, e) == -1)
		return -1;
	if (n == 0)
		return 0;
	tmp = malloc(n / 4 * 3);
	if (tmp == NULL)
		return err_set(e, "out of memory");
	/* It counts the bytes the padding stands for: 3 per 4 characters. */
	got = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got != n / 4 * 3) {
		free(tmp);
		return err_set(e, "bad base64");
	}
	len = (size_t)got - pad;
	if (buf_append(out, tmp, len) == -1) {
		free(tmp);
		return err_set(e, "value of %zu bytes is over the %zu-byte limit", len, out->max);
	}
	free(tmp);
	return 0;
}

/* --- replies ---------------------------------------------------------------- */

static json_t *load(const char *body, size_t len, struct err *e)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

	if (root == NULL) {
		/* je.text quotes no input, so a token in a reply cannot leak here */
		err_set(e, "not JSON: %s", je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		err_set(e, "not a JSON object");
		return NULL;
	}
	return root;
}

/* An int64 field: absent or null is 0; a decimal string (etcd's way) or a
 * JSON integer; anything else, or out of range, is an error. */
static int get_i64(json_t *o, const char *name, int64_t *out, struct err *e)
{
	json_t *v = json_object_get(o, name);
	const char *s, *p;
	char *end;
	long long n;

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return err_set(e, "\"%s\" is not an int64", name);
	s = json_string_value(v);
	p = s[0] == '-' ? s + 1 : s;
	if (*p < '0' || *p > '9' || strlen(s) != json_string_length(v))
		return err_set(e, "\"%s\" is not an int64", name);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return err_set(e, "\"%s\" is not an int64", name);
	*out = n;
	return 0;
}

static int get_bool(json_t *o, const char *name, bool *out, struct err *e)
{
	json_t *v = json_object_get(o, name);

	*out = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return err_set(e, "\"%s\" is not a boolean", name);
	*out = json_is_true(v);
	return 0;
}

/* An object field; *out NULL when absent (required: an error). */
static int get_obj(json_t *o, const char *name, bool required, json_t **out, struct err *e)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? err_set(e, "no \"%s\"", name) : 0;
	if (!json_is_object(v))
		return err_set(e, "\"%s\" is not an object", name);
	*out = v;
	return 0;
}

static int header_revision(json_t *o, int64_t *rev, struct err *e)
{
	json_t *h;

	*rev = 0;
	if (get_obj(o, "header", false, &h, e) == -1)
		return -1;
	return h == NULL ? 0 : get_i64(h, "revision", rev, e);
}

static int parse_kv(json_t *o, struct etcd_kv *kv, struct err *e)
{
	json_t *key = json_object_get(o, "key"), *val = json_object_get(o, "value");
	size_t pad;

	if (!json_is_object(o))
		return err_set(e, "a kv is not an object");
	/* the key is checked, not kept: the caller knows which it asked for */
	if (!json_is_string(key) || json_string_length(key) == 0 ||
	    b64_check(json_string_value(key), json_string_length(key), &pad, e) == -1)
		return err_set(e, "kv \"key\" is not base64");
	if (get_i64(o, "create_revision", &kv->create_revision, e) == -1 ||
	    get_i64(o, "mod_revision", &kv->mod_revision, e) == -1 ||
	    get_i64(o, "lease", &kv->lease, e) == -1)
		return -1;
	if (val != NULL && !json_is_null(val)) {
		if (!json_is_string(val))
			return err_set(e, "kv \"value\" is not a string");
		if (etcd_b64_decode(json_string_value(val), json_string_length(val), &kv->value,
		    e) == -1)
			return -1;
	}
	kv->found = true;
	return 0;
}

/* The "kvs" of a range of one key: absent or [] is not found. */
static int parse_kvs(json_t *o, struct etcd_kv *kv, struct err *e)
{
	json_t *kvs = json_object_get(o, "kvs");

	kv_clear(kv);
	if (kvs == NULL || json_is_null(kvs))
		return 0;
	if (!json_is_array(kvs))
		return err_set(e, "\"kvs\" is not an array");
	if (json_array_size(kvs) == 0)
		return 0;
	if (json_array_size(kvs) > 1)
		return err_set(e, "%zu kvs for one key", json_array_size(kvs));
	if (parse_kv(json_array_get(kvs, 0), kv, e) == -1) {
		kv_clear(kv);
		return -1;
	}
	return 0;
}

static void copy_message(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < cap && src[i] != '\0'; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
	dst[i] = '\0';
}

static bool error_of(json_t *root, struct etcd_json_error *out)
{
	json_t *err = json_object_get(root, "error");
	json_t *msg = json_object_get(root, "message");
	json_t *code = json_object_get(root, "code");

	memset(out, 0, sizeof(*out));
	if (json_is_object(err)) {
		msg = json_object_get(err, "message");
		code = json_object_get(err, "grpc_code");
		if (!json_is_integer(code))
			return false;
		out->code = (int)json_integer_value(code);
		if (json_is_integer(json_object_get(err, "http_code")))
			out->http_code = (int)json_integer_value(json_object_get(err, "http_code"));
	} else if (json_is_string(err) && json_is_integer(code)) {
		out->code = (int)json_integer_value(code);
		if (!json_is_string(msg))
			msg = err;
	} else {
		return false;
	}
	copy_message(out->message, sizeof(out->message),
	    json_is_string(msg) ? json_string_value(msg) : "");
	return true;
}

bool etcd_json_parse_error(const char *body, size_t len, struct etcd_json_error *out)
{
	json_t *root = load(body, len, NULL);
	bool is;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return false;
	is = error_of(root, out);
	json_decref(root);
	return is;
}

int etcd_json_parse_grant(const char *body, size_t len, int64_t *id, int64_t *ttl_s,
    struct err *e)
{
	json_t *root = load(body, len, e), *msg;
	int rc = -1;

	*id = *ttl_s = 0;
	if (root == NULL)
		return -1;
	/* LeaseGrantResponse has an "error" string of its own */
	msg = json_object_get(root, "error");
	if (msg != NULL && !(json_is_string(msg) && json_string_length(msg) == 0))
		err_set(e, "grant refused");
	else if (get_i64(root, "ID", id, e) == 0 && get_i64(root, "TTL", ttl_s, e) == 0) {
		if (*id == 0 || *ttl_s <= 0)
			err_set(e, "grant without a lease ID or TTL");
		else
			rc = 0;
	}
	json_decref(root);
	if (rc == -1)
		*id = *ttl_s = 0;
	return rc;
}

int etcd_json_parse_keepalive(const char *body, size_t len, int64_t *id, int64_t *ttl_s,
    struct etcd_json_error *stream_error, struct err *e)
{
	struct etcd_json_error se;
	json_t *root = load(body, len, e), *res;
	int rc = -1;

	*id = *ttl_s = 0;
	if (stream_error != NULL)
		memset(stream_error, 0, sizeof(*stream_error));
	if (root == NULL)
		return -1;
	if (json_object_get(root, "error") != NULL) {
		if (error_of(root, &se)) {
			if (stream_error != NULL)
				*stream_error = se;
			err_set(e, "%s (code %d)", se.message, se.code);
		} else {
			err_set(e, "unreadable \"error\"");
		}
	} else if (get_obj(root, "result", true, &res, e) == 0 &&
	    get_i64(res, "ID", id, e) == 0 && get_i64(res, "TTL", ttl_s, e) == 0) {
		/* no TTL, "0" or a negative one: the lease is gone */
		if (*ttl_s < 0)
			*ttl_s = 0;
		rc = 0;
	}
	json_decref(root);
	if (rc == -1)
		*id = *ttl_s = 0;
	return rc;
}

int etcd_json_parse_header(const char *body, size_t len, int64_t *revision, struct err *e)
{
	json_t *root = load(body, len, e);
	int rc;

	*revision = 0;
	if (root == NULL)
		return -1;
	rc = header_revision(root, revision, e);
	json_decref(root);
	return rc;
}

int etcd_json_parse_range(const char *body, size_t len, struct etcd_kv *kv,
    int64_t *revision, struct err *e)
{
	json_t *root = load(body, len, e);
	int rc = -1;

	kv_clear(kv);
	*revision = 0;
	if (root == NULL)
		return -1;
	if (header_revision(root, revision, e) == 0 && parse_kvs(root, kv, e) == 0)
		rc = 0;
	json_decref(root);
	return rc;
}

/* A txn reply: *succeeded, and its "responses" array, each of which must be
 * of the kind the request's branch implies (want[i]). */
static int txn_responses(json_t *root, bool *succeeded, const char *const *want, size_t n,
    json_t **resp, struct err *e)
{
	json_t *arr = json_object_get(root, "responses");
	size_t got;

	if (get_bool(root, "succeeded", succeeded, e) == -1)
		return -1;
	if (arr != NULL && !json_is_array(arr))
		return err_set(e, "\"responses\" is not an array");
	got = arr == NULL ? 0 : json_array_size(arr);
	if (got != n)
		return err_set(e, "txn %s: %zu responses, not %zu",
		    *succeeded ? "succeeded" : "failed", got, n);
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(arr, i);

		if (!json_is_object(r) || json_object_size(r) != 1 ||
		    get_obj(r, want[i], true, &resp[i], e) == -1)
			return err_set(e, "txn response %zu is not a %s", i, want[i]);
	}
	return 0;
}

static const char *const one_range[] = { "response_range" };

int etcd_json_parse_create_if_absent(const char *body, size_t len, bool has_read_key,
    bool *won, int64_t *revision, struct etcd_kv *out, struct err *e)
{
	static const char *const win[] = { "response_put", "response_range" };
	json_t *root = load(body, len, e), *resp[2];
	int rc = -1;

	*won = false;
	*revision = 0;
	kv_clear(out);
	if (root == NULL)
		return -1;
	if (get_bool(root, "succeeded", won, e) == -1)
		goto done;
	if (!*won) {
		if (txn_responses(root, won, one_range, 1, resp, e) == 0 &&
		    parse_kvs(resp[0], out, e) == 0)
			rc = 0;
		goto done;
	}
	if (txn_responses(root, won, win, has_read_key ? 2 : 1, resp, e) == -1 ||
	    header_revision(resp[0], revision, e) == -1)
		goto done;
	/* the put's revision is the txn's; the top header has it too */
	if (*revision == 0 && header_revision(root, revision, e) == -1)
		goto done;
	if (*revision <= 0) {
		err_set(e, "won without a revision");
		goto done;
	}
	rc = has_read_key ? parse_kvs(resp[1], out, e) : 0;
done:
	json_decref(root);
	if (rc == -1) {
		*won = false;
		*revision = 0;
		kv_clear(out);
	}
	return rc;
}

int etcd_json_parse_put_if(const char *body, size_t len, bool *ok, struct etcd_kv *holder,
    struct err *e)
{
	static const char *const put[] = { "response_put" };
	json_t *root = load(body, len, e), *resp[1];
	int rc = -1;

	*ok = false;
	if (holder != NULL)
		kv_clear(holder);
	if (root == NULL)
		return -1;
	if (get_bool(root, "succeeded", ok, e) == 0 &&
	    txn_responses(root, ok, *ok ? put : one_range, 1, resp, e) == 0)
		rc = (*ok || holder == NULL) ? 0 : parse_kvs(resp[0], holder, e);
	json_decref(root);
	if (rc == -1)
		*ok = false;
	return rc;
}

int etcd_json_parse_delete_if(const char *body, size_t len, bool *ok, struct err *e)
{
	static const char *const del[] = { "response_delete_range" };
	json_t *root = load(body, len, e), *resp[1];
	int rc = -1;

	*ok = false;
	if (root == NULL)
		return -1;
	if (get_bool(root, "succeeded", ok, e) == 0 &&
	    txn_responses(root, ok, del, *ok ? 1 : 0, resp, e) == 0)
		rc = 0;
	json_decref(root);
	if (rc == -1)
		*ok = false;
	return rc;
}

int etcd_json_parse_token(const char *body, size_t len, char *token, size_t cap,
    struct err *e)
{
	json_t *root = load(body, len, e), *t;
	const char *s;
	size_t n;
	int rc = -1;

	token[0] = '\0';
	if (root == NULL)
		return -1;
	t = json_object_get(root, "token");
	if (!json_is_string(t)) {
		err_set(e, "no \"token\"");
		goto done;
	}
	s = json_string_value(t);
	n = json_string_length(t);
	if (n == 0 || n >= cap) {
		err_set(e, "token of %zu bytes", n);
		goto done;
	}
	/* it goes into a header line as is */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) {
			err_set(e, "token has a byte that cannot go in a header");
			goto done;
		}
	memcpy(token, s, n + 1);
	rc = 0;
done:
	json_decref(root);
	return rc;
}
