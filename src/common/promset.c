#include "common/promset.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/prom.h"

/* A family's text; a page has a few dozen, so a linear search is enough. */
struct prom_fam {
	char name[96];
	struct buf text;	/* HELP, TYPE, then its samples */
};

struct prom_set {
	struct prom_fam *f;
	size_t n, cap;
	size_t cur;		/* the family samples go to; n: none yet */
	char labels[256];
	bool failed;		/* memory ran out or a name was too long */
};

#define PROM_SET_FAMILY_MAX_BYTES (16u << 20)

struct prom_set *prom_set_new(void)
{
	return calloc(1, sizeof(struct prom_set));
}

void prom_set_free(struct prom_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		buf_fini(&s->f[i].text);
	free(s->f);
	free(s);
}

void prom_set_labels(struct prom_set *s, const char *labels)
{
	if (snprintf(s->labels, sizeof(s->labels), "%s", labels ? labels : "") >=
	    (int)sizeof(s->labels))
		s->failed = true;
}

void prom_set_header(struct prom_set *s, const char *name, const char *type, const char *help)
{
	struct prom_fam *f;

	for (s->cur = 0; s->cur < s->n; s->cur++)
		if (strcmp(s->f[s->cur].name, name) == 0)
			return;
	if (strlen(name) >= sizeof(f->name)) {
		s->failed = true;
		return;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;

		f = realloc(s->f, cap * sizeof(*f));
		if (f == NULL) {
			s->failed = true;
			return;
		}
		s->f = f;
		s->cap = cap;
	}
	f = &s->f[s->n];
	snprintf(f->name, sizeof(f->name), "%s", name);
	buf_init(&f->text, PROM_SET_FAMILY_MAX_BYTES);
	prom_header(&f->text, name, type, help);
	s->cur = s->n++;
}

/* The source's labels, then the sample's, into dst. */
static const char *join(const struct prom_set *s, const char *labels, char *dst, size_t cap)
{
	bool own = labels && *labels;

	if (!s->labels[0])
		return labels;
	snprintf(dst, cap, "%s%s%s", s->labels, own ? "," : "", own ? labels : "");
	return dst;
}

static struct buf *current(struct prom_set *s)
{
	if (s->cur >= s->n) {
		s->failed = true;	/* a sample before any header: our bug */
		return NULL;
	}
	return &s->f[s->cur].text;
}

void prom_set_sample(struct prom_set *s, const char *name, const char *labels, double v)
{
	struct buf *b = current(s);
	char all[512];

	if (b != NULL)
		prom_sample(b, name, join(s, labels, all, sizeof(all)), v);
}

void prom_set_sample_u64(struct prom_set *s, const char *name, const char *labels, uint64_t v)
{
	struct buf *b = current(s);
	char all[512];

	if (b != NULL)
		prom_sample_u64(b, name, join(s, labels, all, sizeof(all)), v);
}

int prom_set_write(const struct prom_set *s, struct buf *out)
{
	size_t len = out->len;

	if (s->failed)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		if (buf_append(out, s->f[i].text.p, s->f[i].text.len) == -1) {
			out->len = len;
			return -1;
		}
	}
	return 0;
}
