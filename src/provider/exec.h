/* provider/exec.h: a pool driven by the user's own commands, for every
 * cloud or tool poolscale has no client for (Terraform, the Linode CLI, a
 * Jenkins job, Occopus's REST API, a script). Three commands: `list` prints
 * the members as JSON [{"id","address","state"}], `set_size` gets {size},
 * `remove` gets {id}. Run without a shell unless `shell` is set, with a
 * timeout; a non-zero exit, a timeout or bad output is a provider error that
 * carries the command's stderr. Not here: process handling (common/subproc). */
#ifndef POOLSCALE_PROVIDER_EXEC_H
#define POOLSCALE_PROVIDER_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "provider/provider.h"

#define EXEC_MAX_ARGS 32
#define EXEC_MAX_ARG_LEN 4095		/* each argument, or the shell command */

struct exec_cmd {
	char *argv[EXEC_MAX_ARGS];	/* owned by the config */
	size_t argc;
};

struct exec_cfg {
	struct exec_cmd list, set_size, remove;
	bool shell;			/* each command is one string for /bin/sh -c */
	int64_t timeout_ms;
	int64_t kill_grace_ms;
};

void exec_cfg_default(struct exec_cfg *c);
void exec_cfg_fini(struct exec_cfg *c);
/* The provider borrows cfg. */
int prov_exec_new(const struct exec_cfg *cfg, struct provider *out, struct err *e);
/* Parses a list command's output (exposed for tests). */
int exec_parse_members(const char *out, size_t len, struct member_list *l, struct err *e);

#endif
