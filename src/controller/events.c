#include "controller/events.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int events_init(struct events *ev, size_t cap)
{
	ev->v = calloc(cap, sizeof(*ev->v));
	ev->cap = ev->v ? cap : 0;
	ev->n = ev->next = 0;
	ev->seq = 0;
	return ev->v ? 0 : -1;
}

void events_fini(struct events *ev)
{
	free(ev->v);
	ev->v = NULL;
	ev->cap = ev->n = 0;
}

void events_add(struct events *ev, int64_t unix_ms, const char *kind, const char *fmt, ...)
{
	struct event *e;
	va_list ap;

	if (ev->cap == 0)
		return;
	e = &ev->v[ev->next];
	e->seq = ++ev->seq;
	e->unix_ms = unix_ms;
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	ev->next = (ev->next + 1) % ev->cap;
	if (ev->n < ev->cap)
		ev->n++;
}

json_t *events_json(const struct events *ev)
{
	json_t *arr = json_array();
	size_t start = (ev->next + ev->cap - ev->n) % (ev->cap ? ev->cap : 1);

	for (size_t i = 0; i < ev->n; i++) {
		const struct event *e = &ev->v[(start + i) % ev->cap];

		json_array_append_new(arr, json_pack("{s:I, s:f, s:s, s:s}", "seq",
		    (json_int_t)e->seq, "time", (double)e->unix_ms / 1000.0, "kind", e->kind,
		    "message", e->message));
	}
	return json_pack("{s:o}", "events", arr);
}
