/* common/procstat.h: this process's own resource use, and the standard
 * process_* metrics every poolscale server exposes.
 * Not here: per-request statistics (each component keeps its own). */
#ifndef POOLSCALE_PROCSTAT_H
#define POOLSCALE_PROCSTAT_H

#include <stdint.h>

#include "common/buf.h"

struct procstat {
	double user_s;		/* CPU time in user mode, all threads */
	double system_s;	/* CPU time in the kernel, all threads */
	uint64_t rss_bytes;
	uint64_t vsize_bytes;
	unsigned open_fds;
	uint64_t max_fds;
};

/* 0, or -1 when /proc could not be read (the CPU times are still set). */
int procstat_read(struct procstat *p);
/* process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds,
 * process_start_time_seconds, as Prometheus client libraries name them. */
void procstat_prom(struct buf *b, const struct procstat *p, double start_unix_s);

#endif
