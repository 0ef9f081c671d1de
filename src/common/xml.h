/* common/xml.h: a small strict XML reader for AWS Query API responses. It
 * parses a whole document held in memory into a tree of elements and their
 * text, and finds values in it by path. Not here: namespaces (a "prefix:" is
 * stripped, xmlns is just an attribute), attributes (checked, then dropped),
 * DTDs (rejected, so no entity expansion), encodings other than UTF-8 (bytes
 * from 0x80 up pass through unchecked), writing XML. */
#ifndef POOLSCALE_XML_H
#define POOLSCALE_XML_H

#include <stddef.h>

#include "common/err.h"

#define XML_MAX_DEPTH 64	/* elements nested deeper fail the parse */
#define XML_MAX_NODES 100000	/* so do documents with more elements */

struct xml_node {
	char *name;	/* local name: any "prefix:" is stripped */
	char *text;	/* the character data directly inside, all runs joined,
			 * references and CDATA decoded, whitespace kept as sent;
			 * never NULL ("" when none) */
	struct xml_node *child, *next;	/* first child, next sibling */
};

/* Parses len bytes of p (not NUL-terminated; never read past len). Returns
 * the root element, which the caller frees with xml_free(), or NULL with e
 * set ("xml: line N: message") on anything not well-formed: mismatched or
 * unclosed tags, a bad reference, text or junk outside the root, a DOCTYPE,
 * truncated input, nesting deeper than XML_MAX_DEPTH, more than
 * XML_MAX_NODES elements. Duplicate attributes are not detected. */
struct xml_node *xml_parse(const char *p, size_t len, struct err *e);
/* Frees root and everything below it; NULL is a no-op. */
void xml_free(struct xml_node *root);

/* The lookups below borrow from the tree: what they return lives until
 * xml_free(). Each accepts n == NULL and then returns NULL, so calls chain. */

/* The first child of n named name, or NULL. */
const struct xml_node *xml_child(const struct xml_node *n, const char *name);
/* The next sibling after n named name, or NULL; with xml_child it walks a
 * list: for (m = xml_child(l, "member"); m; m = xml_next(m, "member")). */
const struct xml_node *xml_next(const struct xml_node *n, const char *name);
/* Follows child names separated by '/', taking the first match at each step,
 * e.g. "DescribeAutoScalingGroupsResult/AutoScalingGroups". "" is n itself.
 * NULL when a step is absent. */
const struct xml_node *xml_path(const struct xml_node *n, const char *path);
/* The text of xml_path(n, path), or NULL when absent. */
const char *xml_text(const struct xml_node *n, const char *path);

#endif
