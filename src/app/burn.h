/* app/burn.h: real CPU work for a measured cost. The cost is counted on the
 * calling thread's CPU clock, not wall time, so a throttled or overloaded
 * instance takes longer in wall time: that is what makes the app useful for
 * autoscaling. Not here: scheduling the work (app/routes.c). */
#ifndef POOLSCALE_APP_BURN_H
#define POOLSCALE_APP_BURN_H

#include <stdint.h>

struct burn_result {
	int64_t cpu_ns;		/* CPU time this thread spent */
	int64_t wall_ns;	/* wall time it took */
	uint64_t digest;	/* result of the work, so it cannot be optimised away */
};

void burn_cpu(int64_t cpu_ns, struct burn_result *out);

#endif
