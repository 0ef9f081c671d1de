#include "app/nodecpu.h"

#include <math.h>

void nodecpu_compute(double vcpu, double elapsed_s, double user_s, double system_s,
    struct nodecpu_state *st, struct nodecpu *out)
{
	double idle = vcpu * elapsed_s - user_s - system_s;
	int n = (int)ceil(vcpu - 1e-9);

	if (n < 1)
		n = 1;
	if (n > NODECPU_MAX_CPUS)
		n = NODECPU_MAX_CPUS;
	if (idle > st->idle_s)
		st->idle_s = idle;
	out->ncpu = n;
	out->user_s = user_s / n;
	out->system_s = system_s / n;
	out->idle_s = st->idle_s / n;
}
