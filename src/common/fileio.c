#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, struct err *e)
{
	char tmp[4096], dir[4096];
	int fd, dfd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return err_set(e, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return err_set(e, "open %s: %s", tmp, strerror(errno));
	if (write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		err_set(e, "write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		err_set(e, "rename %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	/* Make the rename itself durable. */
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

int file_read_all(const char *path, struct buf *b, int *missing, struct err *e)
{
	char chunk[8192];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (missing)
		*missing = fd == -1 && errno == ENOENT;
	if (fd == -1)
		return err_set(e, "open %s: %s", path, strerror(errno));
	/* A file known to be too large is refused before a byte is read. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > b->max - b->len) {
		close(fd);
		return err_set(e, "%s: larger than %zu bytes", path, b->max);
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err_set(e, "read %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (buf_append(b, chunk, (size_t)n) == -1) {
			close(fd);
			return err_set(e, "%s: larger than %zu bytes", path, b->max);
		}
	}
	close(fd);
	return 0;
}

int file_mkdirs(const char *path, struct err *e)
{
	char p[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(p))
		return err_set(e, "bad directory \"%s\"", path);
	memcpy(p, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST)
			return err_set(e, "mkdir %s: %s", p, strerror(errno));
		p[i] = path[i];
	}
	return 0;
}

int file_lock(const char *path, struct err *e)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd == -1)
		return err_set(e, "open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			err_set(e, "%s is held by another process", path);
		else
			err_set(e, "lock %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
