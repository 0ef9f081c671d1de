#include "common/yamlcfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/parse.h"

#define YCFG_ERRORS_MAX (64 * 1024)

static void load_parser(struct ycfg *c, yaml_parser_t *p)
{
	if (!yaml_parser_load(p, &c->doc)) {
		/* libyaml counts lines from 0. */
		c->nerrors++;
		buf_appendf(&c->errors, "%s:%zu: %s%s%s\n", c->file, p->problem_mark.line + 1,
		    p->problem ? p->problem : "invalid YAML",
		    p->context ? " " : "", p->context ? p->context : "");
		return;
	}
	c->loaded = true;
}

static void init(struct ycfg *c, const char *file)
{
	memset(c, 0, sizeof(*c));
	c->file = file;
	buf_init(&c->errors, YCFG_ERRORS_MAX);
}

void ycfg_load(struct ycfg *c, const char *file)
{
	yaml_parser_t p;
	FILE *f;

	init(c, file);
	f = fopen(file, "re");
	if (f == NULL) {
		c->nerrors++;
		buf_appendf(&c->errors, "%s: %s\n", file, strerror(errno));
		return;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	load_parser(c, &p);
	yaml_parser_delete(&p);
	fclose(f);
}

void ycfg_load_string(struct ycfg *c, const char *name, const char *text)
{
	yaml_parser_t p;

	init(c, name);
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	load_parser(c, &p);
	yaml_parser_delete(&p);
}

void ycfg_fini(struct ycfg *c)
{
	if (c->loaded)
		yaml_document_delete(&c->doc);
	c->loaded = false;
	buf_fini(&c->errors);
}

yaml_node_t *ycfg_root(struct ycfg *c)
{
	return c->loaded ? yaml_document_get_root_node(&c->doc) : NULL;
}

void ycfg_error(struct ycfg *c, const yaml_node_t *node, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->nerrors++;
	buf_appendf(&c->errors, "%s:%zu: %s\n", c->file, node ? node->start_mark.line + 1 : 1, msg);
}

bool ymap_init(struct ymap *m, struct ycfg *c, yaml_node_t *node, const char *path)
{
	memset(m, 0, sizeof(*m));
	m->c = c;
	snprintf(m->path, sizeof(m->path), "%s", path);
	if (node == NULL)
		return true;
	if (node->type == YAML_SCALAR_NODE && node->data.scalar.length == 0)
		return true;	/* "key:" with nothing: the defaults */
	if (node->type != YAML_MAPPING_NODE) {
		ycfg_error(c, node, "%s: expected a mapping of keys", *path ? path : "top level");
		return false;
	}
	m->node = node;
	if (node->data.mapping.pairs.top - node->data.mapping.pairs.start > YMAP_MAX_KEYS) {
		ycfg_error(c, node, "%s: too many keys", *path ? path : "top level");
		m->node = NULL;
		return false;
	}
	return true;
}

const char *ymap_key_path(const struct ymap *m, const char *key, char *dst, size_t cap)
{
	snprintf(dst, cap, "%s%s%s", m->path, *m->path ? "." : "", key);
	return dst;
}

yaml_node_t *ymap_get(struct ymap *m, const char *key)
{
	yaml_node_pair_t *pair;
	size_t i = 0;

	if (m->node == NULL)
		return NULL;
	for (pair = m->node->data.mapping.pairs.start; pair < m->node->data.mapping.pairs.top;
	    pair++, i++) {
		yaml_node_t *k = yaml_document_get_node(&m->c->doc, pair->key);

		if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0) {
			m->used[i] = true;
			return yaml_document_get_node(&m->c->doc, pair->value);
		}
	}
	return NULL;
}

void ymap_done(struct ymap *m)
{
	yaml_node_pair_t *pair;
	size_t i = 0;

	if (m->node == NULL)
		return;
	for (pair = m->node->data.mapping.pairs.start; pair < m->node->data.mapping.pairs.top;
	    pair++, i++) {
		yaml_node_t *k = yaml_document_get_node(&m->c->doc, pair->key);
		char path[192];

		if (m->used[i])
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			ycfg_error(m->c, k, "%s: keys must be plain words",
			    *m->path ? m->path : "top level");
			continue;
		}
		ycfg_error(m->c, k, "%s: unknown key",
		    ymap_key_path(m, (char *)k->data.scalar.value, path, sizeof(path)));
	}
}

const char *ycfg_scalar(struct ycfg *c, yaml_node_t *node, const char *what)
{
	if (node->type != YAML_SCALAR_NODE) {
		ycfg_error(c, node, "%s: expected a single value", what);
		return NULL;
	}
	return (const char *)node->data.scalar.value;
}

/* A key's scalar, with what an error message needs. */
struct scalar {
	yaml_node_t *node;
	char path[192];
	const char *s;
	bool ok;		/* false: present but not a scalar (error recorded) */
};

/* true when key holds a scalar; false when absent (sc->ok) or not a scalar. */
static bool scalar_get(struct ymap *m, const char *key, struct scalar *sc)
{
	sc->node = ymap_get(m, key);
	sc->ok = true;
	sc->s = NULL;
	if (sc->node == NULL)
		return false;
	ymap_key_path(m, key, sc->path, sizeof(sc->path));
	if (sc->node->type != YAML_SCALAR_NODE) {
		ycfg_error(m->c, sc->node, "%s: expected a single value", sc->path);
		sc->ok = false;
		return false;
	}
	sc->s = (const char *)sc->node->data.scalar.value;
	return true;
}

/* Records a parser's error at the scalar's line. */
static bool parsed(struct ymap *m, const struct scalar *sc, int rc, const struct err *e)
{
	if (rc == -1) {
		ycfg_error(m->c, sc->node, "%s: %s", sc->path, e->msg);
		return false;
	}
	return true;
}

bool ycfg_int(struct ymap *m, const char *key, int64_t min, int64_t max, int64_t *out)
{
	struct scalar sc;
	struct err e;

	if (!scalar_get(m, key, &sc))
		return sc.ok;
	return parsed(m, &sc, parse_int64(sc.s, min, max, out, &e), &e);
}

bool ycfg_double(struct ymap *m, const char *key, double min, double max, double *out)
{
	struct scalar sc;
	struct err e;

	if (!scalar_get(m, key, &sc))
		return sc.ok;
	return parsed(m, &sc, parse_double(sc.s, min, max, out, &e), &e);
}

bool ycfg_duration(struct ymap *m, const char *key, int64_t min_ms, int64_t max_ms,
    int64_t *out_ms)
{
	struct scalar sc;
	struct err e;

	if (!scalar_get(m, key, &sc))
		return sc.ok;
	return parsed(m, &sc, parse_duration_ms(sc.s, min_ms, max_ms, out_ms, &e), &e);
}

bool ycfg_bool(struct ymap *m, const char *key, bool *out)
{
	struct scalar sc;

	if (!scalar_get(m, key, &sc))
		return sc.ok;
	if (strcmp(sc.s, "true") == 0 || strcmp(sc.s, "yes") == 0) {
		*out = true;
	} else if (strcmp(sc.s, "false") == 0 || strcmp(sc.s, "no") == 0) {
		*out = false;
	} else {
		ycfg_error(m->c, sc.node, "%s: \"%s\" is not true or false", sc.path, sc.s);
		return false;
	}
	return true;
}

bool ycfg_string(struct ymap *m, const char *key, char *dst, size_t cap)
{
	struct scalar sc;

	if (!scalar_get(m, key, &sc))
		return sc.ok;
	if (strlen(sc.s) >= cap) {
		ycfg_error(m->c, sc.node, "%s: longer than %zu characters", sc.path, cap - 1);
		return false;
	}
	snprintf(dst, cap, "%s", sc.s);
	return true;
}
