#include "promql/query.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_MAX_SAMPLES 100000

/* Prometheus encodes sample values as strings: "0.5", "NaN", "+Inf". */
static int parse_value(json_t *pair, double *out)
{
	const char *s;
	char *end;

	if (!json_is_array(pair) || json_array_size(pair) != 2 ||
	    !json_is_number(json_array_get(pair, 0)) ||
	    (s = json_string_value(json_array_get(pair, 1))) == NULL || *s == '\0')
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (*end != '\0')
		return -1;
	return 0;
}

int prom_answer_open(const char *body, size_t len, int status, void **rootp, const char **type,
    void **result, struct err *e)
{
	json_error_t je;
	json_t *root, *data;
	const char *st;

	*rootp = NULL;
	root = json_loadb(body, len, 0, &je);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		if (status != 200)
			return err_set(e, "HTTP %d", status);
		return err_set(e, "answer is not JSON: %s", root ? "not an object" : je.text);
	}
	st = json_string_value(json_object_get(root, "status"));
	if (st != NULL && strcmp(st, "error") == 0) {
		const char *t = json_string_value(json_object_get(root, "errorType"));
		const char *m = json_string_value(json_object_get(root, "error"));

		err_set(e, "%s: %s", t ? t : "error", m ? m : "(no message)");
		json_decref(root);
		return -1;
	}
	if (status != 200 || st == NULL || strcmp(st, "success") != 0) {
		json_decref(root);
		return err_set(e, "HTTP %d without a success status", status);
	}
	data = json_object_get(root, "data");
	*type = json_string_value(json_object_get(data, "resultType"));
	*result = json_object_get(data, "result");
	if (*type == NULL || *result == NULL) {
		json_decref(root);
		return err_set(e, "answer lacks data.resultType or data.result");
	}
	*rootp = root;
	return 0;
}

int prom_parse_query(const char *body, size_t len, int status, struct prom_result *out,
    struct err *e)
{
	json_t *root, *result;
	const char *type;
	size_t i;
	json_t *it;

	memset(out, 0, sizeof(*out));
	if (prom_answer_open(body, len, status, (void **)&root, &type, (void **)&result, e) == -1)
		return -1;
	if (strcmp(type, "scalar") == 0) {
		out->is_scalar = 1;
		if (parse_value(result, &out->scalar) == -1) {
			json_decref(root);
			return err_set(e, "malformed scalar");
		}
		json_decref(root);
		return 0;
	}
	if (strcmp(type, "vector") != 0) {
		err_set(e, "the query gives a %s, not an instant vector", type);
		json_decref(root);	/* type lives in root */
		return -1;
	}
	if (!json_is_array(result) || json_array_size(result) > PROM_MAX_SAMPLES) {
		json_decref(root);
		return err_set(e, "malformed vector");
	}
	out->v = calloc(json_array_size(result) ? json_array_size(result) : 1, sizeof(*out->v));
	if (out->v == NULL) {
		json_decref(root);
		return err_set(e, "out of memory");
	}
	json_array_foreach(result, i, it) {
		json_t *metric = json_object_get(it, "metric");
		const char *inst;

		if (!json_is_object(metric) || parse_value(json_object_get(it, "value"),
		    &out->v[out->n].value) == -1) {
			prom_result_free(out);
			json_decref(root);
			return err_set(e, "malformed sample %zu", i);
		}
		inst = json_string_value(json_object_get(metric, "instance"));
		snprintf(out->v[out->n].instance, sizeof(out->v[out->n].instance), "%s",
		    inst ? inst : "");
		out->n++;
	}
	json_decref(root);
	return 0;
}

void prom_result_free(struct prom_result *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

char *prom_instance_host(const char *instance, char *dst, size_t cap)
{
	const char *colon;
	size_t n;

	if (instance[0] == '[') {
		const char *rb = strchr(instance, ']');

		n = rb ? (size_t)(rb - instance - 1) : strlen(instance + 1);
		snprintf(dst, cap, "%.*s", (int)n, instance + 1);
		return dst;
	}
	colon = strrchr(instance, ':');
	n = colon ? (size_t)(colon - instance) : strlen(instance);
	snprintf(dst, cap, "%.*s", (int)n, instance);
	return dst;
}
