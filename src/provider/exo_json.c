#include "provider/exo_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "provider/cloudhttp.h"

int exo_is_uuid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return 0;
		}
	}
	return s[36] == '\0';
}

static json_t *load(const char *body, size_t len, const char *what, struct err *e)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

	if (root == NULL) {
		err_set(e, "%s: not JSON: %s", what, je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		err_set(e, "%s: not a JSON object", what);
		return NULL;
	}
	return root;
}

/* Copies an optional string field; -1 when present but not a string or too
 * long for dst. */
static int opt_string(json_t *o, const char *key, char *dst, size_t cap, const char *what,
    struct err *e)
{
	json_t *v = json_object_get(o, key);

	dst[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= cap)
		return err_set(e, "%s: \"%s\" is not a string of at most %zu bytes", what, key,
		    cap - 1);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int req_string(json_t *o, const char *key, char *dst, size_t cap, const char *what,
    struct err *e)
{
	if (opt_string(o, key, dst, cap, what, e) == -1)
		return -1;
	if (dst[0] == '\0')
		return err_set(e, "%s: \"%s\" missing", what, key);
	return 0;
}

static int req_uuid(json_t *o, const char *key, char *dst, const char *what, struct err *e)
{
	if (req_string(o, key, dst, 40, what, e) == -1)
		return -1;
	if (!exo_is_uuid(dst))
		return err_set(e, "%s: \"%s\" is not a UUID", what, key);
	return 0;
}

int exo_parse_pool(const char *body, size_t len, struct exo_pool *out, struct err *e)
{
	json_t *root = load(body, len, "instance pool", e), *size, *inst;
	size_t i;
	json_t *it;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	size = json_object_get(root, "size");
	inst = json_object_get(root, "instances");
	if (!json_is_integer(size) || json_integer_value(size) < 0) {
		err_set(e, "instance pool: \"size\" missing or not a count");
		goto fail;
	}
	out->size = json_integer_value(size);
	if (req_string(root, "state", out->state, sizeof(out->state), "instance pool", e) == -1)
		goto fail;
	/* A pool of size 0 may leave "instances" out. */
	if (inst != NULL && !json_is_array(inst)) {
		err_set(e, "instance pool: \"instances\" is not a list");
		goto fail;
	}
	if (json_array_size(inst) > EXO_MAX_MEMBERS) {
		err_set(e, "instance pool: more than %d members", EXO_MAX_MEMBERS);
		goto fail;
	}
	out->ids = calloc(json_array_size(inst) + 1, sizeof(*out->ids));
	if (out->ids == NULL) {
		err_set(e, "out of memory");
		goto fail;
	}
	json_array_foreach(inst, i, it) {
		if (!json_is_object(it) ||
		    req_uuid(it, "id", out->ids[out->n], "instance pool member", e) == -1)
			goto fail;
		out->n++;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	exo_pool_fini(out);
	return -1;
}

void exo_pool_fini(struct exo_pool *p)
{
	free(p->ids);
	p->ids = NULL;
	p->n = 0;
}

/* RFC 3339 "2026-01-01T00:00:00Z" (fraction and offset allowed) to unix s. */
static int64_t parse_time(const char *s)
{
	struct tm tm;
	const char *p;
	int64_t t;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return 0;
	t = (int64_t)timegm(&tm);
	if (*p == '.')
		while (*++p >= '0' && *p <= '9')
			;
	if ((*p == '+' || *p == '-') && strlen(p) == 6) {
		int64_t off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
		    ((p[4] - '0') * 10 + (p[5] - '0')) * 60;

		t += *p == '+' ? -off : off;
	}
	return t;
}

int exo_parse_instances(const char *body, size_t len, struct exo_instances *out, struct err *e)
{
	json_t *root = load(body, len, "instance list", e), *arr, *it;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	arr = json_object_get(root, "instances");
	if (arr == NULL) {
		/* An empty list may come back as {}. */
		json_decref(root);
		return 0;
	}
	if (!json_is_array(arr) || json_array_size(arr) > EXO_MAX_MEMBERS) {
		err_set(e, "instance list: \"instances\" is not a list of at most %d",
		    EXO_MAX_MEMBERS);
		goto fail;
	}
	out->v = calloc(json_array_size(arr) + 1, sizeof(*out->v));
	if (out->v == NULL) {
		err_set(e, "out of memory");
		goto fail;
	}
	json_array_foreach(arr, i, it) {
		struct exo_instance *x = &out->v[out->n];
		char created[40];

		if (!json_is_object(it)) {
			err_set(e, "instance list: an element is not an object");
			goto fail;
		}
		if (req_uuid(it, "id", x->id, "instance", e) == -1 ||
		    req_string(it, "state", x->state, sizeof(x->state), "instance", e) == -1 ||
		    opt_string(it, "public-ip", x->public_ip, sizeof(x->public_ip), "instance",
		    e) == -1 ||
		    opt_string(it, "ipv6-address", x->ipv6, sizeof(x->ipv6), "instance", e) == -1 ||
		    opt_string(it, "created-at", created, sizeof(created), "instance", e) == -1)
			goto fail;
		x->created_unix_s = created[0] ? parse_time(created) : 0;
		out->n++;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	exo_instances_fini(out);
	return -1;
}

void exo_instances_fini(struct exo_instances *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int exo_parse_operation(const char *body, size_t len, struct exo_operation *out, struct err *e)
{
	json_t *root = load(body, len, "operation", e);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	if (req_uuid(root, "id", out->id, "operation", e) == -1 ||
	    req_string(root, "state", out->state, sizeof(out->state), "operation", e) == -1 ||
	    opt_string(root, "reason", out->reason, sizeof(out->reason), "operation", e) == -1)
		goto out;
	/* The message is for people: truncate rather than fail. */
	if (json_is_string(json_object_get(root, "message")))
		snprintf(out->message, sizeof(out->message), "%s",
		    json_string_value(json_object_get(root, "message")));
	if (strcmp(out->state, "pending") != 0 && strcmp(out->state, "success") != 0 &&
	    strcmp(out->state, "failure") != 0 && strcmp(out->state, "timeout") != 0) {
		err_set(e, "operation: unknown state \"%s\"", out->state);
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

void exo_error_message(const char *body, size_t len, char *dst, size_t cap)
{
	static const char *const keys[] = { "message", "error", "detail", "title" };
	json_t *root = json_loadb(body, len, 0, NULL);

	dst[0] = '\0';
	for (size_t i = 0; json_is_object(root) && i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(root, keys[i]);

		if (json_is_string(v) && json_string_length(v) > 0) {
			snprintf(dst, cap, "%s", json_string_value(v));
			json_decref(root);
			return;
		}
	}
	json_decref(root);
	/* Not JSON: the text itself. */
	cloud_body_line(body, len, dst, cap);
}
