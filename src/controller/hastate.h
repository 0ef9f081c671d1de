/* controller/hastate.h: what a new leader needs to resume exactly where the
 * old one stopped, and its JSON form in etcd: the desired size, the step
 * policy's latched signals and last step, the target policy's
 * stabilization history and rate-limit windows, and the drains in
 * progress. Times are wall-clock (unix ms), since two machines share no
 * monotonic clock. Pure: no I/O, no clock.
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

#endif
