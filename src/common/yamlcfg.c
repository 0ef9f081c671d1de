#include "common/yamlcfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/parse.h"

#define YCFG_ERRORS_MAX (64 * 1024)

static void error_at(struct ycfg *c, size_t line0, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Records "file:line: scope.message"; line0 counts from 0, as libyaml does. */
static void error_at(struct ycfg *c, size_t line0, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	c->nerrors++;
	buf_appendf(&c->errors, "%s:%zu: %s%s%s\n", c->file, line0 + 1, c->scope,
	    c->scope[0] ? "." : "", msg);
}

void ycfg_scope(struct ycfg *c, const char *scope)
{
	snprintf(c->scope, sizeof(c->scope), "%s", scope ? scope : "");
}

/* "PATH: what" about a mapping itself; the top level's PATH is the scope
 * when there is one ("pools[2]: expected a mapping of keys"). */
static void map_error(struct ycfg *c, const yaml_node_t *node, const char *path,
    const char *what)
{
	char scope[sizeof(c->scope)];

	if (*path || !c->scope[0]) {
		ycfg_error(c, node, "%s: %s", *path ? path : "top level", what);
		return;
	}
	memcpy(scope, c->scope, sizeof(scope));
	c->scope[0] = '\0';
	ycfg_error(c, node, "%s: %s", scope, what);
	memcpy(c->scope, scope, sizeof(scope));
}

static void mark_error(struct ycfg *c, yaml_mark_t mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void mark_error(struct ycfg *c, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_at(c, mark.line, fmt, ap);
	va_end(ap);
}

static void syntax_error(struct ycfg *c, const yaml_parser_t *p)
{
	mark_error(c, p->problem_mark, "%s%s%s", p->problem ? p->problem : "invalid YAML",
	    p->context ? " " : "", p->context ? p->context : "");
}

static bool has_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT: return ev->data.scalar.anchor != NULL;
	case YAML_SEQUENCE_START_EVENT: return ev->data.sequence_start.anchor != NULL;
	case YAML_MAPPING_START_EVENT: return ev->data.mapping_start.anchor != NULL;
	default: return false;
	}
}

/* One pass over the parser's events before the document is built, because
 * libyaml's loader takes time quadratic in the nesting depth (100 KB of "["
 * took 12 s) and silently drops every document after the first. Events come
 * as the scanner reads, so the depth cap stops such input at once. true
 * when text holds one document nested at most YCFG_DEPTH_MAX deep. */
static bool precheck(struct ycfg *c, const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0, anchors = 0, aliases = 0;
	bool ok = true, end = false;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (ok && !end) {
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_error(c, &p);
			break;
		}
		switch (ev.type) {
		case YAML_ALIAS_EVENT:
			/* libyaml finds each alias's anchor by a walk over all
			 * of them (quadratic: 40,000 took 4 s), and a reader
			 * that follows aliases to aliases goes exponential. */
			if (++aliases > YCFG_ALIASES_MAX) {
				mark_error(c, ev.start_mark, "more than %d aliases (*name)",
				    YCFG_ALIASES_MAX);
				ok = false;
			}
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				mark_error(c, ev.start_mark, "a second YAML document (\"---\"): "
				    "a config file holds one");
				ok = false;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (has_anchor(&ev) && ++anchors > YCFG_ANCHORS_MAX) {
				mark_error(c, ev.start_mark, "more than %d anchors (&name)",
				    YCFG_ANCHORS_MAX);
				ok = false;
				break;
			}
			if (++depth > YCFG_DEPTH_MAX) {
				mark_error(c, ev.start_mark, "nested deeper than %d levels",
				    YCFG_DEPTH_MAX);
				ok = false;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT:
			if (has_anchor(&ev) && ++anchors > YCFG_ANCHORS_MAX) {
				mark_error(c, ev.start_mark, "more than %d anchors (&name)",
				    YCFG_ANCHORS_MAX);
				ok = false;
			}
			break;
		case YAML_STREAM_END_EVENT:
			end = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return ok && end;
}

static void load_text(struct ycfg *c, const char *text, size_t len)
{
	yaml_parser_t p;

	if (!precheck(c, text, len))
		return;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (yaml_parser_load(&p, &c->doc))
		c->loaded = true;
	else
		syntax_error(c, &p);
	yaml_parser_delete(&p);
}

static void init(struct ycfg *c, const char *file)
{
	memset(c, 0, sizeof(*c));
	c->file = file;
	buf_init(&c->errors, YCFG_ERRORS_MAX);
}

void ycfg_load(struct ycfg *c, const char *file)
{
	struct buf text;
	struct err e;

	init(c, file);
	buf_init(&text, YCFG_FILE_MAX_BYTES);
	if (file_read_all(file, &text, NULL, &e) == -1) {
		c->nerrors++;
		buf_appendf(&c->errors, "%s\n", e.msg);
	} else {
		load_text(c, text.p != NULL ? text.p : "", text.len);
	}
	buf_fini(&text);
}

void ycfg_load_string(struct ycfg *c, const char *name, const char *text)
{
	init(c, name);
	load_text(c, text, strlen(text));
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
	va_list ap;

	va_start(ap, fmt);
	error_at(c, node ? node->start_mark.line : 0, fmt, ap);
	va_end(ap);
}

static const char *key_text(struct ycfg *c, const yaml_node_pair_t *pair, yaml_node_t **k)
{
	*k = yaml_document_get_node(&c->doc, pair->key);
	return (*k)->type == YAML_SCALAR_NODE ? (const char *)(*k)->data.scalar.value : NULL;
}

/* libyaml keeps both pairs of a repeated key; ymap_get() would take the
 * first and ymap_done() call the second unknown. Each repeat is reported
 * here, once, and marked used. Quadratic in the keys, at most
 * YMAP_MAX_KEYS. */
static void report_duplicates(struct ymap *m)
{
	yaml_node_pair_t *start = m->node->data.mapping.pairs.start;
	size_t n = (size_t)(m->node->data.mapping.pairs.top - start);

	for (size_t i = 1; i < n; i++) {
		yaml_node_t *ki, *kj;
		const char *a = key_text(m->c, &start[i], &ki);

		for (size_t j = 0; a != NULL && j < i; j++) {
			const char *b = key_text(m->c, &start[j], &kj);
			char path[192];

			if (b == NULL || strcmp(a, b) != 0)
				continue;
			ycfg_error(m->c, ki, "%s: duplicate key (first at line %zu)",
			    ymap_key_path(m, a, path, sizeof(path)), kj->start_mark.line + 1);
			m->used[i] = true;
			break;
		}
	}
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
		map_error(c, node, path, "expected a mapping of keys");
		return false;
	}
	m->node = node;
	if (node->data.mapping.pairs.top - node->data.mapping.pairs.start > YMAP_MAX_KEYS) {
		map_error(c, node, path, "too many keys");
		m->node = NULL;
		return false;
	}
	report_duplicates(m);
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
			map_error(m->c, k, m->path, "keys must be plain words");
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
