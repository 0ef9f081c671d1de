/* sim/alerts.h: the seeds' alert path, as a state machine on simulated
 * time: a Prometheus alerting rule on the pool's mean CPU (`> high` for up,
 * `< low` for down) that turns pending when its condition first holds and
 * fires once it has held for `for:` at a rule evaluation, then
 * Alertmanager: a new firing alert's group is flushed after group_wait, and
 * every group_interval after; a flush sends the webhook when the alert is
 * new or repeat_interval has passed since it was last sent. A resolved
 * alert's group goes away at its next flush. Pure. Not here: the mean
 * (sim/pool.h), what the webhook does (policy/step.h). */
#ifndef POOLSCALE_SIM_ALERTS_H
#define POOLSCALE_SIM_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/config.h"

enum { ALERT_UP = 0, ALERT_DOWN = 1, ALERT_N };

struct sim_alert {
	bool pending, firing;
	int64_t active_since_ms;
	/* Alertmanager's group for this alert */
	bool grouped, changed;
	int64_t last_sent_ms;		/* -1: never sent */
	int64_t next_flush_ms;		/* -1: no flush due */
};

struct alerts_state {
	struct sim_alert a[ALERT_N];
};

void alerts_init(struct alerts_state *st);
/* A rule evaluation at now with the pool's mean CPU (NaN: the query gave
 * nothing, so both alerts are inactive). When an alert starts a group,
 * its first flush is due at a[i].next_flush_ms: the caller schedules it. */
void alerts_eval(const struct sim_alerts *cfg, struct alerts_state *st, double mean,
    int64_t now_ms);
/* Alertmanager's flush of alert i's group at now (a flush not due now is
 * ignored). true when the webhook goes out. Afterwards next_flush_ms is the
 * next flush, or -1 when the group is gone. */
bool alerts_flush(const struct sim_alerts *cfg, struct alerts_state *st, int i,
    int64_t now_ms);

#endif
