/* The strict XML reader; see xml.h. One pass over the input with an explicit
 * stack of open elements, so nesting costs no C recursion while parsing. */
#include "common/xml.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"

/* An element whose end tag is still to come. */
struct xml_open {
	struct xml_node *node;
	struct xml_node *last;	/* its newest child, where the next one goes */
	const char *qname;	/* its name as written, to match the end tag */
	size_t qlen;
};

struct xml_parser {
	const char *start, *p, *end;
	struct err *e;
	struct xml_node *root;
	size_t nodes;
	int depth;	/* open elements */
	struct xml_open open[XML_MAX_DEPTH];
	struct buf text[XML_MAX_DEPTH];	/* the text of each open element */
};

static int xml_fail(struct xml_parser *ps, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets the error, naming the line of `at` (from 1), and returns -1. */
static int xml_fail(struct xml_parser *ps, const char *at, const char *fmt, ...)
{
	char msg[160];
	size_t line = 1;
	va_list ap;

	for (const char *q = ps->start; q < at; q++)
		line += *q == '\n';
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(ps->e, "xml: line %zu: %s", line, msg);
}

/* How much of a name an error message shows. */
static int xml_shown(size_t len)
{
	return len < 40 ? (int)len : 40;
}

/* Fails with "expected WHAT", saying what is at ps->p instead. */
static int xml_expected(struct xml_parser *ps, const char *what)
{
	unsigned char c;

	if (ps->p == ps->end)
		return xml_fail(ps, ps->p, "unexpected end of input (expected %s)", what);
	c = (unsigned char)*ps->p;
	if (c > 0x20 && c < 0x7f)
		return xml_fail(ps, ps->p, "expected %s, found '%c'", what, c);
	return xml_fail(ps, ps->p, "expected %s, found byte 0x%02x", what, c);
}

static bool xml_at(const struct xml_parser *ps, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, s, n) == 0;
}

static bool xml_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* XML 1.0 allows no control character but tab, newline and return. */
static bool xml_is_control(unsigned char c)
{
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

/* Bytes from 0x80 up are taken as parts of UTF-8 name characters. */
static bool xml_is_name_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' ||
	    c >= 0x80;
}

static bool xml_is_name_char(unsigned char c)
{
	return xml_is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Skips whitespace; true when there was some. */
static bool xml_skip_space(struct xml_parser *ps)
{
	const char *from = ps->p;

	while (ps->p < ps->end && xml_is_space(*ps->p))
		ps->p++;
	return ps->p != from;
}

static int xml_check_chars(struct xml_parser *ps, const char *p, const char *end)
{
	for (; p < end; p++)
		if (xml_is_control((unsigned char)*p))
			return xml_fail(ps, p, "control character 0x%02x", (unsigned char)*p);
	return 0;
}

static int xml_append(struct xml_parser *ps, struct buf *text, const char *p, size_t len)
{
	if (buf_append(text, p, len) == -1)
		return xml_fail(ps, ps->p, "out of memory");
	return 0;
}

/* Reads a name at ps->p. Namespaces allow at most one colon, neither first
 * nor last. */
static int xml_name(struct xml_parser *ps, const char **name, size_t *len)
{
	const char *from = ps->p, *colon = NULL;

	if (ps->p == ps->end || !xml_is_name_start((unsigned char)*ps->p))
		return xml_expected(ps, "a name");
	for (; ps->p < ps->end && xml_is_name_char((unsigned char)*ps->p); ps->p++) {
		if (*ps->p != ':')
			continue;
		if (colon != NULL || ps->p == from)
			return xml_fail(ps, from, "bad name (misplaced colon)");
		colon = ps->p;
	}
	if (ps->p < ps->end && colon == ps->p - 1)
		return xml_fail(ps, from, "bad name %.*s (ends with a colon)",
		    xml_shown((size_t)(ps->p - from)), from);
	*name = from;
	*len = (size_t)(ps->p - from);
	return 0;
}

static size_t xml_utf8(uint32_t v, char out[4])
{
	if (v < 0x80) {
		out[0] = (char)v;
		return 1;
	}
	if (v < 0x800) {
		out[0] = (char)(0xc0 | v >> 6);
		out[1] = (char)(0x80 | (v & 0x3f));
		return 2;
	}
	if (v < 0x10000) {
		out[0] = (char)(0xe0 | v >> 12);
		out[1] = (char)(0x80 | (v >> 6 & 0x3f));
		out[2] = (char)(0x80 | (v & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | v >> 18);
	out[1] = (char)(0x80 | (v >> 12 & 0x3f));
	out[2] = (char)(0x80 | (v >> 6 & 0x3f));
	out[3] = (char)(0x80 | (v & 0x3f));
	return 4;
}

static int xml_digit(char c, bool hex)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (hex && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (hex && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the reference at ps->p ('&'): one of the five predefined entities,
 * &#N; or &#xH;. Writes its UTF-8 bytes to out and their count to *n. */
static int xml_reference(struct xml_parser *ps, char out[4], size_t *n)
{
	static const struct { const char *name; char c; } named[] = {
		{ "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "apos", '\'' }, { "quot", '"' },
	};
	const char *at = ps->p, *q = ps->p + 1, *from;
	uint32_t v = 0;
	bool hex;

	if (q < ps->end && *q == '#') {
		q++;
		hex = q < ps->end && *q == 'x';
		if (hex)
			q++;
		from = q;
		for (int d; q < ps->end && (d = xml_digit(*q, hex)) >= 0; q++)
			if (v <= 0x10ffff)	/* past it stays past it, without overflow */
				v = v * (hex ? 16 : 10) + (uint32_t)d;
		if (q == ps->end)
			return xml_fail(ps, at, "unterminated character reference");
		if (q == from || *q != ';')
			return xml_fail(ps, at, "bad character reference");
		if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) || v == 0xfffe ||
		    v == 0xffff || (v < 0x20 && xml_is_control((unsigned char)v)))
			return xml_fail(ps, at, "&#%s%.*s; is not an XML character", hex ? "x" : "",
			    xml_shown((size_t)(q - from)), from);
		*n = xml_utf8(v, out);
		ps->p = q + 1;
		return 0;
	}
	from = q;
	while (q < ps->end && xml_is_name_char((unsigned char)*q))
		q++;
	if (q == ps->end)
		return xml_fail(ps, at, "unterminated entity reference");
	if (q == from || *q != ';')
		return xml_fail(ps, at, "bad entity reference ('&' must be written &amp;)");
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (strlen(named[i].name) == (size_t)(q - from) &&
		    memcmp(named[i].name, from, (size_t)(q - from)) == 0) {
			out[0] = named[i].c;
			*n = 1;
			ps->p = q + 1;
			return 0;
		}
	}
	return xml_fail(ps, at, "unknown entity &%.*s;", xml_shown((size_t)(q - from)), from);
}

/* Reads name="value" or name='value' and drops it: only its form counts. */
static int xml_attribute(struct xml_parser *ps)
{
	const char *name;
	size_t len, n;
	char quote, out[4];

	if (xml_name(ps, &name, &len) == -1)
		return -1;
	xml_skip_space(ps);
	if (ps->p == ps->end || *ps->p != '=')
		return xml_expected(ps, "'=' after an attribute name");
	ps->p++;
	xml_skip_space(ps);
	if (ps->p == ps->end || (*ps->p != '"' && *ps->p != '\''))
		return xml_expected(ps, "a quoted attribute value");
	quote = *ps->p++;
	while (ps->p < ps->end && *ps->p != quote) {
		if (*ps->p == '<')
			return xml_fail(ps, ps->p, "'<' in an attribute value");
		if (*ps->p == '&') {
			if (xml_reference(ps, out, &n) == -1)
				return -1;
			continue;
		}
		if (xml_is_control((unsigned char)*ps->p))
			return xml_fail(ps, ps->p, "control character 0x%02x",
			    (unsigned char)*ps->p);
		ps->p++;
	}
	if (ps->p == ps->end)
		return xml_fail(ps, ps->p, "unexpected end of input in an attribute value");
	ps->p++;
	return 0;
}

/* Skips <!-- ... -->; "--" may only come right before the closing '>'. */
static int xml_comment(struct xml_parser *ps)
{
	const char *at = ps->p, *q;

	ps->p += 4;
	q = memmem(ps->p, (size_t)(ps->end - ps->p), "--", 2);
	if (q == NULL || q + 2 == ps->end)
		return xml_fail(ps, at, "unterminated comment");
	if (q[2] != '>')
		return xml_fail(ps, q, "'--' inside a comment");
	if (xml_check_chars(ps, ps->p, q) == -1)
		return -1;
	ps->p = q + 3;
	return 0;
}

/* Skips a processing instruction, <?target ...?>. The XML declaration is one
 * whose target is "xml", allowed only as the first thing in the document. */
static int xml_pi(struct xml_parser *ps, bool first)
{
	const char *at = ps->p, *target, *q;
	size_t len;

	ps->p += 2;
	if (xml_name(ps, &target, &len) == -1)
		return -1;
	if (!first && len == 3 && strncasecmp(target, "xml", 3) == 0)
		return xml_fail(ps, at, "XML declaration not at the start of the document");
	q = memmem(ps->p, (size_t)(ps->end - ps->p), "?>", 2);
	if (q == NULL)
		return xml_fail(ps, at, "unterminated processing instruction");
	if (q != ps->p && !xml_is_space(*ps->p))
		return xml_expected(ps, "whitespace after the processing instruction's name");
	if (xml_check_chars(ps, ps->p, q) == -1)
		return -1;
	ps->p = q + 2;
	return 0;
}

/* Appends the content of <![CDATA[ ... ]]> to text, as it is. */
static int xml_cdata(struct xml_parser *ps, struct buf *text)
{
	const char *at = ps->p, *from = ps->p + 9, *q;

	q = memmem(from, (size_t)(ps->end - from), "]]>", 3);
	if (q == NULL)
		return xml_fail(ps, at, "unterminated CDATA section");
	if (xml_check_chars(ps, from, q) == -1)
		return -1;
	if (xml_append(ps, text, from, (size_t)(q - from)) == -1)
		return -1;
	ps->p = q + 3;
	return 0;
}

/* Character data up to the next '<' or '&'. */
static int xml_chars(struct xml_parser *ps, struct buf *text)
{
	const char *from = ps->p;

	for (; ps->p < ps->end && *ps->p != '<' && *ps->p != '&'; ps->p++) {
		unsigned char c = (unsigned char)*ps->p;

		if (xml_is_control(c))
			return xml_fail(ps, ps->p, "control character 0x%02x", c);
		if (c == '>' && ps->p - from >= 2 && ps->p[-1] == ']' && ps->p[-2] == ']')
			return xml_fail(ps, ps->p - 2, "']]>' outside a CDATA section");
	}
	return xml_append(ps, text, from, (size_t)(ps->p - from));
}

static int xml_doctype(struct xml_parser *ps)
{
	return xml_fail(ps, ps->p, "DOCTYPE is not allowed (no DTDs, no entity declarations)");
}

/* A node holding its local name in the same allocation; text comes later. */
static struct xml_node *xml_node_new(const char *qname, size_t qlen)
{
	const char *colon = memchr(qname, ':', qlen);
	const char *local = colon != NULL ? colon + 1 : qname;
	size_t len = qlen - (size_t)(local - qname);
	struct xml_node *n = malloc(sizeof(*n) + len + 1);

	if (n == NULL)
		return NULL;
	n->name = (char *)(n + 1);
	memcpy(n->name, local, len);
	n->name[len] = '\0';
	n->text = NULL;
	n->child = NULL;
	n->next = NULL;
	return n;
}

static int xml_set_text(struct xml_parser *ps, struct xml_node *n, const struct buf *text)
{
	n->text = malloc(text->len + 1);
	if (n->text == NULL)
		return xml_fail(ps, ps->p, "out of memory");
	if (text->len > 0)
		memcpy(n->text, text->p, text->len);
	n->text[text->len] = '\0';
	return 0;
}

/* Reads <name attr="v" ...> or <name .../>, links the new element under the
 * innermost open one and, unless it closed itself, opens it. */
static int xml_start_tag(struct xml_parser *ps)
{
	const char *at = ps->p, *qname;
	struct xml_node *n;
	bool space, empty = false;
	size_t qlen;

	ps->p++;
	if (xml_name(ps, &qname, &qlen) == -1)
		return -1;
	if (ps->depth == XML_MAX_DEPTH)
		return xml_fail(ps, at, "elements nested deeper than %d", XML_MAX_DEPTH);
	if (ps->nodes == XML_MAX_NODES)
		return xml_fail(ps, at, "more than %d elements", XML_MAX_NODES);
	for (;;) {
		space = xml_skip_space(ps);
		if (ps->p == ps->end)
			return xml_fail(ps, ps->p, "unexpected end of input in <%.*s>",
			    xml_shown(qlen), qname);
		if (*ps->p == '>') {
			ps->p++;
			break;
		}
		if (xml_at(ps, "/>")) {
			ps->p += 2;
			empty = true;
			break;
		}
		if (*ps->p == '/') {
			ps->p++;
			return xml_expected(ps, "'>' after '/'");
		}
		if (!space)
			return xml_expected(ps, "whitespace, '>' or '/>'");
		if (xml_attribute(ps) == -1)
			return -1;
	}
	n = xml_node_new(qname, qlen);
	if (n == NULL)
		return xml_fail(ps, at, "out of memory");
	ps->nodes++;
	if (ps->depth == 0) {
		ps->root = n;
	} else {
		struct xml_open *parent = &ps->open[ps->depth - 1];

		if (parent->last == NULL)
			parent->node->child = n;
		else
			parent->last->next = n;
		parent->last = n;
	}
	if (empty) {
		struct buf none = { NULL, 0, 0, 0 };

		return xml_set_text(ps, n, &none);
	}
	ps->open[ps->depth] = (struct xml_open){ n, NULL, qname, qlen };
	buf_reset(&ps->text[ps->depth]);
	ps->depth++;
	return 0;
}

/* Reads </name>, which must close the innermost open element. */
static int xml_end_tag(struct xml_parser *ps)
{
	struct xml_open *top = &ps->open[ps->depth - 1];
	const char *at = ps->p, *name;
	size_t len;

	ps->p += 2;
	if (xml_name(ps, &name, &len) == -1)
		return -1;
	if (ps->p == ps->end)
		return xml_fail(ps, ps->p, "unexpected end of input in </%.*s>",
		    xml_shown(len), name);
	if (len != top->qlen || memcmp(name, top->qname, len) != 0)
		return xml_fail(ps, at, "</%.*s> does not close <%.*s>", xml_shown(len), name,
		    xml_shown(top->qlen), top->qname);
	xml_skip_space(ps);
	if (ps->p == ps->end || *ps->p != '>')
		return xml_expected(ps, "'>' to end the end tag");
	ps->p++;
	if (xml_set_text(ps, top->node, &ps->text[ps->depth - 1]) == -1)
		return -1;
	ps->depth--;
	return 0;
}

/* Reads one piece of the innermost open element's content: character data,
 * a reference, CDATA, a comment, a processing instruction, a child's start
 * tag or the element's own end tag. */
static int xml_content(struct xml_parser *ps)
{
	const struct xml_open *top = &ps->open[ps->depth - 1];
	struct buf *text = &ps->text[ps->depth - 1];
	char out[4];
	size_t n;

	if (ps->p == ps->end)
		return xml_fail(ps, ps->p, "unexpected end of input: <%.*s> is not closed",
		    xml_shown(top->qlen), top->qname);
	if (*ps->p == '&') {
		if (xml_reference(ps, out, &n) == -1)
			return -1;
		return xml_append(ps, text, out, n);
	}
	if (*ps->p != '<')
		return xml_chars(ps, text);
	if (xml_at(ps, "</"))
		return xml_end_tag(ps);
	if (xml_at(ps, "<!--"))
		return xml_comment(ps);
	if (xml_at(ps, "<![CDATA["))
		return xml_cdata(ps, text);
	if (xml_at(ps, "<?"))
		return xml_pi(ps, false);
	if (xml_at(ps, "<!DOCTYPE"))
		return xml_doctype(ps);
	if (xml_at(ps, "<!"))
		return xml_fail(ps, ps->p, "unexpected '<!'");
	return xml_start_tag(ps);
}

/* Skips whitespace, comments and processing instructions, which is all that
 * may stand before and after the root element. */
static int xml_misc(struct xml_parser *ps)
{
	for (;;) {
		xml_skip_space(ps);
		if (xml_at(ps, "<!--")) {
			if (xml_comment(ps) == -1)
				return -1;
		} else if (xml_at(ps, "<?")) {
			if (xml_pi(ps, false) == -1)
				return -1;
		} else {
			return 0;
		}
	}
}

static int xml_root(struct xml_parser *ps)
{
	if (ps->p == ps->end)
		return xml_fail(ps, ps->p, "no root element");
	if (xml_at(ps, "<!DOCTYPE"))
		return xml_doctype(ps);
	if (*ps->p != '<')
		return xml_fail(ps, ps->p, "text before the root element");
	if (xml_at(ps, "<!"))
		return xml_fail(ps, ps->p, "unexpected '<!' before the root element");
	if (xml_start_tag(ps) == -1)
		return -1;
	while (ps->depth > 0)
		if (xml_content(ps) == -1)
			return -1;
	return 0;
}

struct xml_node *xml_parse(const char *p, size_t len, struct err *e)
{
	struct xml_parser ps = { 0 };
	int rc = 0;

	if (len == 0) {
		err_set(e, "xml: line 1: no root element");
		return NULL;
	}
	ps.start = p;
	ps.p = p;
	ps.end = p + len;
	ps.e = e;
	for (int i = 0; i < XML_MAX_DEPTH; i++)
		buf_init(&ps.text[i], len);	/* decoding never makes text longer */
	if (xml_at(&ps, "\xef\xbb\xbf"))	/* a UTF-8 byte order mark */
		ps.p += 3;
	if (xml_at(&ps, "<?"))
		rc = xml_pi(&ps, true);
	if (rc == 0)
		rc = xml_misc(&ps);
	if (rc == 0)
		rc = xml_root(&ps);
	if (rc == 0)
		rc = xml_misc(&ps);
	if (rc == 0 && ps.p != ps.end)
		rc = xml_fail(&ps, ps.p, "junk after the root element");
	for (int i = 0; i < XML_MAX_DEPTH; i++)
		buf_fini(&ps.text[i]);
	if (rc == -1) {
		xml_free(ps.root);
		return NULL;
	}
	return ps.root;
}

/* Recurses only into children, so the C stack holds at most XML_MAX_DEPTH
 * frames; siblings are a loop. */
void xml_free(struct xml_node *root)
{
	while (root != NULL) {
		struct xml_node *next = root->next;

		xml_free(root->child);
		free(root->text);
		free(root);
		root = next;
	}
}

const struct xml_node *xml_child(const struct xml_node *n, const char *name)
{
	if (n == NULL)
		return NULL;
	for (const struct xml_node *c = n->child; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct xml_node *xml_next(const struct xml_node *n, const char *name)
{
	if (n == NULL)
		return NULL;
	for (n = n->next; n != NULL; n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

const struct xml_node *xml_path(const struct xml_node *n, const char *path)
{
	while (n != NULL && *path != '\0') {
		size_t len = strcspn(path, "/");
		const struct xml_node *c;

		for (c = n->child; c != NULL; c = c->next)
			if (strncmp(c->name, path, len) == 0 && c->name[len] == '\0')
				break;
		n = c;
		path += len;
		if (*path == '/')
			path++;
	}
	return n;
}

const char *xml_text(const struct xml_node *n, const char *path)
{
	n = xml_path(n, path);
	return n != NULL ? n->text : NULL;
}
