/* libFuzzer target: the XML reader. A refused document says where; an
 * accepted one is a tree within the limits, every element named without a
 * prefix and holding text no longer than the input (decoding only shrinks). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks n and its subtree; adds its elements to *count and text to *text. */
static void check(const struct xml_node *n, int depth, size_t *count, size_t *text)
{
	for (; n != NULL; n = n->next) {
		if (depth > XML_MAX_DEPTH || n->name[0] == '\0' || strchr(n->name, ':') != NULL ||
		    n->text == NULL)
			abort();
		*count += 1;
		*text += strlen(n->text);
		if (n->child != NULL && xml_child(n, n->child->name) != n->child)
			abort();
		check(n->child, depth + 1, count, text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = { "" };
	struct xml_node *root = xml_parse((const char *)data, size, &e);
	size_t count = 0, text = 0;

	if (root == NULL) {
		if (strncmp(e.msg, "xml: line ", 10) != 0)
			abort();
		return 0;
	}
	if (root->next != NULL)
		abort();
	check(root, 1, &count, &text);
	if (count > XML_MAX_NODES || text > size)
		abort();
	xml_free(root);
	return 0;
}
