/* lb/balance.h: picks the backend for a new connection. Pure: it reads the
 * candidates' eligibility and active counts and a round-robin cursor.
 * Not here: health, sockets. */
#ifndef POOLSCALE_LB_BALANCE_H
#define POOLSCALE_LB_BALANCE_H

#include <stdbool.h>
#include <stddef.h>

enum lb_strategy {
	LB_ROUNDROBIN = 0,
	LB_LEASTCONN,
};

/* The index of the chosen candidate, or -1 when none is eligible.
 * roundrobin: the next eligible one after *cursor. leastconn: the eligible
 * one with the fewest active connections, ties broken round robin. */
int lb_pick(enum lb_strategy s, const bool *eligible, const int *active, size_t n,
    unsigned *cursor);

#endif
