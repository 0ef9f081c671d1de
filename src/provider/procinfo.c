#include "provider/procinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int procinfo_parse_stat(const char *text, char *state, uint64_t *start_ticks)
{
	/* "pid (comm) S ppid ...": comm may hold spaces and ')', so fields are
	 * counted from the last ')'. starttime is field 22; state is field 3. */
	const char *p = strrchr(text, ')');
	int field = 3;	/* p is at the state, field 3 */

	if (p == NULL || p[1] != ' ')
		return -1;
	p += 2;
	*state = *p;
	while (*p && field < 22) {
		if (*p == ' ')
			field++;
		p++;
	}
	if (field != 22 || *p < '0' || *p > '9')
		return -1;
	*start_ticks = strtoull(p, NULL, 10);
	return 0;
}

static int read_stat(pid_t pid, char *state, uint64_t *start_ticks)
{
	char path[64], text[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return procinfo_parse_stat(text, state, start_ticks);
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
