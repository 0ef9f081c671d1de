#include "promql/range.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql/query.h"

/* [1795420382.41, "0.25"]: a number, then the value as a string. */
static int parse_point(json_t *pair, struct prom_point *out)
{
	const char *s;
	char *end;

	if (!json_is_array(pair) || json_array_size(pair) != 2 ||
	    !json_is_number(json_array_get(pair, 0)) ||
	    (s = json_string_value(json_array_get(pair, 1))) == NULL || *s == '\0')
		return -1;
	out->t_s = json_number_value(json_array_get(pair, 0));
	out->value = strtod(s, &end);
	return *end == '\0' ? 0 : -1;
}

static int parse_series(json_t *it, struct prom_series *s, size_t *budget)
{
	json_t *metric = json_object_get(it, "metric"), *values = json_object_get(it, "values");
	const char *inst;
	json_t *pair;
	size_t i;

	if (!json_is_object(metric) || !json_is_array(values))
		return -1;
	if (json_array_size(values) > *budget)
		return -2;
	*budget -= json_array_size(values);
	inst = json_string_value(json_object_get(metric, "instance"));
	snprintf(s->instance, sizeof(s->instance), "%s", inst ? inst : "");
	s->p = calloc(json_array_size(values) ? json_array_size(values) : 1, sizeof(*s->p));
	if (s->p == NULL)
		return -1;
	json_array_foreach(values, i, pair) {
		if (parse_point(pair, &s->p[s->n]) == -1)
			return -1;
		s->n++;
	}
	return 0;
}

int prom_parse_range(const char *body, size_t len, int status, struct prom_matrix *out,
    struct err *e)
{
	json_t *root, *result, *it;
	const char *type;
	size_t i, budget = PROM_RANGE_MAX_POINTS;

	memset(out, 0, sizeof(*out));
	if (prom_answer_open(body, len, status, (void **)&root, &type, (void **)&result, e) == -1)
		return -1;
	if (strcmp(type, "matrix") != 0) {
		err_set(e, "the query gives a %s, not a range (matrix)", type);
		json_decref(root);	/* type lives in root */
		return -1;
	}
	if (!json_is_array(result) || json_array_size(result) > PROM_RANGE_MAX_POINTS) {
		json_decref(root);
		return err_set(e, "malformed matrix");
	}
	out->s = calloc(json_array_size(result) ? json_array_size(result) : 1, sizeof(*out->s));
	if (out->s == NULL) {
		json_decref(root);
		return err_set(e, "out of memory");
	}
	json_array_foreach(result, i, it) {
		int rc;

		out->n++;
		if ((rc = parse_series(it, &out->s[i], &budget)) != 0) {
			prom_matrix_free(out);
			json_decref(root);
			if (rc == -2)
				return err_set(e, "more than %d points", PROM_RANGE_MAX_POINTS);
			return err_set(e, "malformed series %zu", i);
		}
	}
	json_decref(root);
	return 0;
}

void prom_matrix_free(struct prom_matrix *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->s[i].p);
	free(m->s);
	m->s = NULL;
	m->n = 0;
}
