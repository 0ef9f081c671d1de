/* common/opts.h: helpers for getopt_long users, so every command names a
 * bad flag, a missing value and a stray argument the same way. */
#ifndef POOLSCALE_OPTS_H
#define POOLSCALE_OPTS_H

#include <getopt.h>

#include "common/err.h"

/* The long name of the option whose val is val, or "?". */
const char *opts_name(const struct option *opts, int val);
/* For what getopt_long (optstring ":...") returned that no case took: ':'
 * ("--x needs a value") or an unknown option ("unknown option --x (see
 * poolscale CMD --help)"). Always -1. */
int opts_reject(int opt, char **argv, const char *cmd, struct err *e);
/* 0 when getopt_long used up argv; else -1 naming the first argument left. */
int opts_no_operands(int argc, char **argv, const char *cmd, struct err *e);

#endif
