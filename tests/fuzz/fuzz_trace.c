/* libFuzzer target: the load-trace reader, and the schedule built from
 * what it accepts. An accepted trace has rows, a positive step and no
 * negative count; its schedule's inverse stays inside the schedule. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "load/rate.h"
#include "load/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace t;
	struct load_rate r;
	struct err e;

	if (trace_parse((const char *)data, size, "fuzz.csv", &t, &e) == -1)
		return 0;
	if (t.n == 0 || !(t.step_s > 0))
		abort();
	for (size_t i = 0; i < t.n; i++)
		if (!(t.requests[i] >= 0) || !isfinite(t.requests[i]))
			abort();
	if (load_rate_trace(&r, &t, 10, 1, 0, &e) == 0) {
		size_t seg = 0;

		for (double n = 0; n < r.total && n < 1000; n += 1) {
			double at = load_rate_time_of(&r, n, &seg);

			if (!(at >= 0 && at <= r.end_s))
				abort();
		}
		load_rate_fini(&r);
	}
	trace_fini(&t);
	return 0;
}
