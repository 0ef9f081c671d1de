#include "provider/exo_zone.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The zones of the v1 (CloudStack) API, as `exo zone` listed them: the ids
 * the seeds' tools take. Zones opened later have no v1 id. */
static const struct {
	const char *uuid, *name;
} zones[] = {
	{ "4da1b188-dcd6-4ff5-b7fd-bde984055548", "at-vie-1" },
	{ "70e5f8b1-0b2c-4457-a5e0-88bcf1f3db68", "bg-sof-1" },
	{ "91e5e9e4-c9ed-4b76-bee4-427004b3baf9", "ch-dk-2" },
	{ "1128bd56-b4d9-4ac6-a7b9-c715b187ce11", "ch-gva-2" },
	{ "35eb7739-d19e-45f7-a581-4687c54d6d02", "de-fra-1" },
	{ "85664334-0fd5-47bd-94a1-b4f40b1d2eb7", "de-muc-1" },
};

#define NZONES (sizeof(zones) / sizeof(zones[0]))

/* 8-4-4-4-12 hex digits, either case (egoscale parses both). */
static bool looks_like_uuid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return s[36] == '\0';
}

const char *exo_zone_by_uuid(const char *uuid)
{
	for (size_t i = 0; i < NZONES; i++)
		if (strcasecmp(zones[i].uuid, uuid) == 0)
			return zones[i].name;
	return NULL;
}

static int unknown_uuid(const char *uuid, struct err *e)
{
	char names[96];
	size_t n = 0;

	names[0] = '\0';
	for (size_t i = 0; i < NZONES && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
		    zones[i].name);
	return err_set(e, "zone UUID %s is unknown (poolscale knows %s): give the zone's name",
	    uuid, names);
}

int exo_zone_check(const char *zone, struct err *e)
{
	size_t n = strlen(zone);
	const char *name;

	if (looks_like_uuid(zone)) {
		name = exo_zone_by_uuid(zone);
		if (name == NULL)
			return unknown_uuid(zone, e);
		return err_set(e, "\"%s\" is a zone UUID, not a zone name: give %s", zone, name);
	}
	for (size_t i = 0; i < n; i++) {
		char c = zone[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c == '-' && i > 0 && i + 1 < n)))
			goto bad;
	}
	if (n >= 1 && n <= EXO_ZONE_MAX)
		return 0;
bad:
	return err_set(e, "\"%.40s\" is not a zone name: lower-case letters, digits and inner "
	    "dashes, at most %d, like ch-gva-2", zone, EXO_ZONE_MAX);
}

int exo_zone_from_id(const char *id, char *zone, size_t cap, struct err *e)
{
	const char *name = id;

	if (looks_like_uuid(id)) {
		name = exo_zone_by_uuid(id);
		if (name == NULL)
			return unknown_uuid(id, e);
	} else if (exo_zone_check(id, e) == -1) {
		return -1;
	}
	if (strlen(name) >= cap)
		return err_set(e, "zone \"%.40s\" is too long", name);
	snprintf(zone, cap, "%s", name);
	return 0;
}
