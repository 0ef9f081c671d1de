/* common/buf.h: a growable byte buffer with a hard size limit.
 * The owner calls buf_fini(); appends past `max` fail and leave it unchanged. */
#ifndef POOLSCALE_BUF_H
#define POOLSCALE_BUF_H

#include <stddef.h>

struct buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;	/* appends beyond this many bytes fail */
};

void buf_init(struct buf *b, size_t max);
void buf_fini(struct buf *b);
void buf_reset(struct buf *b);
/* 0 on success, -1 when the result would exceed b->max or memory is out. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t len);
int buf_appends(struct buf *b, const char *s);
int buf_appendf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void buf_consume(struct buf *b, size_t n);

#endif
