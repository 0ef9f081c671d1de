/* controller/controller.h: keeps a pool at its desired size on one event
 * loop: reconciles members against the size every interval, health-checks
 * them, replaces the dead and the failing, drains before removing, and
 * publishes RUNNING members the provider reports running (discovery/
 * publish.h) for Prometheus (file_sd) and the load balancer. The desired
 * size comes from the provider at a first start and after an outside
 * resize (controller/adopt.h).
 * With `ha:` it acts only while it leads (controller/failover.c): a
 * follower observes, health-checks and publishes, and changes nothing.
 * Not here: the HTTP API (controller/api.c), config (controller/config.h),
 * how members are made (provider/), the policies' glue
 * (controller/autoscale.c), the election (controller/ha.h). */
#ifndef POOLSCALE_CONTROLLER_H
#define POOLSCALE_CONTROLLER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/http_client.h"
#include "common/logonce.h"
#include "common/loop.h"
#include "common/net.h"
#include "common/tz.h"
#include "controller/adopt.h"
#include "controller/config.h"
#include "controller/events.h"
#include "controller/ha.h"
#include "controller/history.h"
#include "controller/prom.h"
#include "controller/webhook.h"
#include "policy/policy.h"
#include "provider/provider.h"
#include "provider/runner.h"

enum member_state {
	MEMBER_PENDING = 0,	/* exists, not yet healthy */
	MEMBER_RUNNING,		/* healthy: published */
	MEMBER_DRAINING,	/* chosen for removal: unpublished, finishing requests */
	MEMBER_STOPPING,	/* told to stop */
	MEMBER_NSTATES,
};

const char *member_state_name(enum member_state s);

struct cmember {
	char id[40];
	char address[64];
	enum member_state state;
	int64_t created_unix_s;
	int64_t seen_ms;		/* when this controller first saw it */
	int fails;			/* consecutive failed health checks */
	int64_t next_check_ms;
	bool check_running;
	int64_t drain_start_ms;
	bool drain_check_running;
	double in_flight;		/* last read while draining; -1 unknown */
	const char *remove_why;		/* set once, when the controller decides it goes */
	bool removing;			/* a remove call is queued or running */
	int remove_fails;		/* remove calls failed in a row */
	int64_t next_remove_ms;		/* no remove call before (backoff after a failure) */
	struct member prov;		/* the provider's last word on it (who is published) */
	struct net_addr app_addr, metrics_addr;
	/* Its samples in the last target decision, one per metric (status). */
	double metric_value[POLICY_MAX_METRICS];
	bool metric_known[POLICY_MAX_METRICS];
};

struct ctl_stats {
	uint64_t started, replaced, removed, reconciles;
	uint64_t provider_errors[5];	/* by op: list, set_size, remove, discovery,
					 * set_draining */
	double reconcile_seconds_sum;
	double last_reconcile_seconds;
};

/* Causes of metric errors, for poolscale_metric_errors_total{cause}. */
enum metric_cause {
	MCAUSE_CONNECT = 0, MCAUSE_TIMEOUT, MCAUSE_HTTP, MCAUSE_BAD_RESPONSE,
	MCAUSE_QUERY_ERROR, MCAUSE_EMPTY, MCAUSE_N,
};

const char *metric_cause_name(enum metric_cause c);

struct ctl_forecast;
struct ctl_round;
struct ctl_waiter;

struct ctl_autoscale {
	struct step_latch latch;	/* step: signals since the last decision */
	struct target_state *tstate;	/* target: its history */
	struct prom_client *prom;
	struct ctl_forecast *forecast;	/* NULL: no forecast (controller/forecast.c) */
	struct ctl_round *round;	/* target: the queries of the tick in progress */
	bool held;			/* the last target decision was a fail-safe hold */
	double metric;			/* last value the policy used (NaN: none) */
	double need;			/* its measured need in instances (NaN: none) */
	double metric_values[POLICY_MAX_METRICS];	/* each metric's, last decision */
	int recommendation;
	uint64_t decisions[3];		/* by enum policy_dir */
	uint64_t metric_errors[MCAUSE_N];
	uint64_t webhooks[WEBHOOK_NSOURCES][2];	/* [source][0 accepted, 1 rejected] */
	char last_reason[192];
	int64_t last_step_unix_ms;	/* the last size change a decision made */
};

/* Scheduled scaling (controller/sched.c). */
struct ctl_sched {
	struct tz_db tz;		/* the windows' zones, loaded at start */
	struct sched_state st;
	struct sched_bounds b;		/* the last evaluation: bounds and open windows */
};

struct ha_group;

struct controller {
	struct ctl_cfg *cfg;
	struct loop *loop;
	struct provider prov;
	struct prov_runner *runner;	/* provider calls run here, off the loop */
	bool list_busy;			/* a list is queued or running */
	bool grow_busy;			/* a set_size is queued or running */
	uint64_t grow_remove_errors;	/* remove errors when it was asked */
	bool listed;			/* the last list succeeded */
	int list_fails;			/* lists failed in a row */
	int64_t next_list_ms;		/* when the next list is due */
	unsigned seed;			/* backoff jitter */
	struct adopt adopt;		/* sizes taken from the provider */
	char prov_error[5][192];	/* last error by op, logged once per cause */
	bool draining_changed;		/* the provider's draining set is stale */
	int prov_min, prov_max;		/* the provider's own bounds, last listed; -1 none */
	struct http_client *hc;
	struct cmember *m;
	size_t n, cap;
	int desired;
	bool ready;			/* one reconcile done */
	struct events events;
	struct history history;		/* one point per interval (controller/history.h) */
	struct ctl_stats stats;
	char last_decision[256];
	int64_t last_decision_unix_ms;
	char *sd_last[CTL_MAX_SETS];	/* what each file holds now */
	uint64_t tick_timer, fast_timer;
	double start_unix_s;
	/* A failed list at start is not fatal: with several pools one
	 * pool's cloud must not keep the others from starting. */
	bool start_lenient;
	int lock_fd;			/* held while running: one controller per state dir */
	struct ctl_autoscale as;
	struct ctl_sched sched;
	bool stopping;
	bool publish_needed;
	/* High availability (controller/failover.c); ha NULL without it. The
	 * election and its group are shared by every pool of the process. */
	struct ha *ha;
	struct ha_group *hag;
	size_t ha_index;		/* this pool's place in hag */
	bool ha_leading;		/* the loop's view: set once the state is taken back */
	bool ha_dirty;			/* the state changed since it was handed to etcd */
	uint64_t ha_need_seq;		/* acting waits until etcd holds this state */
	uint64_t ha_written_seq;
	struct ctl_waiter *waiters;	/* API answers waiting for etcd (controller/api.c) */
	size_t nwaiters;
};

/* High availability (controller/failover.c). Without `ha:` a controller
 * always acts. With it, only while it leads with a live lease: its pools
 * share one election (started here for all of them) and lead together.
 * ctl_ha_fini detaches one; the last one stops the election. */
int ctl_ha_init(struct controller *const *pools, size_t n, const char *advertise,
    struct err *e);
void ctl_ha_fini(struct controller *c);
bool ctl_acting(const struct controller *c);
/* Whether the state the last decision needs is in etcd (always without HA). */
bool ctl_ha_durable(const struct controller *c);
/* Hands the failover state to etcd; before_acting: the next provider
 * mutation waits until it is written. A no-op unless leading. false when
 * it could not be handed over (out of memory): ha_dirty stays set. */
bool ctl_ha_save(struct controller *c, bool before_acting);
/* For controller/failover.c: a member taken back as draining since
 * since_ms (monotonic), its removal decided or not; one put back in
 * service; an event; a reconcile now. */
void ctl_member_drain(struct controller *c, struct cmember *m, int64_t since_ms, bool removing);
void ctl_member_undrain(struct controller *c, struct cmember *m);
void ctl_event(struct controller *c, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ctl_reconcile_now(struct controller *c);

/* The lock file in a state dir; whoever holds it owns the pool. */
void ctl_lock_path(const struct ctl_cfg *cfg, char *dst, size_t cap);
/* Locks the state dir, loads persisted state and the provider's members;
 * starts the timers. */
int ctl_init(struct controller *c, struct ctl_cfg *cfg, struct loop *l, struct err *e);
void ctl_fini(struct controller *c);

/* Sets the desired size (clamped by the caller to [min, max]), persists it
 * and reconciles at once. */
int ctl_set_desired(struct controller *c, int n, const char *why, struct err *e);
/* The policy's turn, after each reconcile (controller/autoscale.c). */
void ctl_autoscale_tick(struct controller *c);
int ctl_autoscale_init(struct controller *c, struct err *e);
void ctl_autoscale_fini(struct controller *c);
/* The forecaster's glue (controller/forecast.c). Init: nothing unless the
 * target policy has policy.target.forecast.enabled. */
int ctl_forecast_init(struct controller *c, struct err *e);
void ctl_forecast_fini(struct controller *c);
/* The instances the forecast says the pool needs at now + horizon (NaN:
 * none, or no forecast) and a note on why (valid until the next call);
 * starts a history load from Prometheus when one is due. */
double ctl_forecast_need(struct controller *c, const char **note);
/* The measured need of the decision just made (policy_decision.need). */
void ctl_forecast_feed(struct controller *c, double need);

struct ctl_forecast_info {
	bool enabled;
	int64_t horizon_ms;
	struct forecast_out last;	/* the last forecast; need NaN before any */
	bool history;			/* history is loaded from Prometheus */
	size_t history_points;		/* in the last load */
	uint64_t fetches_ok, fetches_failed;
	char history_error[192];	/* the last load's error; "" when it worked */
};

/* For /metrics and the status. */
void ctl_forecast_info(const struct controller *c, struct ctl_forecast_info *out);
/* Latches the signals of a webhook body. route: +1 /up, -1 /down, 0
 * /api/v1/alerts. 0, or -1 with sig->error set (answer 400). */
int ctl_webhook(struct controller *c, int route, const char *body, size_t len,
    struct webhook_signal *sig);
/* Its two halves, for a body whose alerts name several pools: signals
 * latched (and counted accepted) in c, and a rejection counted and logged. */
void ctl_webhook_latch(struct controller *c, enum webhook_source source, int up, int down);
void ctl_webhook_rejected(struct controller *c, const struct webhook_signal *sig);
/* Scheduled windows (controller/sched.c): init loads their time zones;
 * update evaluates them at now_unix_s (the loop calls it before each
 * reconcile), logs openings and closings and applies the bounds. */
int ctl_sched_init(struct controller *c, struct err *e);
void ctl_sched_fini(struct controller *c);
void ctl_sched_update(struct controller *c, int64_t now_unix_s);
/* The names of the open windows, comma-separated, into dst. */
const char *ctl_sched_active_names(const struct controller *c, char *dst, size_t cap);
/* The sizes allowed: the config's [min, max] (or an open schedule
 * window's, controller/sched.c) narrowed to the provider's
 * own bounds (an Auto Scaling group's MinSize, MaxSize); when the two do
 * not meet, the provider's win, since it refuses anything else. */
void ctl_bounds(const struct controller *c, int *min, int *max);
/* Members counted as active (pending + running). */
int ctl_active(const struct controller *c);
/* A member by id, or NULL. */
struct cmember *ctl_member(struct controller *c, const char *id);
/* The JSON list of the members published (RUNNING, and running at the
 * provider) for set NAME, or NULL for no such set. malloc'd. */
char *ctl_sd_json(struct controller *c, const char *set);

#endif
