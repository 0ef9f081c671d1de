#include "provider/linode_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "provider/cloudhttp.h"

enum lin_phase lin_status_phase(const char *status)
{
	static const char *const stopping[] = { "offline", "shutting_down", "deleting",
		"stopped" };

	if (strcmp(status, "running") == 0)
		return LIN_PHASE_RUNNING;
	for (size_t i = 0; i < sizeof(stopping) / sizeof(stopping[0]); i++)
		if (strcmp(status, stopping[i]) == 0)
			return LIN_PHASE_STOPPING;
	/* provisioning, booting, and whatever the API adds later (busy,
	 * migrating, resizing...): not ready, never an error. */
	return LIN_PHASE_PENDING;
}

const char *lin_phase_name(enum lin_phase p)
{
	switch (p) {
	case LIN_PHASE_RUNNING: return "running";
	case LIN_PHASE_STOPPING: return "stopping";
	default: return "pending";
	}
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

static int req_id(json_t *o, const char *key, int64_t *id, const char *what, struct err *e)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return err_set(e, "%s: \"%s\" missing or not a positive integer", what, key);
	*id = json_integer_value(v);
	return 0;
}

static int req_string(json_t *o, const char *key, char *dst, size_t cap, const char *what,
    struct err *e)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap)
		return err_set(e, "%s: \"%s\" missing or not a string of 1..%zu bytes", what, key,
		    cap - 1);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* The page fields and the data array of a paginated reply. */
static json_t *page_data(json_t *root, int64_t *page, int64_t *pages, int64_t *results,
    const char *what, struct err *e)
{
	json_t *data = json_object_get(root, "data"), *p = json_object_get(root, "page"),
	    *ps = json_object_get(root, "pages"), *r = json_object_get(root, "results");

	if (!json_is_array(data) || json_array_size(data) > LIN_PAGE_MAX) {
		err_set(e, "%s: \"data\" is not a list of at most %d", what, LIN_PAGE_MAX);
		return NULL;
	}
	if (!json_is_integer(p) || !json_is_integer(ps) || json_integer_value(p) < 1 ||
	    json_integer_value(ps) < 0) {
		err_set(e, "%s: \"page\" or \"pages\" missing or not a count", what);
		return NULL;
	}
	*page = json_integer_value(p);
	*pages = json_integer_value(ps);
	*results = json_is_integer(r) && json_integer_value(r) >= 0 ? json_integer_value(r) : -1;
	return data;
}

/* "2018-01-01T00:01:01" (UTC, no zone) to unix s; 0 when not that form. */
static int64_t parse_time(const char *s)
{
	struct tm tm;
	const char *p;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	return p == NULL ? 0 : (int64_t)timegm(&tm);
}

int lin_parse_instances(const char *body, size_t len, struct lin_instances *out,
    struct err *e)
{
	json_t *root = load(body, len, "instance list", e), *data, *it, *created;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	data = page_data(root, &out->page, &out->pages, &out->results, "instance list", e);
	if (data == NULL)
		goto fail;
	out->v = calloc(json_array_size(data) + 1, sizeof(*out->v));
	if (out->v == NULL) {
		err_set(e, "out of memory");
		goto fail;
	}
	json_array_foreach(data, i, it) {
		struct lin_instance *x = &out->v[out->n];

		if (!json_is_object(it)) {
			err_set(e, "instance list: an element is not an object");
			goto fail;
		}
		if (req_id(it, "id", &x->id, "instance", e) == -1 ||
		    req_string(it, "label", x->label, sizeof(x->label), "instance", e) == -1 ||
		    req_string(it, "status", x->status, sizeof(x->status), "instance", e) == -1)
			goto fail;
		created = json_object_get(it, "created");
		x->created_unix_s = json_is_string(created) ?
		    parse_time(json_string_value(created)) : 0;
		out->n++;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	lin_instances_fini(out);
	return -1;
}

void lin_instances_fini(struct lin_instances *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int lin_parse_private_ip(const char *body, size_t len, char *priv, size_t cap,
    struct err *e)
{
	json_t *root = load(body, len, "instance addresses", e), *v4, *list, *first;
	int rc = -1;

	priv[0] = '\0';
	if (root == NULL)
		return -1;
	v4 = json_object_get(root, "ipv4");
	list = json_object_get(v4, "private");
	if (!json_is_object(v4) || (list != NULL && !json_is_array(list))) {
		err_set(e, "instance addresses: \"ipv4.private\" is not a list");
		goto out;
	}
	first = json_array_get(list, 0);
	if (first != NULL && req_string(first, "address", priv, cap, "private address",
	    e) == -1)
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int lin_parse_nodes(const char *body, size_t len, struct lin_nodes *out, struct err *e)
{
	json_t *root = load(body, len, "node list", e), *data, *it;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	data = page_data(root, &out->page, &out->pages, &out->results, "node list", e);
	if (data == NULL)
		goto fail;
	out->v = calloc(json_array_size(data) + 1, sizeof(*out->v));
	if (out->v == NULL) {
		err_set(e, "out of memory");
		goto fail;
	}
	json_array_foreach(data, i, it) {
		struct lin_node *x = &out->v[out->n];

		if (!json_is_object(it)) {
			err_set(e, "node list: an element is not an object");
			goto fail;
		}
		if (req_id(it, "id", &x->id, "node", e) == -1 ||
		    req_string(it, "address", x->address, sizeof(x->address), "node", e) == -1 ||
		    req_string(it, "mode", x->mode, sizeof(x->mode), "node", e) == -1)
			goto fail;
		out->n++;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	lin_nodes_fini(out);
	return -1;
}

void lin_nodes_fini(struct lin_nodes *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int lin_parse_id(const char *body, size_t len, int64_t *id, struct err *e)
{
	json_t *root = load(body, len, "reply", e);
	int rc;

	if (root == NULL)
		return -1;
	rc = req_id(root, "id", id, "reply", e);
	json_decref(root);
	return rc;
}

/* Calls fn on each {"reason", "field"} of an error body; false when the body
 * is not one. */
static bool each_error(const char *body, size_t len,
    bool (*fn)(const char *reason, const char *field, void *ctx), void *ctx)
{
	json_t *root = json_loadb(body, len, 0, NULL), *errs, *it;
	size_t i;
	bool any = false;

	errs = json_object_get(root, "errors");
	json_array_foreach(errs, i, it) {
		json_t *r = json_object_get(it, "reason"), *f = json_object_get(it, "field");

		if (!json_is_string(r))
			continue;
		any = true;
		if (fn(json_string_value(r), json_is_string(f) ? json_string_value(f) : NULL, ctx))
			break;
	}
	json_decref(root);
	return any;
}

struct joined {
	char *dst;
	size_t cap;
};

static bool join(const char *reason, const char *field, void *ctx)
{
	struct joined *j = ctx;
	size_t n = strlen(j->dst);

	snprintf(j->dst + n, j->cap - n, "%s%s%s%s", n ? "; " : "", field ? field : "",
	    field ? ": " : "", reason);
	return false;
}

void lin_error_message(const char *body, size_t len, char *dst, size_t cap)
{
	struct joined j = { dst, cap };

	dst[0] = '\0';
	if (!each_error(body, len, join, &j) || dst[0] == '\0')
		cloud_body_line(body, len, dst, cap);
}

static bool label_taken(const char *reason, const char *field, void *ctx)
{
	bool *hit = ctx;

	/* Akamai's own controller matches this reason, not a code: there is none. */
	if (field != NULL && strcmp(field, "label") == 0 && strcasestr(reason, "must be unique"))
		*hit = true;
	return *hit;
}

bool lin_error_label_taken(const char *body, size_t len)
{
	bool hit = false;

	each_error(body, len, label_taken, &hit);
	return hit;
}

static bool busy(const char *reason, const char *field, void *ctx)
{
	bool *hit = ctx;

	(void)field;
	if (strcasestr(reason, "Linode busy") != NULL)
		*hit = true;
	return *hit;
}

bool lin_error_busy(const char *body, size_t len)
{
	bool hit = false;

	each_error(body, len, busy, &hit);
	return hit;
}

char *lin_create_body(const struct lin_create *c)
{
	json_t *o = json_object(), *keys = json_array();
	char *s;

	if (o == NULL || keys == NULL) {
		json_decref(o);
		json_decref(keys);
		return NULL;
	}
	for (size_t i = 0; i < c->nkeys; i++)
		json_array_append_new(keys, json_string(c->keys[i]));
	json_object_set_new(o, "region", json_string(c->region));
	json_object_set_new(o, "type", json_string(c->type));
	json_object_set_new(o, "image", json_string(c->image));
	json_object_set_new(o, "label", json_string(c->label));
	json_object_set_new(o, "tags", json_pack("[s]", c->tag));
	json_object_set_new(o, "root_pass", json_string(c->root_pass));
	if (c->nkeys > 0)
		json_object_set_new(o, "authorized_keys", keys);
	else
		json_decref(keys);
	/* The NodeBalancer reaches members on their private address only. */
	json_object_set_new(o, "private_ip", json_true());
	json_object_set_new(o, "booted", json_true());
	if (c->firewall_id > 0)
		json_object_set_new(o, "firewall_id", json_integer(c->firewall_id));
	if (c->user_data_b64 != NULL)
		json_object_set_new(o, "metadata", json_pack("{s:s}", "user_data",
		    c->user_data_b64));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

bool lin_label_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > LIN_LABEL_MAX || !(s[0] >= 'a' && s[0] <= 'z') || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && s[i + 1] == '-')
			return false;
	}
	return true;
}
