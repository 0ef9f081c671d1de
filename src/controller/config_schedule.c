/* The controller config's `schedule:` list (docs/configuration.md): each
 * entry read into a struct sched_entry (policy/schedule.h), every mistake
 * reported as FILE:LINE: schedule[N].KEY: message. A separate file so the
 * main config reader stays one screenful per section. */
#include <stdio.h>
#include <string.h>

#include "common/tz.h"
#include "common/yamlcfg.h"
#include "controller/config.h"

#define MINUTE_MS 60000LL

_Static_assert(TZ_NAME_MAX <= SCHED_ZONE_MAX, "a checked zone name fits an entry");

static bool valid_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

/* A cron key of m into *c; false when absent or wrong (error recorded). */
static bool read_cron(struct ycfg *y, struct ymap *m, const char *key, struct cron *c,
    char *text, size_t cap)
{
	yaml_node_t *n = ymap_get(m, key);
	char path[192];
	struct err e;

	if (n == NULL || !ycfg_string(m, key, text, cap))
		return false;
	if (cron_parse(text, c, &e) == -1) {
		ycfg_error(y, n, "%s: %s", ymap_key_path(m, key, path, sizeof(path)), e.msg);
		return false;
	}
	return true;
}

static void read_entry(struct ycfg *y, yaml_node_t *n, int i, struct ctl_cfg *c)
{
	struct sched_entry *s = &c->schedule[c->nschedule];	/* caller: room for it */
	char path[32], cron_text[256] = "", end_text[256] = "", zone[256] = "";
	int64_t min = -1, max = -1, dur_ms = -1;
	bool has_cron;
	struct ymap m;
	struct err e;

	/* Counted even when malformed, so schedule[N] stays item N. */
	memset(s, 0, sizeof(*s));
	s->min = s->max = -1;
	c->nschedule++;
	snprintf(path, sizeof(path), "schedule[%d]", i);
	if (!ymap_init(&m, y, n, path))
		return;
	if (m.node == NULL) {
		ycfg_error(y, n, "%s: expected a mapping with name, cron, duration or end, "
		    "min and/or max", path);
		return;
	}
	if (ymap_get(&m, "name") == NULL)
		ycfg_error(y, n, "%s.name: missing", path);
	else if (ycfg_string(&m, "name", s->name, sizeof(s->name)) && !valid_name(s->name))
		ycfg_error(y, ymap_get(&m, "name"), "%s.name: \"%s\" is not a name (letters, "
		    "digits, '-', '_' and '.')", path, s->name);
	for (int j = 0; j < c->nschedule - 1 && s->name[0] != '\0'; j++)
		if (strcmp(c->schedule[j].name, s->name) == 0)
			ycfg_error(y, ymap_get(&m, "name"), "%s.name: \"%s\" is also schedule[%d]'s",
			    path, s->name, j);
	if (ymap_get(&m, "cron") == NULL)
		ycfg_error(y, n, "%s.cron: missing (\"MINUTE HOUR DAY-OF-MONTH MONTH "
		    "DAY-OF-WEEK\")", path);
	has_cron = read_cron(y, &m, "cron", &s->start, cron_text, sizeof(cron_text));
	ycfg_duration(&m, "duration", MINUTE_MS, SCHED_LOOKBACK_S * 1000, &dur_ms);
	s->has_end = read_cron(y, &m, "end", &s->end, end_text, sizeof(end_text));
	if (ymap_get(&m, "duration") != NULL && ymap_get(&m, "end") != NULL)
		ycfg_error(y, ymap_get(&m, "end"), "%s: give duration or end, not both", path);
	else if (ymap_get(&m, "duration") == NULL && ymap_get(&m, "end") == NULL)
		ycfg_error(y, n, "%s: give duration (how long each window lasts) or end (a "
		    "cron expression that closes it)", path);
	if (s->has_end && has_cron && strcmp(cron_text, end_text) == 0)
		ycfg_error(y, ymap_get(&m, "end"), "%s.end: the same as cron: the window "
		    "would close as it opens", path);
	if (dur_ms > 0)
		s->duration_s = dur_ms / 1000;
	ycfg_int(&m, "min", 0, 10000, &min);
	ycfg_int(&m, "max", 1, 10000, &max);
	s->min = (int)min;
	s->max = (int)max;
	if (ymap_get(&m, "min") == NULL && ymap_get(&m, "max") == NULL)
		ycfg_error(y, n, "%s: give min, max or both (the bounds while the window is "
		    "open)", path);
	if (ycfg_string(&m, "timezone", zone, sizeof(zone))) {
		if (tz_check(zone, &e) == -1)
			ycfg_error(y, ymap_get(&m, "timezone"), "%s.timezone: %s", path, e.msg);
		else
			memcpy(s->zone, zone, strlen(zone) + 1);	/* checked: < TZ_NAME_MAX */
	}
	ymap_done(&m);
}

void ctl_cfg_read_schedule(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	yaml_node_item_t *it;
	int i = 0;

	c->nschedule = 0;
	if (n == NULL || (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0))
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		ycfg_error(y, n, "schedule: expected a list of windows");
		return;
	}
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, i++) {
		if (c->nschedule == SCHED_MAX) {
			ycfg_error(y, n, "schedule: more than %d windows", SCHED_MAX);
			return;
		}
		read_entry(y, yaml_document_get_node(&y->doc, *it), i, c);
	}
}

void ctl_cfg_check_schedule(struct ycfg *y, yaml_node_t *n, const struct ctl_cfg *c)
{
	yaml_node_item_t *it = n ? n->data.sequence.items.start : NULL;

	for (int i = 0; i < c->nschedule; i++, it++) {
		const struct sched_entry *s = &c->schedule[i];
		yaml_node_t *at = yaml_document_get_node(&y->doc, *it);
		int lo = s->min >= 0 ? s->min : c->min, hi = s->max >= 0 ? s->max : c->max;

		if (s->min >= 0 && s->max >= 0 && s->min > s->max)
			ycfg_error(y, at, "schedule[%d]: min (%d) is above max (%d)", i, s->min,
			    s->max);
		else if (s->max >= 0 && s->min < 0 && s->max < c->min)
			ycfg_error(y, at, "schedule[%d].max (%d) is below min (%d): give the window "
			    "a min too", i, s->max, c->min);
		if (strcmp(c->provider, "local") == 0 && (lo > c->local.max_instances ||
		    hi > c->local.max_instances))
			ycfg_error(y, at, "schedule[%d]: %s (%d) is above "
			    "provider.local.max_instances (%d)", i, hi > c->local.max_instances ?
			    "max" : "min", hi > c->local.max_instances ? hi : lo,
			    c->local.max_instances);
	}
}
