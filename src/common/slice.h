/* common/slice.h: a borrowed view into a buffer someone else owns. It lives
 * as long as that buffer is not moved or freed; copy what must outlive it. */
#ifndef POOLSCALE_SLICE_H
#define POOLSCALE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct slice {
	const char *p;
	size_t len;
};

static inline bool slice_eq(struct slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && memcmp(s.p, lit, n) == 0;
}

static inline bool slice_eq_nocase(struct slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

#endif
