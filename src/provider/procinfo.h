/* provider/procinfo.h: is this pid still the process we started? A pid plus
 * its start time (field 22 of /proc/PID/stat) names a process for good, so
 * a reused pid is never mistaken for ours. Also the CPU time a process has
 * used (fields 14 and 15), for `simulate calibrate`. */
#ifndef POOLSCALE_PROCINFO_H
#define POOLSCALE_PROCINFO_H

#include <stdint.h>
#include <sys/types.h>

/* Pure: state letter and start time from the text of /proc/PID/stat.
 * 0, or -1 when the text is not in that format. */
int procinfo_parse_stat(const char *text, char *state, uint64_t *start_ticks);
/* Pure: utime + stime, in clock ticks, from the same text; 0 or -1. */
int procinfo_parse_cpu(const char *text, uint64_t *cpu_ticks);
/* 0 and *start_ticks, or -1 when the process does not exist. */
int procinfo_start_ticks(pid_t pid, uint64_t *start_ticks);
/* 0 and the CPU ticks it has used, or -1 when it does not exist. */
int procinfo_cpu_ticks(pid_t pid, uint64_t *cpu_ticks);
enum procinfo_seen {
	PROCINFO_ALIVE = 0,	/* runs, not a zombie, started at start_ticks */
	PROCINFO_GONE,		/* exited, a zombie, or the pid now names another process */
	PROCINFO_UNKNOWN,	/* we could not look (EMFILE, EACCES...): never "dead" */
};

const char *procinfo_seen_name(enum procinfo_seen s);
/* Whether the process (pid, start_ticks) still runs; *err is the errno of a
 * failed look (0 when it worked). */
enum procinfo_seen procinfo_observe(pid_t pid, uint64_t start_ticks, int *err);
/* true when pid runs (not a zombie) and started at start_ticks; false also
 * when it could not be told (prefer procinfo_observe). */
int procinfo_is_alive(pid_t pid, uint64_t start_ticks);

#endif
