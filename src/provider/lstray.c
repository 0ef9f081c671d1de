#include "provider/lstray.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "provider/ltable.h"
#include "provider/procinfo.h"

/* The index of the first of our addresses a command line names ("A" or
 * "A:PORT" as one argument), or -1. */
static int index_in_cmdline(const char *address_base, int max, const char *cmd, size_t len)
{
	struct in_addr base, a;

	if (inet_pton(AF_INET, address_base, &base) != 1)
		return -1;
	for (size_t off = 0; off < len; off += strlen(cmd + off) + 1) {
		char tok[16];
		size_t n = strcspn(cmd + off, ":");
		int64_t idx;

		if (n == 0 || n >= sizeof(tok))
			continue;
		memcpy(tok, cmd + off, n);
		tok[n] = '\0';
		if (inet_pton(AF_INET, tok, &a) != 1)
			continue;
		idx = (int64_t)ntohl(a.s_addr) - (int64_t)ntohl(base.s_addr);
		if (idx >= 0 && idx < max)
			return (int)idx;
	}
	return -1;
}

/* The id whose log file this link names (DIR/ID.log, maybe deleted), or
 * false. */
static bool log_link_id(const char *absdir, const char *link, char *id, size_t cap)
{
	size_t dl = strlen(absdir), n;
	const char *name;

	if (strncmp(link, absdir, dl) != 0 || link[dl] != '/')
		return false;
	name = link + dl + 1;
	n = strcspn(name, "/ ");
	if (name[n] == '/' || n < 5 || strncmp(name + n - 4, ".log", 4) != 0 ||
	    (name[n] != '\0' && strcmp(name + n, " (deleted)") != 0) || n - 4 >= cap)
		return false;
	memcpy(id, name, n - 4);
	id[n - 4] = '\0';
	return ltable_id_number(id) != 0;
}

int lstray_find(const char *absdir, const char *address_base, int max, struct lstray **out,
    size_t *nout, struct err *e)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	struct lstray *v = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*nout = 0;
	if (d == NULL)
		return err_set(e, "open /proc: %s", strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char path[64], link[PATH_MAX], cmd[4096];
		struct lstray s = { 0 };
		ssize_t len;
		int fd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		s.pid = (pid_t)atol(de->d_name);
		snprintf(path, sizeof(path), "/proc/%ld/fd/1", (long)s.pid);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (!log_link_id(absdir, link, s.id, sizeof(s.id)) ||
		    procinfo_start_ticks(s.pid, &s.start_ticks) == -1)
			continue;
		s.index = -1;
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)s.pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd != -1) {
			len = read(fd, cmd, sizeof(cmd) - 1);
			close(fd);
			if (len > 0) {
				cmd[len] = '\0';
				s.index = index_in_cmdline(address_base, max, cmd, (size_t)len);
			}
		}
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct lstray *nv = realloc(v, ncap * sizeof(*nv));

			if (nv == NULL) {
				free(v);
				closedir(d);
				return err_set(e, "out of memory");
			}
			v = nv;
			cap = ncap;
		}
		v[n++] = s;
	}
	closedir(d);
	*out = v;
	*nout = n;
	return 0;
}
