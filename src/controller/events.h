/* controller/events.h: the recent decisions and actions of the controller,
 * kept in a ring for GET /api/v1/events. Not here: logging (the caller logs
 * the same event once). */
#ifndef POOLSCALE_EVENTS_H
#define POOLSCALE_EVENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct event {
	uint64_t seq;
	int64_t unix_ms;
	char kind[24];		/* scale_out, scale_in, replaced, ready, ... */
	char message[200];
};

struct events {
	struct event *v;
	size_t cap, n, next;	/* next: where the following event goes */
	uint64_t seq;
};

int events_init(struct events *ev, size_t cap);
void events_fini(struct events *ev);
void events_add(struct events *ev, int64_t unix_ms, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* {"events": [...]} oldest first; the caller owns the reference. */
json_t *events_json(const struct events *ev);

#endif
