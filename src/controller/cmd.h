/* controller/cmd.h: the `poolscale controller` command, and the config
 * loading it shares with `poolscale pool destroy`. */
#ifndef POOLSCALE_CONTROLLER_CMD_H
#define POOLSCALE_CONTROLLER_CMD_H

#include <stdbool.h>

#include <stddef.h>

#include "controller/config.h"

int controller_main(int argc, char **argv);
/* Loads file's pools with the overrides (NULL: none), prints every error
 * to stderr. 0, or 2 when the configuration is not valid. */
int ctl_load_config(const char *file, const struct ctl_overrides *o, struct ctl_pools *out);
/* The poolscale binary and the discovery dir, for local instance commands. */
void ctl_self_binary(struct ctl_cfg *cfg);
/* The API's URL as other controllers and people reach it (ha). */
void ctl_advertise_url(const struct ctl_cfg *cfg, const char *bound, char *dst, size_t cap);

#endif
