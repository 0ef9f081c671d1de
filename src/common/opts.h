/* common/opts.h: a helper for getopt_long users, so every command names a
 * bad flag the same way ("--vcpu: ..."). */
#ifndef POOLSCALE_OPTS_H
#define POOLSCALE_OPTS_H

#include <getopt.h>

/* The long name of the option whose val is val, or "?". */
const char *opts_name(const struct option *opts, int val);

#endif
