#include <stdlib.h>

#include "provider/provider.h"

void member_list_init(struct member_list *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
	l->min_size = l->max_size = -1;
	l->size = -1;
}

void member_list_fini(struct member_list *l)
{
	free(l->v);
	member_list_init(l);
}

int member_list_add(struct member_list *l, const struct member *m)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct member *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *m;
	return 0;
}
