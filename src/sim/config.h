/* sim/config.h: what `poolscale simulate` simulates. The controller's own
 * config file (min, max, interval, policy, warm-up: the very settings to be
 * deployed) plus its `simulate:` section, which the controller ignores and
 * which describes the world around it: instance capacity and boot time,
 * the metric pipeline (scrapes, rate window, alert rules, Alertmanager),
 * the SLO, and the peers' settings. docs/simulate.md lists every key.
 * Not here: running it (sim/sim.h). */
#ifndef POOLSCALE_SIM_CONFIG_H
#define POOLSCALE_SIM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/tz.h"
#include "controller/config.h"
#include "sim/latency.h"

/* The policies a run can use: the controller's two and the three peers
 * (../shared/reference/policies.md). */
enum sim_policy {
	SIM_TARGET = 0,		/* poolscale's target tracking (policy.target) */
	SIM_STEP,		/* the config's step policy behind its alert rules */
	SIM_SEED_STEP,		/* the seeds: 80%/20% for 1m, ±1 per 60 s */
	SIM_AWS,		/* AWS EC2 Auto Scaling target tracking */
	SIM_HPA,		/* the Kubernetes HPA */
	SIM_AWS_REQ,		/* AWS target tracking on ALBRequestCountPerTarget */
	SIM_HPA_EXT,		/* the HPA on an External request rate, AverageValue */
	SIM_AWS_PREDICT,	/* AWS predictive scaling + aws-target-req */
	SIM_FIXED,		/* a fixed pool of simulate.fixed instances (a reference) */
	SIM_ORACLE,		/* the clairvoyant plan of sim/oracle.h (a reference) */
	SIM_NPOLICIES
};

const char *sim_policy_name(enum sim_policy p);
/* 0, or -1 when s names no policy. */
int sim_policy_parse(const char *s, enum sim_policy *p);

/* One alert pipeline: a Prometheus rule on the pool's mean CPU with a
 * `for:`, then Alertmanager's grouping timers, then the webhook. */
struct sim_alerts {
	double high, low;		/* up above high, down below low */
	int64_t for_ms;
	int64_t rule_interval_ms;	/* Prometheus evaluation_interval */
	int64_t group_wait_ms, group_interval_ms, repeat_interval_ms;
};

struct sim_cfg {
	struct ctl_cfg ctl;		/* the controller's config */

	double capacity_rps;		/* one instance at 100% of its vCPU */
	int64_t boot_ms, boot_max_ms;	/* boot uniform in [boot, boot_max] */
	int64_t health_check_ms;	/* a booting instance is ready at the first check after boot */
	int64_t drain_ms;		/* scale-in: billed this long after leaving the lb */
	int64_t scrape_ms, rate_window_ms;
	int64_t scrape_offset_ms;	/* each target's offset in the interval; -1: random per target */
	struct sim_alerts alerts;	/* for `step` */
	double slo_s, timeout_s;
	double boot_cpu;		/* CPU shown right after boot (0: none) */
	int64_t boot_cpu_ms;		/* ... for this long */
	double noise;			/* sd of noise on each CPU sample */
	uint64_t seed;
	bool warm_start;		/* start at the size the first load needs, not `initial` */
	int64_t score_ms;		/* scoring and CSV interval */
	int64_t billing_ms;		/* billing unit for charged hours */
	int64_t start_unix_s;		/* the wall time of t = 0, for the schedule */
	struct tz_db tz;		/* the schedule's zones, loaded with the file */

	int fixed;			/* the `fixed` pool's size (default: max) */
	double seed_high, seed_low;	/* seed-step's alert thresholds (0.8, 0.2) */

	/* peers */
	int64_t aws_warmup_ms, aws_scale_in_cooldown_ms;
	double aws_low_ratio;
	int64_t hpa_sync_ms, hpa_stabilization_ms;
	double hpa_tolerance;
};

/* The utilisation the config aims at, the peers' and the oracle's target
 * and the warm start's: policy.target.value, or, when the first metric is a
 * pool total, its per-instance value over capacity. */
double sim_cfg_util(const struct sim_cfg *cfg);

/* The queueing model of this world (sim/latency.h). */
struct lat_model sim_cfg_lat(const struct sim_cfg *cfg);

/* Loads file (NULL: every default, as if the file were empty). Returns the
 * number of errors, their "FILE:LINE: key: message" lines appended to
 * errors. Release with sim_cfg_fini(). */
int sim_cfg_load(const char *file, struct sim_cfg *cfg, struct buf *errors);
/* The same from text in memory; name stands for the file in messages. */
int sim_cfg_load_string(const char *name, const char *text, struct sim_cfg *cfg,
    struct buf *errors);
void sim_cfg_fini(struct sim_cfg *cfg);

#endif
