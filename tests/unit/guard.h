/* tests/unit/guard.h: puts test input right before a PROT_NONE page, so a
 * parser reading one byte past the end faults even without ASan (as
 * picohttpparser's tests do). */
#ifndef POOLSCALE_TEST_GUARD_H
#define POOLSCALE_TEST_GUARD_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guarded {
	char *base;
	size_t maplen;
	char *p;	/* the copy; p[len] is unreadable */
};

static inline char *guard_copy(struct guarded *g, const char *src, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (len + page - 1) / page + 1;

	g->maplen = (pages + 0) * page;
	g->base = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (g->base == MAP_FAILED)
		abort();
	if (mprotect(g->base + g->maplen - page, page, PROT_NONE) != 0)
		abort();
	g->p = g->base + g->maplen - page - len;
	memcpy(g->p, src, len);
	return g->p;
}

static inline void guard_free(struct guarded *g)
{
	munmap(g->base, g->maplen);
}

#endif
