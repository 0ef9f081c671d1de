#include "controller/webhook.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *webhook_source_name(enum webhook_source s)
{
	switch (s) {
	case WEBHOOK_PLAIN: return "plain";
	case WEBHOOK_GRAFANA_LEGACY: return "grafana_legacy";
	case WEBHOOK_GRAFANA_UNIFIED: return "grafana_unified";
	case WEBHOOK_ALERTMANAGER: return "alertmanager";
	default: return "unknown";
	}
}

static int fail(struct webhook_signal *out, const char *msg)
{
	snprintf(out->error, sizeof(out->error), "%s", msg);
	out->up = out->down = 0;
	out->npools = 0;
	return -1;
}

/* Counts one signal of an alert for the pool it names. */
static int count_for_pool(json_t *labels, bool up, struct webhook_signal *out)
{
	const char *pool = json_string_value(json_object_get(labels, WEBHOOK_POOL_LABEL));
	struct webhook_pool_signal *g = NULL;

	if (pool == NULL)
		pool = "";
	if (strlen(pool) >= sizeof(g->pool))
		return fail(out, "an alert's " WEBHOOK_POOL_LABEL " label is too long");
	for (size_t i = 0; i < out->npools && g == NULL; i++)
		if (strcmp(out->by_pool[i].pool, pool) == 0)
			g = &out->by_pool[i];
	if (g == NULL) {
		if (out->npools == WEBHOOK_MAX_POOLS)
			return fail(out, "the alerts name too many pools (group them by "
			    WEBHOOK_POOL_LABEL ")");
		g = &out->by_pool[out->npools++];
		snprintf(g->pool, sizeof(g->pool), "%s", pool);
	}
	if (up)
		g->up++;
	else
		g->down++;
	return 0;
}

static bool blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\n' && p[i] != '\r' && p[i] != '\t')
			return false;
	return true;
}

/* Counts the firing alerts of an Alertmanager-shaped "alerts" list: for a
 * route, every firing alert; for /api/v1/alerts, by the action label. */
static int count_alerts(json_t *alerts, int route, const char *label, struct webhook_signal *out)
{
	size_t i;
	json_t *a;

	if (!json_is_array(alerts))
		return fail(out, "\"alerts\" must be a list");
	json_array_foreach(alerts, i, a) {
		const char *st = json_string_value(json_object_get(a, "status"));
		json_t *labels = json_object_get(a, "labels");
		const char *action;

		if (!json_is_object(a) || st == NULL)
			return fail(out, "every alert needs a \"status\"");
		if (labels != NULL && !json_is_object(labels))
			return fail(out, "alert \"labels\" must be an object");
		if (strcmp(st, "firing") != 0)
			continue;
		if (route > 0) {
			out->up++;
		} else if (route < 0) {
			out->down++;
		} else {
			action = json_string_value(json_object_get(labels, label));
			if (action == NULL)
				continue;
			if (strcmp(action, "up") == 0)
				out->up++;
			else if (strcmp(action, "down") == 0)
				out->down++;
			else
				continue;
			if (count_for_pool(labels, strcmp(action, "up") == 0, out) == -1)
				return -1;
		}
	}
	return 0;
}

int webhook_parse(const char *body, size_t len, int route, const char *action_label,
    struct webhook_signal *out)
{
	json_error_t je;
	json_t *root, *version;
	const char *v;
	int rc;

	memset(out, 0, sizeof(*out));
	if (blank(body, len)) {
		if (route == 0)
			return fail(out, "expected an Alertmanager webhook body");
		out->source = WEBHOOK_PLAIN;
		if (route > 0)
			out->up = 1;
		else
			out->down = 1;
		return 0;
	}
	root = json_loadb(body, len, 0, &je);
	if (root == NULL) {
		snprintf(out->error, sizeof(out->error), "body is not JSON: %.100s", je.text);
		out->up = out->down = 0;
		return -1;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(out, "body must be a JSON object");
	}
	version = json_object_get(root, "version");
	v = json_string_value(version);
	if (route == 0) {
		if (v == NULL || strcmp(v, "4") != 0) {
			json_decref(root);
			return fail(out, "expected an Alertmanager webhook (\"version\": \"4\")");
		}
		out->source = WEBHOOK_ALERTMANAGER;
		rc = count_alerts(json_object_get(root, "alerts"), 0, action_label, out);
	} else if (v != NULL && (strcmp(v, "4") == 0 || strcmp(v, "1") == 0)) {
		out->source = strcmp(v, "4") == 0 && json_object_get(root, "orgId") == NULL ?
		    WEBHOOK_ALERTMANAGER : WEBHOOK_GRAFANA_UNIFIED;
		rc = count_alerts(json_object_get(root, "alerts"), route, action_label, out);
	} else if (version == NULL && (json_object_get(root, "ruleId") != NULL ||
	    json_object_get(root, "evalMatches") != NULL || json_object_get(root, "state") != NULL)) {
		const char *state = json_string_value(json_object_get(root, "state"));

		out->source = WEBHOOK_GRAFANA_LEGACY;
		if (state == NULL) {
			rc = fail(out, "a Grafana legacy alert needs a \"state\"");
		} else {
			rc = 0;
			if (strcmp(state, "alerting") == 0) {
				if (route > 0)
					out->up = 1;
				else
					out->down = 1;
			}
		}
	} else {
		rc = fail(out, "not a Grafana or Alertmanager webhook payload");
	}
	json_decref(root);
	return rc;
}
