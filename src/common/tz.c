/* Time-zone offsets through localtime_r; see tz.h. */
#include "common/tz.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The zone TZ holds now (set by us), so a run of calls for one zone costs
 * one tzset; glibc re-reads the file only when TZ changes. */
static char current[TZ_NAME_MAX + 2];
static bool saved;		/* the process's own TZ is in saved_tz */
static char *saved_tz;		/* NULL: it had none */

static bool is_utc(const char *zone)
{
	return zone[0] == '\0' || strcmp(zone, "UTC") == 0 || strcmp(zone, "Etc/UTC") == 0;
}

int tz_check(const char *name, struct err *e)
{
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	int fd;
	ssize_t n;

	if (is_utc(name))
		return 0;
	if (strlen(name) >= TZ_NAME_MAX)
		return err_set(e, "\"%.32s...\" is longer than %d characters", name,
		    TZ_NAME_MAX - 1);
	/* A zone name is a relative path of letters: no way out of the database. */
	if (name[0] == '/' || name[0] == '.' || strstr(name, "..") != NULL)
		return err_set(e, "\"%s\" is not an IANA time zone name (like Europe/Zurich)",
		    name);
	for (const char *p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' || *p == '-' || *p == '+'))
			return err_set(e, "\"%s\" is not an IANA time zone name (like "
			    "Europe/Zurich)", name);
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return err_set(e, "unknown time zone \"%s\" (no %s; is tzdata installed?)", name,
		    path);
	n = read(fd, magic, sizeof(magic));
	close(fd);
	if (n != 4 || memcmp(magic, "TZif", 4) != 0)
		return err_set(e, "unknown time zone \"%s\" (%s is not a TZif file)", name, path);
	return 0;
}

long tz_offset_s(void *ctx, const char *zone, int64_t unix_s)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	(void)ctx;
	if (is_utc(zone))
		return 0;
	if (strcmp(current + 1, zone) != 0) {
		/* ":NAME": a file of the database, never a POSIX TZ rule. */
		if (!saved) {
			const char *old = getenv("TZ");

			saved_tz = old ? strdup(old) : NULL;
			saved = true;
		}
		snprintf(current, sizeof(current), ":%s", zone);
		setenv("TZ", current, 1);
		tzset();
	}
	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

void tz_reset(void)
{
	if (!saved)
		return;
	if (saved_tz != NULL)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved_tz);
	saved_tz = NULL;
	saved = false;
	current[0] = current[1] = '\0';
}
