/* provider/lstray.h: finds every live process a local pool started, by
 * what it writes to: its stdout is one of the pool's instance logs
 * (DIR/ID.log, deleted or not), whether or not the pool's table still knows
 * it (a table lost, or written by an older version). Not here: what to do
 * with them (adopt at start, stop at `pool destroy`: provider/local.c). */
#ifndef POOLSCALE_PROVIDER_LSTRAY_H
#define POOLSCALE_PROVIDER_LSTRAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct lstray {
	pid_t pid;
	uint64_t start_ticks;
	char id[40];
	int index;		/* the pool address its command line names; -1 when none */
};

/* The processes whose stdout is a log in absdir (absolute, as /proc names
 * it); index counts from address_base, below max. A malloc'd array in *out.
 * 0, or -1 with e when /proc could not be read. */
int lstray_find(const char *absdir, const char *address_base, int max, struct lstray **out,
    size_t *nout, struct err *e);

#endif
