/* common/crashpoint.h: a test hook. With POOLSCALE_CRASH_AT=NAME:N in its
 * environment, the process kills itself with SIGKILL the Nth time it
 * reaches crash_point("NAME"), as `kill -9` would at that exact step, so
 * tests can stop it deterministically between a write and a spawn. Unset
 * (always, outside tests), a call costs one comparison. The only
 * process-wide state of this module: the parsed variable and the count. */
#ifndef POOLSCALE_CRASHPOINT_H
#define POOLSCALE_CRASHPOINT_H

void crash_point(const char *name);

#endif
