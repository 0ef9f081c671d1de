/* provider/cgroup.h: a CPU quota for one local instance, through cgroup v2
 * (cpu.max) or v1 (cpu.cfs_quota_us), whichever this machine lets us write.
 * Not here: deciding the quota (the local provider's config). */
#ifndef POOLSCALE_CGROUP_H
#define POOLSCALE_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/* Creates poolscale/NAME (unique on the machine: other pools' instances
 * must not share its quota) with a quota of vcpu cores and moves pid into it
 * (the poolscale group gets the largest CPU weight, so a busy machine does
 * not take an instance's share away);
 * the directory goes to dir (for cgroup_remove). 0, or -1 when the machine
 * does not allow it (e names why). */
int cgroup_cpu_limit(const char *name, pid_t pid, double vcpu, char *dir, size_t cap,
    struct err *e);
/* Removes the directory once its processes are gone; errors are ignored. */
void cgroup_remove(const char *dir);

#endif
