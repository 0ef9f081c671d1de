#include "provider/procinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Field n (3: the state) of /proc/PID/stat text, or NULL. comm, field 2,
 * may hold spaces and ')', so fields are counted from the last ')'. */
static const char *stat_field(const char *text, int n)
{
	const char *p = strrchr(text, ')');
	int field = 3;

	if (p == NULL || p[1] != ' ')
		return NULL;
	p += 2;
	while (*p && field < n) {
		if (*p == ' ')
			field++;
		p++;
	}
	return field == n && *p ? p : NULL;
}

int procinfo_parse_stat(const char *text, char *state, uint64_t *start_ticks)
{
	const char *st = stat_field(text, 3), *start = stat_field(text, 22);

	if (st == NULL || start == NULL || *start < '0' || *start > '9')
		return -1;
	*state = *st;
	*start_ticks = strtoull(start, NULL, 10);
	return 0;
}

int procinfo_parse_cpu(const char *text, uint64_t *cpu_ticks)
{
	const char *ut = stat_field(text, 14), *st = stat_field(text, 15);

	if (ut == NULL || st == NULL || *ut < '0' || *ut > '9' || *st < '0' || *st > '9')
		return -1;
	*cpu_ticks = strtoull(ut, NULL, 10) + strtoull(st, NULL, 10);
	return 0;
}

/* /proc/PID/stat into text (cap bytes); 0, or -1 with errno (ENOENT or
 * ESRCH: there is no such process; EMFILE, EACCES...: we could not look).
 * open(2) rather than stdio: one descriptor and no allocation. */
static int read_stat_text(pid_t pid, char *text, size_t cap)
{
	char path[64];
	ssize_t n;
	int fd, saved;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	do
		n = read(fd, text, cap - 1);
	while (n == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	if (n == -1) {
		errno = saved;
		return -1;
	}
	text[n] = '\0';
	return 0;
}

static int read_stat(pid_t pid, char *state, uint64_t *start_ticks)
{
	char text[1024];

	if (read_stat_text(pid, text, sizeof(text)) == -1)
		return -1;
	if (procinfo_parse_stat(text, state, start_ticks) == -1) {
		errno = EIO;	/* unreadable: not proof that it is gone */
		return -1;
	}
	return 0;
}

int procinfo_cpu_ticks(pid_t pid, uint64_t *cpu_ticks)
{
	char text[1024];

	if (read_stat_text(pid, text, sizeof(text)) == -1)
		return -1;
	return procinfo_parse_cpu(text, cpu_ticks);
}

int procinfo_start_ticks(pid_t pid, uint64_t *start_ticks)
{
	char state;

	return read_stat(pid, &state, start_ticks);
}

const char *procinfo_seen_name(enum procinfo_seen s)
{
	switch (s) {
	case PROCINFO_ALIVE: return "alive";
	case PROCINFO_GONE: return "gone";
	default: return "unknown";
	}
}

enum procinfo_seen procinfo_observe(pid_t pid, uint64_t start_ticks, int *err)
{
	char state;
	uint64_t t;

	*err = 0;
	if (pid <= 0)
		return PROCINFO_GONE;
	if (read_stat(pid, &state, &t) == -1) {
		*err = errno;
		if (errno == ENOENT || errno == ESRCH)
			return PROCINFO_GONE;
		/* /proc could not tell (out of descriptors, no permission, a
		 * short read): kill(pid, 0) needs no descriptor and still says
		 * whether the pid is gone, but not whether it is still ours. */
		if (kill(pid, 0) == -1 && errno == ESRCH)
			return PROCINFO_GONE;
		return PROCINFO_UNKNOWN;
	}
	if (t != start_ticks || state == 'Z' || state == 'X' || state == 'x')
		return PROCINFO_GONE;
	return PROCINFO_ALIVE;
}

int procinfo_is_alive(pid_t pid, uint64_t start_ticks)
{
	int err;

	return procinfo_observe(pid, start_ticks, &err) == PROCINFO_ALIVE;
}
