/* common/fileio.h: whole-file reads and atomic replacement. Files others read
 * (file_sd targets, state) are written to a temp file in the same directory,
 * fsynced, then renamed over the target, so a reader sees the old file or
 * the new one, never half of either. */
#ifndef POOLSCALE_FILEIO_H
#define POOLSCALE_FILEIO_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

int file_write_atomic(const char *path, const void *data, size_t len, struct err *e);
/* Appends the file to b (up to b->max; a regular file larger than the room
 * left is refused before reading). -1 with errno kept in e; a missing
 * file is reported with e and *missing set when missing is not NULL. */
int file_read_all(const char *path, struct buf *b, int *missing, struct err *e);
/* Takes an exclusive lock on path (created if needed) without waiting:
 * the fd to keep open while holding it, or -1 (e says who holds it). */
int file_lock(const char *path, struct err *e);
/* mkdir -p with mode 0755. */
int file_mkdirs(const char *path, struct err *e);

#endif
