/* provider/local.h: the local "cloud": each member is a `poolscale app`
 * process (or a configured command) on its own loopback address 127.0.1.N,
 * in its own session so it outlives the controller, with a CPU quota where
 * cgroups allow. Its table is kept in STATE_DIR/local/instances.json and
 * re-adopted on start (pid plus process start time). The table is written
 * ahead: a member is in it before it is forked, and its pid before it may
 * run, so a crash at any point leaves no process it does not know; ids are
 * never reused. Not here: the table's format (provider/ltable.h), finding
 * the pool's lost processes (provider/lstray.h), the start backoff
 * (provider/respawn.h). */
#ifndef POOLSCALE_PROVIDER_LOCAL_H
#define POOLSCALE_PROVIDER_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "provider/provider.h"

#define LOCAL_MAX_ARGS 32
#define LOCAL_MAX_ARG_LEN 254		/* each argument, before placeholders */

struct local_cfg {
	char state_dir[1024];
	char binary[1024];		/* the poolscale binary for the default command */
	char sd_dir[1024];		/* where the controller writes discovery files */
	char address_base[16];		/* first address: 127.0.1.1 */
	int max_instances;		/* addresses base .. base + max - 1 */
	int app_port;
	int metrics_port;
	double vcpu;
	double work_ms;
	int64_t boot_delay_ms;
	int64_t kill_grace_ms;		/* SIGTERM, then SIGKILL after this */
	/* A custom command instead of `poolscale app`, with placeholders
	 * {id} {address} {port} {metrics_port} {vcpu} {work_ms} {boot_delay}
	 * {binary} (this poolscale) {sd_dir} (the discovery files' directory,
	 * so a pool of balancers can follow another pool's file). */
	char *command[LOCAL_MAX_ARGS];
	size_t ncommand;
};

/* Loads (and re-adopts) the instance table. The provider borrows cfg. */
int prov_local_new(const struct local_cfg *cfg, struct provider *out, struct err *e);
/* How many instances it re-adopted and forgot at start (for the log). */
void prov_local_adopted(const struct provider *p, int *adopted, int *forgotten);
/* Whether instances get a CPU quota; otherwise why not. */
const char *prov_local_quota_note(const struct provider *p);

#endif
