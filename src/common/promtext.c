/* common/promtext.c: see promtext.h. */
#include "common/promtext.h"

#include <stdlib.h>
#include <string.h>

bool prom_name_ok(const char *name)
{
	if (name == NULL || name[0] == '\0' || (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		char ch = *p;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == ':'))
			return false;
	}
	return true;
}

/* Past a label set starting at p ('{'), within [p, end): the byte after
 * its '}', or NULL. A '}' inside a quoted value does not end it. */
static const char *skip_labels(const char *p, const char *end)
{
	bool quoted = false;

	for (p++; p < end; p++) {
		if (quoted && *p == '\\')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '}')
			return p + 1;
	}
	return NULL;
}

/* Blanks between a sample's parts; '\r' of a CRLF page as well. */
static bool blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* The value of one sample line [p, end) after its name and labels. */
static bool sample_value(const char *p, const char *end, double *v)
{
	char num[64];
	size_t n;
	char *stop;

	while (p < end && blank(*p))
		p++;
	for (n = 0; p + n < end && !blank(p[n]); n++)
		;
	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, p, n);
	num[n] = '\0';
	*v = strtod(num, &stop);
	return *stop == '\0';
}

int prom_text_sum(const char *page, size_t len, const char *name, double *sum)
{
	size_t nl = strlen(name);
	const char *p = page, *end = page + len;
	int count = 0;

	*sum = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol != NULL ? eol : end, *q = p + nl;
		double v;

		if ((size_t)(le - p) > nl && memcmp(p, name, nl) == 0 && (blank(*q) || *q == '{')) {
			if (*q == '{' && (q = skip_labels(q, le)) == NULL)
				return -1;
			if (!sample_value(q, le, &v))
				return -1;
			*sum += v;
			count++;
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return count;
}
