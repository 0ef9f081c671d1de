/* provider/respawn.h: exponential backoff for starting members that keep
 * dying young (a broken `command:`, an address someone else holds), so a
 * pool that cannot start does not restart in a loop. The first failure
 * costs nothing (a member killed once is replaced at once); each one after
 * it doubles the wait, up to a cap. A member that lives resets it. Pure:
 * the caller passes the clock. Not here: what counts as dying young (the
 * provider decides). */
#ifndef POOLSCALE_PROVIDER_RESPAWN_H
#define POOLSCALE_PROVIDER_RESPAWN_H

#include <stdint.h>

struct respawn {
	int failures;			/* in a row, since a member last lived */
	int64_t not_before_ms;		/* no start before this */
};

/* The wait after `failures` failures in a row: 0 for 0 or 1, then base,
 * 2 base, 4 base... never more than max. */
int64_t respawn_delay_ms(int failures, int64_t base_ms, int64_t max_ms);
/* A start failed or a young member died at now_ms. */
void respawn_failed(struct respawn *r, int64_t now_ms, int64_t base_ms, int64_t max_ms);
/* A member lived: starts are free again. */
void respawn_ok(struct respawn *r);
/* How long a start must still wait at now_ms; 0: it may start. */
int64_t respawn_wait_ms(const struct respawn *r, int64_t now_ms);

#endif
