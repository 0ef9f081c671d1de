#include "lb/targets.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/net.h"

#define LB_TARGETS_MAX 4096

int lb_targets_parse(const char *text, size_t len, struct lb_targets *out, struct err *e)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, 0, &je), *g, *t;
	size_t i, j;

	out->addr = NULL;
	out->n = 0;
	if (root == NULL)
		return err_set(e, "line %d: %s", je.line, je.text);
	if (!json_is_array(root)) {
		json_decref(root);
		return err_set(e, "expected a list of target groups");
	}
	out->addr = calloc(LB_TARGETS_MAX, sizeof(*out->addr));
	if (out->addr == NULL) {
		json_decref(root);
		return err_set(e, "out of memory");
	}
	json_array_foreach(root, i, g) {
		json_t *targets = json_object_get(g, "targets");

		if (!json_is_object(g) || !json_is_array(targets)) {
			err_set(e, "group %zu has no \"targets\" list", i);
			goto bad;
		}
		json_array_foreach(targets, j, t) {
			const char *a = json_string_value(t);
			struct net_addr na;
			struct err ae;
			bool dup = false;

			if (a == NULL || strlen(a) >= LB_ADDR_MAX || net_addr_parse(a, &na, &ae) == -1) {
				err_set(e, "group %zu target %zu: %s", i, j,
				    a ? (strlen(a) >= LB_ADDR_MAX ? "too long" : ae.msg) : "not a string");
				goto bad;
			}
			for (size_t k = 0; k < out->n && !dup; k++)
				dup = strcmp(out->addr[k], a) == 0;
			if (dup)
				continue;
			if (out->n == LB_TARGETS_MAX) {
				err_set(e, "more than %d targets", LB_TARGETS_MAX);
				goto bad;
			}
			snprintf(out->addr[out->n++], LB_ADDR_MAX, "%s", a);
		}
	}
	json_decref(root);
	return 0;
bad:
	json_decref(root);
	lb_targets_free(out);
	return -1;
}

void lb_targets_free(struct lb_targets *t)
{
	free(t->addr);
	t->addr = NULL;
	t->n = 0;
}
