/* lb/balance.h: picks the backend for a new connection (TCP mode) or a new
 * request (HTTP mode). Pure: it reads the candidates' eligibility and active
 * counts (connections, or requests in flight), a round-robin cursor and a
 * random number the caller drew.
 * Not here: health, sockets. */
#ifndef POOLSCALE_LB_BALANCE_H
#define POOLSCALE_LB_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lb_strategy {
	LB_ROUNDROBIN = 0,
	LB_LEASTCONN,
	LB_P2C,
};

/* The index of the chosen candidate, or -1 when none is eligible.
 * roundrobin: the next eligible one after *cursor. leastconn: the eligible
 * one with the fewest active, ties broken round robin. p2c: of two eligible
 * ones drawn at random (from rnd), the one with fewer active. */
int lb_pick(enum lb_strategy s, const bool *eligible, const int *active, size_t n,
    unsigned *cursor, uint32_t rnd);

/* "roundrobin", "leastconn", "p2c". */
const char *lb_strategy_name(enum lb_strategy s);

#endif
