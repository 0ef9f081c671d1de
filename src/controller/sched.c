/* The controller's side of scheduled scaling (policy/schedule.h): loads the
 * windows' time zones at start, evaluates the windows on the loop before
 * each reconcile, keeps the bounds ctl_bounds() returns, logs each window
 * once when it opens and once when it closes, and moves a desired size the
 * new bounds leave outside to the nearest bound at once, as an Auto Scaling
 * group does when a scheduled action changes its MinSize or MaxSize. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "controller/controller.h"

static void sched_event(struct controller *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sched_event(struct controller *c, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	events_add(&c->events, clock_wall_unix_ms(), "schedule", "%s", msg);
	log_msg(LOG_INFO, msg, "event=schedule pool=%s", c->cfg->pool);
}

int ctl_sched_init(struct controller *c, struct err *e)
{
	c->sched.b.min = c->cfg->min;
	c->sched.b.max = c->cfg->max;
	for (int i = 0; i < c->cfg->nschedule; i++)
		if (tz_db_add(&c->sched.tz, c->cfg->schedule[i].zone, e) == -1)
			return -1;
	ctl_sched_update(c, clock_wall_unix_ms() / 1000);
	return 0;
}

void ctl_sched_fini(struct controller *c)
{
	tz_db_fini(&c->sched.tz);
}

void ctl_sched_update(struct controller *c, int64_t now_unix_s)
{
	const struct ctl_cfg *cfg = c->cfg;
	struct sched_clock clk = { tz_db_offset_s, &c->sched.tz };
	struct sched_bounds b;
	uint32_t was;
	int min, max, want;
	struct err e;

	if (cfg->nschedule == 0)
		return;
	was = c->sched.b.active;
	sched_bounds(cfg->schedule, (size_t)cfg->nschedule, &c->sched.st, now_unix_s, &clk,
	    cfg->min, cfg->max, &b);
	c->sched.b = b;
	for (int i = 0; i < cfg->nschedule; i++) {
		const struct sched_entry *s = &cfg->schedule[i];
		uint32_t bit = 1u << i;

		if ((b.active & bit) && !(was & bit)) {
			char set[48];

			if (s->min >= 0 && s->max >= 0)
				snprintf(set, sizeof(set), "min %d, max %d", s->min, s->max);
			else
				snprintf(set, sizeof(set), "%s %d", s->min >= 0 ? "min" : "max",
				    s->min >= 0 ? s->min : s->max);
			sched_event(c, "schedule window %s opened (%s): bounds now [%d, %d]",
			    s->name, set, b.min, b.max);
		}
		else if (!(b.active & bit) && (was & bit))
			sched_event(c, "schedule window %s closed: bounds now [%d, %d]", s->name,
			    b.min, b.max);
	}
	if (!c->ready)
		return;		/* before the first reconcile, adoption takes the bounds */
	ctl_bounds(c, &min, &max);
	if (c->desired >= min && c->desired <= max)
		return;
	want = c->desired < min ? min : max;
	if (cfg->dry_run) {
		if (b.active == was)
			return;		/* said once, when the window changed */
		log_msg(LOG_INFO, "dry run: the schedule would resize",
		    "pool=%s from=%d to=%d min=%d "
		    "max=%d", c->cfg->pool, c->desired, want, min, max);
		return;
	}
	if (ctl_set_desired(c, want, "schedule bounds", &e) == -1)
		log_msg(LOG_ERROR, "could not apply the schedule's bounds", "pool=%s error=%s",
		    c->cfg->pool, e.msg);
}

const char *ctl_sched_active_names(const struct controller *c, char *dst, size_t cap)
{
	size_t n = 0;

	dst[0] = '\0';
	for (int i = 0; i < c->cfg->nschedule && n < cap; i++)
		if (c->sched.b.active >> i & 1)
			n += (size_t)snprintf(dst + n, cap - n, "%s%s", n ? "," : "",
			    c->cfg->schedule[i].name);
	return dst;
}
