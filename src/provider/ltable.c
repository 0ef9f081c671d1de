#include "provider/ltable.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ltable_init(struct ltable *t)
{
	memset(t, 0, sizeof(*t));
}

void ltable_fini(struct ltable *t)
{
	free(t->v);
	ltable_init(t);
}

int ltable_add(struct ltable *t, const struct linst *in)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		struct linst *v = realloc(t->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = *in;
	return 0;
}

void ltable_drop(struct ltable *t, size_t i)
{
	t->v[i] = t->v[--t->n];
}

struct linst *ltable_find(struct ltable *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].id, id) == 0)
			return &t->v[i];
	return NULL;
}

void ltable_new_id(struct ltable *t, char *dst, size_t cap)
{
	snprintf(dst, cap, "i-%04llu", (unsigned long long)++t->next_id);
}

uint64_t ltable_id_number(const char *id)
{
	char *end;
	unsigned long long n;

	if (strncmp(id, "i-", 2) != 0 || id[2] < '0' || id[2] > '9')
		return 0;
	n = strtoull(id + 2, &end, 10);
	return *end == '\0' ? (uint64_t)n : 0;
}

int ltable_free_index(const struct ltable *t, int max, const bool *skip, int from)
{
	for (int idx = from < 0 ? 0 : from; idx < max; idx++) {
		bool used = skip != NULL && skip[idx];

		for (size_t i = 0; i < t->n && !used; i++)
			used = t->v[i].index == idx;
		if (!used)
			return idx;
	}
	return -1;
}

char *ltable_format(const struct ltable *t)
{
	json_t *root = json_object(), *arr = json_array();
	char *text;

	if (root == NULL || arr == NULL) {
		json_decref(root);
		json_decref(arr);
		return NULL;
	}
	json_object_set_new(root, "next_id", json_integer((json_int_t)t->next_id));
	for (size_t i = 0; i < t->n; i++) {
		const struct linst *in = &t->v[i];

		json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:I, s:I, s:I, s:b, s:s}",
		    "id", in->id, "index", in->index, "address", in->address,
		    "pid", (json_int_t)in->pid, "start_ticks", (json_int_t)in->start_ticks,
		    "created_unix_s", (json_int_t)in->created_unix_s, "stopping", in->stopping,
		    "cgroup", in->cgroup));
	}
	json_object_set_new(root, "instances", arr);
	text = json_dumps(root, JSON_INDENT(1));
	json_decref(root);
	return text;
}

int ltable_parse(struct ltable *t, const char *text, size_t len, const char *name,
    struct err *e)
{
	json_t *root, *arr, *it, *next;
	json_error_t je;
	size_t i;

	t->n = 0;
	t->next_id = 0;
	root = json_loadb(text, len, 0, &je);
	if (root == NULL)
		return err_set(e, "%s:%d: %s", name, je.line, je.text);
	arr = json_object_get(root, "instances");
	next = json_object_get(root, "next_id");
	if (!json_is_array(arr) || (next != NULL && !json_is_integer(next))) {
		json_decref(root);
		return err_set(e, "%s: no \"instances\" list", name);
	}
	if (json_integer_value(next) > 0)
		t->next_id = (uint64_t)json_integer_value(next);
	json_array_foreach(arr, i, it) {
		struct linst in = { 0 };
		const char *id = NULL, *addr = NULL, *cg = "";
		json_int_t pid = 0, ticks = 0, created = 0;
		int index = 0, stopping = 0;

		je.text[0] = '\0';
		if (json_unpack_ex(it, &je, 0, "{s:s, s:i, s:s, s:I, s:I, s:I, s:b, s?s}",
		    "id", &id, "index", &index, "address", &addr, "pid", &pid,
		    "start_ticks", &ticks, "created_unix_s", &created, "stopping", &stopping,
		    "cgroup", &cg) == -1 || pid < 0 || index < 0 || strlen(id) >= sizeof(in.id) ||
		    strlen(addr) >= sizeof(in.address) || strlen(cg) >= sizeof(in.cgroup)) {
			err_set(e, "%s: instance %zu: %s", name, i,
			    je.text[0] ? je.text : "a value is out of range");
			json_decref(root);
			t->n = 0;
			return -1;
		}
		snprintf(in.id, sizeof(in.id), "%s", id);
		snprintf(in.address, sizeof(in.address), "%s", addr);
		snprintf(in.cgroup, sizeof(in.cgroup), "%s", cg);
		in.index = index;
		in.pid = (pid_t)pid;
		in.start_ticks = (uint64_t)ticks;
		in.created_unix_s = created;
		in.stopping = stopping;
		if (ltable_add(t, &in) == -1) {
			json_decref(root);
			t->n = 0;
			return err_set(e, "out of memory");
		}
		/* An older file without next_id, or one written before its
		 * high-water mark: never hand out an id the table holds. */
		if (ltable_id_number(in.id) > t->next_id)
			t->next_id = ltable_id_number(in.id);
	}
	json_decref(root);
	return 0;
}
