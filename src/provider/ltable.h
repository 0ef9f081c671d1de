/* provider/ltable.h: the local provider's instance table as data: members
 * with their identity (pid plus process start time), the id high-water mark
 * (ids are never reused, even after a crash), and its JSON form in
 * STATE_DIR/local/instances.json. Pure: no I/O, clock or logging; the
 * caller reads and writes the file. Not here: processes (provider/local.c),
 * liveness (provider/procinfo.h). */
#ifndef POOLSCALE_PROVIDER_LTABLE_H
#define POOLSCALE_PROVIDER_LTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct linst {
	char id[40];
	int index;			/* address = base + index */
	char address[16];
	pid_t pid;			/* 0: recorded before its start (write-ahead) */
	uint64_t start_ticks;
	int64_t created_unix_s;
	bool stopping;
	char cgroup[512];
	/* This run only, never saved. */
	int64_t term_sent_ms;		/* 0: SIGTERM not sent yet */
	int64_t started_ms;		/* when this run started it; 0: adopted or proven */
};

struct ltable {
	struct linst *v;
	size_t n, cap;
	uint64_t next_id;		/* the last id handed out: i-<next_id> */
};

void ltable_init(struct ltable *t);
void ltable_fini(struct ltable *t);
/* Appends a copy; 0, or -1 when out of memory. */
int ltable_add(struct ltable *t, const struct linst *in);
/* Removes entry i (the last entry takes its place). */
void ltable_drop(struct ltable *t, size_t i);
/* The entry with this id, or NULL. */
struct linst *ltable_find(struct ltable *t, const char *id);
/* Hands out the next id ("i-0007") into dst; never one handed out before. */
void ltable_new_id(struct ltable *t, char *dst, size_t cap);
/* The number in an id of ours ("i-0007" -> 7), or 0 when it is not one. */
uint64_t ltable_id_number(const char *id);
/* The lowest index in [0, max) that no entry holds and skip (may be NULL;
 * skip[i] true: not usable now) leaves free, at or after from; -1 when none. */
int ltable_free_index(const struct ltable *t, int max, const bool *skip, int from);
/* The table as JSON text (malloc'd), or NULL when out of memory. */
char *ltable_format(const struct ltable *t);
/* Replaces t's entries with those in text; name is the file, for messages.
 * next_id becomes at least the highest id in the table. 0, or -1 with e
 * (t is then left empty). */
int ltable_parse(struct ltable *t, const char *text, size_t len, const char *name,
    struct err *e);

#endif
