/* The failover state's JSON (controller/hastate.h). */
#include "controller/hastate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static json_t *points(const struct target_point *p, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_pack("[I, i]", (json_int_t)p[i].at_ms, p[i].value));
	return a;
}

char *ha_state_format(const struct ha_state *s, size_t *len)
{
	json_t *root, *drains = json_array();
	char *out;

	for (size_t i = 0; drains != NULL && i < s->ndrains; i++)
		json_array_append_new(drains, json_pack("{s:s, s:I, s:b}", "id", s->drains[i].id,
		    "since_unix_ms", (json_int_t)s->drains[i].since_unix_ms, "removing",
		    s->drains[i].removing));
	root = json_pack("{s:i, s:i, s:s, s:I, s:{s:b, s:b, s:I}, s:{s:o, s:o}, s:o}",
	    "version", HA_STATE_VERSION, "desired", s->desired, "by", s->by,
	    "written_unix_ms", (json_int_t)s->written_unix_ms,
	    "step", "up", s->latch.up, "down", s->latch.down,
	    "last_step_unix_ms", (json_int_t)s->last_step_unix_ms,
	    "target", "recommendations", points(s->target.recs, s->target.nrecs),
	    "changes", points(s->target.changes, s->target.nchanges),
	    "drains", drains);
	out = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (out != NULL)
		*len = strlen(out);
	return out;
}

static int read_points(json_t *a, struct target_point *p, size_t *n, const char *what,
    struct err *e)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return err_set(e, "state: %s is not a list", what);
	if (json_array_size(a) > TARGET_HISTORY)
		return err_set(e, "state: %s has more than %d points", what, TARGET_HISTORY);
	*n = 0;
	json_array_foreach(a, i, v) {
		json_t *t = json_array_get(v, 0), *x = json_array_get(v, 1);

		if (json_array_size(v) != 2 || !json_is_integer(t) || !json_is_integer(x))
			return err_set(e, "state: %s[%zu] is not [unix_ms, value]", what, i);
		p[*n].at_ms = (int64_t)json_integer_value(t);
		p[(*n)++].value = (int)json_integer_value(x);
	}
	return 0;
}

int ha_state_parse(const char *json, size_t len, struct ha_state *out, struct err *e)
{
	json_t *root, *step, *target, *drains, *v, *d;
	json_error_t je;
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	root = json_loadb(json, len, 0, &je);
	if (root == NULL)
		return err_set(e, "state: not JSON: %s", je.text);
	v = json_object_get(root, "version");
	step = json_object_get(root, "step");
	target = json_object_get(root, "target");
	drains = json_object_get(root, "drains");
	if (!json_is_integer(v) || json_integer_value(v) != HA_STATE_VERSION) {
		err_set(e, "state: version is not %d", HA_STATE_VERSION);
		goto out;
	}
	if (!json_is_integer(json_object_get(root, "desired")) || !json_is_object(step) ||
	    !json_is_object(target) || !json_is_array(drains)) {
		err_set(e, "state: desired, step, target or drains missing");
		goto out;
	}
	out->desired = (int)json_integer_value(json_object_get(root, "desired"));
	if (out->desired < 0) {
		err_set(e, "state: desired %d is negative", out->desired);
		goto out;
	}
	out->latch.up = json_is_true(json_object_get(step, "up"));
	out->latch.down = json_is_true(json_object_get(step, "down"));
	out->last_step_unix_ms = json_integer_value(json_object_get(step, "last_step_unix_ms"));
	out->written_unix_ms = json_integer_value(json_object_get(root, "written_unix_ms"));
	v = json_object_get(root, "by");
	snprintf(out->by, sizeof(out->by), "%s", json_is_string(v) ? json_string_value(v) : "");
	if (read_points(json_object_get(target, "recommendations"), out->target.recs,
	    &out->target.nrecs, "target.recommendations", e) == -1 ||
	    read_points(json_object_get(target, "changes"), out->target.changes,
	    &out->target.nchanges, "target.changes", e) == -1)
		goto out;
	if (json_array_size(drains) > HA_STATE_MAX_DRAINS) {
		err_set(e, "state: more than %d drains", HA_STATE_MAX_DRAINS);
		goto out;
	}
	json_array_foreach(drains, i, d) {
		json_t *id = json_object_get(d, "id"), *since = json_object_get(d, "since_unix_ms");
		struct ha_drain *x = &out->drains[out->ndrains];

		if (!json_is_string(id) || strlen(json_string_value(id)) >= sizeof(x->id) ||
		    !json_is_integer(since)) {
			err_set(e, "state: drains[%zu] needs an id and since_unix_ms", i);
			goto out;
		}
		snprintf(x->id, sizeof(x->id), "%s", json_string_value(id));
		x->since_unix_ms = json_integer_value(since);
		x->removing = json_is_true(json_object_get(d, "removing"));
		out->ndrains++;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

char *ha_doc_join(const char *const *names, char *const *parts, size_t n, size_t *len)
{
	size_t cap = sizeof("{\"pools\":{}}");
	const char *sep = "";
	char *out, *at;

	for (size_t i = 0; i < n; i++)
		if (parts[i] != NULL)
			cap += strlen(names[i]) + strlen(parts[i]) + sizeof("\"\":,");
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	at = out + sprintf(out, "{\"pools\":{");
	for (size_t i = 0; i < n; i++) {
		if (parts[i] == NULL)
			continue;
		at += sprintf(at, "%s\"%s\":%s", sep, names[i], parts[i]);
		sep = ",";
	}
	at += sprintf(at, "}}");
	*len = (size_t)(at - out);
	return out;
}

int ha_doc_part(const char *doc, size_t len, const char *name, bool several, char **part,
    size_t *part_len, struct err *e)
{
	json_error_t je;
	json_t *root = json_loadb(doc, len, 0, &je), *pools, *v;
	int rc = -1;

	*part = NULL;
	*part_len = 0;
	if (!json_is_object(root)) {
		err_set(e, "state: not a JSON object");
		goto out;
	}
	pools = json_object_get(root, "pools");
	if (pools != NULL && !json_is_object(pools)) {
		err_set(e, "state: pools is not an object");
		goto out;
	}
	if (pools == NULL && several) {
		err_set(e, "state: it is one pool's (written by a controller that ran one pool), "
		    "not each pool's");
		goto out;
	}
	v = pools != NULL ? json_object_get(pools, name) : root;
	if (v != NULL && !json_is_object(v)) {
		err_set(e, "state: pools.%s is not an object", name);
		goto out;
	}
	if (v != NULL) {
		*part = pools != NULL ? json_dumps(v, JSON_COMPACT) : strndup(doc, len);
		if (*part == NULL) {
			err_set(e, "out of memory");
			goto out;
		}
		*part_len = strlen(*part);
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}
