/* controller/hastate.h: what a new leader needs to resume exactly where the
 * old one stopped, and its JSON form in etcd: the desired size, the step
 * policy's latched signals and last step, the target policy's
 * stabilization history and rate-limit windows, and the drains in
 * progress. Times are wall-clock (unix ms), since two machines share no
 * monotonic clock. A controller running several pools keeps one document
 * for them all, {"pools": {NAME: state, ...}}: one election leads them
 * together. Pure: no I/O, no clock.
 * Not here: where it is stored (controller/ha.h), how the controller fills
 * it or takes it back (controller/failover.c). */
#ifndef POOLSCALE_CONTROLLER_HASTATE_H
#define POOLSCALE_CONTROLLER_HASTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "policy/step.h"
#include "policy/target.h"

#define HA_STATE_VERSION 1
#define HA_STATE_MAX_DRAINS 1024

struct ha_drain {
	char id[40];
	int64_t since_unix_ms;
	bool removing;			/* its removal was decided (drained or timed out) */
};

struct ha_state {
	int desired;
	struct step_latch latch;
	int64_t last_step_unix_ms;	/* 0: none */
	/* The target policy's history, at_ms in unix ms. */
	struct target_state target;
	struct ha_drain drains[HA_STATE_MAX_DRAINS];
	size_t ndrains;
	char by[64];			/* the leader that wrote it */
	int64_t written_unix_ms;
};

/* malloc'd JSON, *len its length; NULL when out of memory. */
char *ha_state_format(const struct ha_state *s, size_t *len);
/* Parses what ha_state_format wrote; -1 with e on anything else (the
 * caller then holds rather than guess). */
int ha_state_parse(const char *json, size_t len, struct ha_state *out, struct err *e);

/* The document of a controller with several pools, from each one's
 * ha_state_format text: {"pools": {names[i]: parts[i], ...}}; a NULL part
 * is left out. Names are pool names (letters, digits, - and _). malloc'd,
 * *len its length; NULL when out of memory. */
char *ha_doc_join(const char *const *names, char *const *parts, size_t n, size_t *len);
/* Pool name's part of the document in etcd, malloc'd into *part (NULL
 * when the document has none for it: a pool new to the file), *part_len its
 * length. A controller of one pool writes its state alone; one of several
 * (several: this one is), the joined form: each reads both, but a
 * lone state is no pool's in particular when there are several, and is
 * refused: -1 with e. */
int ha_doc_part(const char *doc, size_t len, const char *name, bool several, char **part,
    size_t *part_len, struct err *e);

#endif
