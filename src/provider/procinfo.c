#include "provider/procinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* /proc/PID/stat into text (cap bytes); 0, or -1 when there is no such
 * process. */
static int read_stat_text(pid_t pid, char *text, size_t cap)
{
	char path[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	n = fread(text, 1, cap - 1, f);
	fclose(f);
	text[n] = '\0';
	return 0;
}

static int read_stat(pid_t pid, char *state, uint64_t *start_ticks)
{
	char text[1024];

	if (read_stat_text(pid, text, sizeof(text)) == -1)
		return -1;
	return procinfo_parse_stat(text, state, start_ticks);
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

int procinfo_is_alive(pid_t pid, uint64_t start_ticks)
{
	char state;
	uint64_t t;

	if (pid <= 0 || read_stat(pid, &state, &t) == -1)
		return 0;
	return t == start_ticks && state != 'Z' && state != 'X' && state != 'x';
}
