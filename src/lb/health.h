/* lb/health.h: rise/fall hysteresis of one backend's health. Pure: it
 * takes a check result and returns the new state; no sockets.
 * A healthy backend goes down after `fall` consecutive failed checks; a
 * down one comes back after `rise` consecutive good ones. */
#ifndef POOLSCALE_LB_HEALTH_H
#define POOLSCALE_LB_HEALTH_H

#include <stdbool.h>

struct health {
	bool up;
	int streak;	/* consecutive results against the current state */
};

void health_init(struct health *h, bool up);
/* Feeds one check result; true when the state changed. */
bool health_update(struct health *h, int rise, int fall, bool ok);

#endif
