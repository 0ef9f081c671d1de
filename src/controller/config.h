/* controller/config.h: the controller's YAML configuration, read once into a
 * typed struct with defaults from one table (docs/configuration.md lists every
 * key). Errors are collected as "FILE:LINE: key: message". Relative paths are
 * resolved against the config file's directory, as Prometheus does.
 * config.c reads the keys; config_pools.c the file's layout (one pool, or
 * several under pools:), what each pool derives, the checks between pools
 * and the flags that override the file; config_*.c one section each. */
#ifndef POOLSCALE_CONTROLLER_CONFIG_H
#define POOLSCALE_CONTROLLER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/log.h"
#include "policy/schedule.h"
#include "common/yamlcfg.h"
#include "controller/ha.h"
#include "policy/forecast.h"
#include "policy/step.h"
#include "policy/target.h"
#include "provider/aws.h"
#include "provider/exec.h"
#include "provider/exoscale.h"
#include "provider/linode.h"
#include "provider/local.h"

#define CTL_MAX_SETS 8
#define CTL_MAX_POOLS 64

struct sd_set {
	char name[32];
	int port;
};

enum ctl_policy {
	CTL_POLICY_NONE = 0,	/* the size changes only through the API */
	CTL_POLICY_STEP,
	CTL_POLICY_TARGET,
};

const char *ctl_policy_name(enum ctl_policy p);

/* One pool's whole configuration. From a file with `pools:` each pool gets
 * one, the shared keys (state_dir, log_level, dry_run, api, prometheus,
 * webhook, ha) copied in. */
struct ctl_cfg {
	char file[1024];
	char pool[64];
	int index;			/* its place in pools: (0 without) */
	/* Before each discovery file's set name: "" for a file without
	 * pools: (targets-SET.json), "NAME-" with it (targets-NAME-SET.json). */
	char sd_prefix[72];
	int min, max, initial;
	struct sched_entry schedule[SCHED_MAX];	/* windows that replace min/max */
	int nschedule;
	bool initial_given;		/* else the first start adopts the pool's size */
	int64_t interval_ms;
	char state_dir[1024];
	bool dry_run;
	enum log_level log_level;

	char health_path[128];
	int64_t health_interval_ms, health_timeout_ms, boot_timeout_ms;
	int health_fails;

	int64_t drain_timeout_ms, kill_grace_ms;
	/* What a drain waits on: the sum of this metric's samples in the
	 * member's /metrics, read on its metrics port or (default) on the
	 * port it serves on. */
	char drain_metric[128];
	bool drain_on_metrics_port;

	char provider[16];		/* local, exoscale, aws, linode or exec */
	int app_port, metrics_port;	/* where members serve and expose metrics */
	int64_t list_interval_ms;	/* how often the provider is asked for members */
	struct local_cfg local;
	struct exo_cfg exoscale;
	struct asg_cfg aws;
	struct linode_cfg linode;
	struct exec_cfg exec;

	char sd_dir[1024];
	struct sd_set sets[CTL_MAX_SETS];
	int nsets;

	enum ctl_policy policy;
	struct step_cfg step;
	struct target_cfg target;
	char query[2048];		/* metric 0's query; {pool} already replaced */
	/* One query per target.metrics entry ([0] is query), and the
	 * backlog's ("" when none), {pool} replaced. */
	char metric_query[POLICY_MAX_METRICS][2048];
	char backlog_query[2048];
	struct forecast_cfg forecast;	/* policy.target.forecast; horizon 0: the default */
	char history_query[2048];	/* the forecast's history, {pool} replaced */
	double history_value;		/* its value per instance; 0: the first total metric's */
	int64_t warmup_ms;
	char prom_url[512];
	int64_t prom_timeout_ms;
	char action_label[64];

	char api_listen[96];
	char token_file[1024];
	char token[256];		/* loaded secret; never logged */

	struct ha_cfg ha;		/* ha: (controller/ha.h); enabled false without it */
	bool provider_timeout_given;	/* provider.timeout was set (else HA may lower it) */
};

/* Flags that override the file (poolscale controller, pool destroy),
 * applied before pools derive their directories from state_dir. NULL and
 * false: none. */
struct ctl_overrides {
	const char *listen, *state_dir, *log_level;
	bool dry_run;
};

/* A configuration file: the pools of its `pools:` list, or one pool read
 * from the top level when it has none. */
struct ctl_pools {
	struct ctl_cfg *pool[CTL_MAX_POOLS];	/* each calloc'd, ctl_cfg_fini'd */
	size_t n;
	bool listed;			/* the file has pools: */
};

/* Parses file (or text when not NULL, named file in messages), applies
 * the overrides, and, when all that is valid, runs ctl_cfg_finish on
 * every pool (secrets are read once). Returns the number of errors (0:
 * valid) and appends their text to errors; on errors out holds nothing.
 * Release with ctl_pools_fini(). */
int ctl_pools_load(const char *file, const char *text, const struct ctl_overrides *o,
    struct ctl_pools *out, struct buf *errors);
void ctl_pools_fini(struct ctl_pools *p);
/* The pool named name, or NULL. */
struct ctl_cfg *ctl_pools_find(const struct ctl_pools *p, const char *name);

/* One pool: parses file into cfg. A file whose pools: has more than one
 * pool is an error naming them (for the commands that take one). Returns
 * the number of errors (0: valid); their text, one per line, is appended
 * to errors. Command strings (local, exec) are owned by cfg: release with
 * ctl_cfg_fini(). ctl_cfg_finish is not run. */
int ctl_cfg_load(const char *file, struct ctl_cfg *cfg, struct buf *errors);
/* The same from a string (tests); name is used in messages. */
int ctl_cfg_load_string(const char *name, const char *text, struct ctl_cfg *cfg,
    struct buf *errors);
/* Checks made after flags override the file (listen address vs token...).
 * Same return convention; messages name the flag or key. */
int ctl_cfg_finish(struct ctl_cfg *cfg, struct buf *errors);
void ctl_cfg_fini(struct ctl_cfg *cfg);
/* For controller/config_pools.c, which knows the file's layout (config.c
 * reads the keys): the defaults; the shared keys of the top level m; one
 * pool's keys from m (the top level without pools:, else its entry), with
 * the checks among them; and, once ha: is read too, what follows from
 * them (ports, default sets, paths beside the file). state_dir, sd_dir
 * and local.state_dir are config_pools.c's to set. */
void ctl_cfg_defaults(struct ctl_cfg *cfg);
void ctl_cfg_read_shared(struct ycfg *y, struct ymap *m, struct ctl_cfg *cfg);
void ctl_cfg_read_pool(struct ycfg *y, struct ymap *m, struct ctl_cfg *cfg);
void ctl_cfg_derive(struct ctl_cfg *cfg);
/* Makes a relative path relative to cfgfile's directory (kept as it is
 * when the result would not fit cap). */
void ctl_cfg_resolve(char *path, size_t cap, const char *cfgfile);
/* `schedule:` (controller/config_schedule.c), for config.c: read with the
 * other keys, checked once min, max and the provider are known. */
struct ycfg;
struct yaml_node_s;
void ctl_cfg_read_schedule(struct ycfg *y, struct yaml_node_s *n, struct ctl_cfg *cfg);
void ctl_cfg_check_schedule(struct ycfg *y, struct yaml_node_s *n, const struct ctl_cfg *cfg);
/* provider.linode (controller/config_linode.c): its keys, and those a
 * create needs when provider.kind is linode. */
void ctl_cfg_read_linode(struct ycfg *y, struct yaml_node_s *n, struct ctl_cfg *cfg);
/* policy.target.forecast (controller/config_forecast.c): its defaults, and
 * its keys read from the policy.target mapping. */
void ctl_cfg_forecast_defaults(struct ctl_cfg *cfg);
void ctl_cfg_read_forecast(struct ycfg *y, struct ymap *target, struct ctl_cfg *cfg);
/* The forecaster's config with the horizon resolved: the configured one,
 * else the warm-up (a boot) plus the interval (the pipeline's delay). */
void ctl_forecast_cfg(const struct ctl_cfg *cfg, struct forecast_cfg *out);
/* What one instance carries of history_query: history_value, else the
 * first total metric's value; 0 when neither (no history then). */
double ctl_forecast_history_value(const struct ctl_cfg *cfg);
/* `ha:` (controller/config_ha.c): its keys, then ctl_cfg_check_ha_pool for
 * each pool; the password is read by ctl_cfg_finish, as the API token is. */
void ctl_cfg_read_ha(struct ycfg *y, struct yaml_node_s *n, struct ctl_cfg *cfg);
/* What ha: asks of one pool's provider (reached by every controller; calls
 * that fit in half a lease). named: say which pool (a file of several). */
void ctl_cfg_check_ha_pool(struct ycfg *y, struct yaml_node_s *n, struct ctl_cfg *cfg,
    bool named);
int ctl_cfg_finish_ha(struct ctl_cfg *cfg, struct buf *errors);
/* How long one provider request may take: the margin the leader's lease
 * must still have before a mutation is sent (controller/ha.h). */
int64_t ctl_provider_timeout_ms(const struct ctl_cfg *cfg);
/* A pool's or a discovery set's name: letters, digits, - and _, not
 * empty, shorter than cap. */
bool ctl_name_ok(const char *s, size_t cap);
/* Where discovery set i (cfg->sets) is written: SD_DIR/targets-PREFIXSET.json. */
void ctl_sd_path(const struct ctl_cfg *cfg, int set, char *dst, size_t cap);
/* Opens the provider cfg names (credentials are read here, not at load). */
int ctl_provider_open(struct ctl_cfg *cfg, struct provider *out, struct err *e);

#endif
