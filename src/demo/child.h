/* demo/child.h: the processes the demo starts (Prometheus, Alertmanager,
 * the controller, the lb): each in its own process group, so a terminal's
 * Ctrl-C reaches only the demo, which stops them in order; each told to
 * die with the demo (PR_SET_PDEATHSIG) should the demo itself be killed;
 * output to a log file; stopped by pid. Not here: the pool's instances
 * (the controller's provider starts them; `pool destroy` removes them). */
#ifndef POOLSCALE_CHILD_H
#define POOLSCALE_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

struct child {
	char name[32];
	pid_t pid;		/* 0 when not running */
	int status;		/* waitpid's, once it has exited */
	char log[1024];
};

/* argv[0] is looked up in PATH. stdout and stderr go to log (appended). */
int child_start(struct child *c, const char *name, char *const argv[], const char *log,
    struct err *e);
/* True while it runs; reaps it (and keeps its status) once it has exited. */
bool child_running(struct child *c);
/* SIGTERM, up to grace_ms for it to exit, then SIGKILL. No-op when not
 * running. Returns its exit status as waitpid gives it. */
int child_stop(struct child *c, int grace_ms);
/* Runs argv to completion (with a deadline, then SIGKILL); its exit code,
 * or -1 with e set when it could not run or was killed. */
int child_run(const char *name, char *const argv[], const char *log, int timeout_ms,
    struct err *e);

#endif
