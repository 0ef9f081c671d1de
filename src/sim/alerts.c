/* Prometheus rule + Alertmanager timers; see alerts.h. */
#include <math.h>

#include "sim/alerts.h"

void alerts_init(struct alerts_state *st)
{
	for (int i = 0; i < ALERT_N; i++)
		st->a[i] = (struct sim_alert){ .last_sent_ms = -1, .next_flush_ms = -1 };
}

static void eval_one(const struct sim_alerts *cfg, struct sim_alert *a, bool cond,
    int64_t now)
{
	if (!cond) {
		/* Inactive: a firing alert is resolved; Alertmanager drops the
		 * group at its next flush. */
		a->pending = a->firing = false;
		return;
	}
	if (!a->pending && !a->firing) {
		a->pending = true;
		a->active_since_ms = now;
	}
	if (a->pending && now - a->active_since_ms >= cfg->for_ms) {
		a->pending = false;
		a->firing = true;
		if (!a->grouped) {
			a->grouped = true;
			a->last_sent_ms = -1;
			a->next_flush_ms = now + cfg->group_wait_ms;
		}
		a->changed = true;
	}
}

void alerts_eval(const struct sim_alerts *cfg, struct alerts_state *st, double mean,
    int64_t now_ms)
{
	bool data = !isnan(mean);

	eval_one(cfg, &st->a[ALERT_UP], data && mean > cfg->high, now_ms);
	eval_one(cfg, &st->a[ALERT_DOWN], data && mean < cfg->low, now_ms);
}

bool alerts_flush(const struct sim_alerts *cfg, struct alerts_state *st, int i,
    int64_t now_ms)
{
	struct sim_alert *a = &st->a[i];
	bool send = false;

	if (!a->grouped || a->next_flush_ms != now_ms)
		return false;
	if (!a->firing) {
		a->grouped = false;
		a->next_flush_ms = -1;
		return false;
	}
	if (a->changed || a->last_sent_ms < 0 ||
	    now_ms - a->last_sent_ms >= cfg->repeat_interval_ms) {
		send = true;
		a->last_sent_ms = now_ms;
		a->changed = false;
	}
	a->next_flush_ms = now_ms + cfg->group_interval_ms;
	return send;
}
