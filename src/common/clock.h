/* common/clock.h: the two clocks, kept apart by name. Monotonic time is
 * int64_t milliseconds (`now_ms`); wall clock ends in `_unix_s`/`_unix_ms`. */
#ifndef POOLSCALE_CLOCK_H
#define POOLSCALE_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms(void);
int64_t clock_mono_ns(void);
int64_t clock_wall_unix_ms(void);
/* CPU time of the calling thread, in nanoseconds. */
int64_t clock_thread_cpu_ns(void);

#endif
