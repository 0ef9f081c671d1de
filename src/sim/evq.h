/* sim/evq.h: the simulator's virtual clock: a queue of timed events, popped
 * in time order; at one time, lower kinds first, then in the order they
 * were scheduled, so a run is deterministic and the caller decides what
 * happens first at a tie (a scrape before the query that reads it). Time is int64 ms of simulated time; nothing here reads a
 * real clock. Not here: what the events mean (sim/sim.c). */
#ifndef POOLSCALE_SIM_EVQ_H
#define POOLSCALE_SIM_EVQ_H

#include <stddef.h>
#include <stdint.h>

struct sim_event {
	int64_t at_ms;
	uint64_t seq;		/* scheduling order: breaks the last ties */
	int kind;		/* also the order at one time: lower first */
	int arg;
};

struct evq {
	struct sim_event *heap;
	size_t n, cap;
	uint64_t next_seq;
	int64_t now_ms;		/* the time of the last event popped */
};

void evq_init(struct evq *q, int64_t start_ms);
void evq_fini(struct evq *q);
/* Schedules an event; at_ms before now is run at now (the clock never goes
 * back). 0, or -1 when out of memory. */
int evq_push(struct evq *q, int64_t at_ms, int kind, int arg);
/* Pops the earliest event into *ev and moves the clock to it; 0 when the
 * queue is empty. */
int evq_pop(struct evq *q, struct sim_event *ev);
/* The time of the earliest event, or INT64_MAX when none. */
int64_t evq_next_ms(const struct evq *q);

#endif
