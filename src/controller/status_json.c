/* What GET /api/v1/pools/NAME/status says of one pool: bounds, members,
 * the last decision, the policy's view, schedule windows and HA. */
#include "controller/api.h"

#include <jansson.h>
#include <math.h>

#include "common/clock.h"

/* Its samples in the last target decision, one per metric (null: none);
 * empty for the step policy, which reads no metric. */
static json_t *member_metrics_json(const struct controller *c, const struct cmember *m)
{
	json_t *a = json_array();

	if (c->cfg->policy != CTL_POLICY_TARGET)
		return a;
	for (size_t j = 0; j < c->cfg->target.nmetrics && j < POLICY_MAX_METRICS; j++)
		json_array_append_new(a, m->metric_known[j] ? json_real(m->metric_value[j]) :
		    json_null());
	return a;
}

static json_t *member_json(const struct controller *c, const struct cmember *m)
{
	int64_t now = clock_wall_unix_ms() / 1000;

	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:o}", "id", m->id,
	    "address", m->address, "state", member_state_name(m->state),
	    "created", (json_int_t)m->created_unix_s,
	    "age_s", (json_int_t)(now - m->created_unix_s), "health_fails", m->fails,
	    "metrics", member_metrics_json(c, m));
}

/* Each window: its settings, whether it is open and since when. */
static json_t *schedule_json(const struct controller *c)
{
	json_t *a = json_array();

	for (int i = 0; i < c->cfg->nschedule; i++) {
		const struct sched_entry *s = &c->cfg->schedule[i];
		bool open = c->sched.b.active >> i & 1;

		json_array_append_new(a, json_pack("{s:s, s:b, s:o, s:o, s:o, s:s}",
		    "name", s->name, "active", open,
		    "since", open ? json_integer(c->sched.b.since_s[i]) : json_null(),
		    "min", s->min >= 0 ? json_integer(s->min) : json_null(),
		    "max", s->max >= 0 ? json_integer(s->max) : json_null(),
		    "timezone", s->zone[0] ? s->zone : "UTC"));
	}
	return a;
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* The forecast in the status: null when off. */
static json_t *forecast_json(const struct controller *c)
{
	struct ctl_forecast_info fi;

	ctl_forecast_info(c, &fi);
	if (!fi.enabled)
		return json_null();
	return json_pack("{s:o, s:o, s:f, s:s, s:s, s:s, s:f, s:b, s:I, s:s}",
	    "need", num_or_null(fi.last.need), "level", num_or_null(fi.last.level),
	    "horizon_s", (double)fi.horizon_ms / 1000, "basis", forecast_basis_name(fi.last.basis),
	    "season", forecast_season_name(fi.last.season), "note", fi.last.note,
	    "history_hours", fi.last.history_s / 3600, "history_from_prometheus", fi.history,
	    "history_points", (json_int_t)fi.history_points, "history_error", fi.history_error);
}

/* The target policy's metrics, in the order of each member's "metrics":
 * kind, target value and the value the last decision measured (mean or
 * total); empty for the step policy. */
static json_t *policy_metrics_json(const struct controller *c)
{
	json_t *a = json_array();

	if (c->cfg->policy != CTL_POLICY_TARGET)
		return a;
	for (size_t j = 0; j < c->cfg->target.nmetrics && j < POLICY_MAX_METRICS; j++) {
		const struct target_metric *t = &c->cfg->target.metrics[j];

		json_array_append_new(a, json_pack("{s:s, s:f, s:o}", "kind",
		    t->kind == POLICY_METRIC_TOTAL ? "total" : "average", "target", t->value,
		    "value", num_or_null(c->as.metric_values[j])));
	}
	return a;
}

/* HA's part of the status: null without `ha:`. */
static json_t *ha_json(struct controller *c)
{
	struct ha_info hi;

	if (c->ha == NULL)
		return json_null();
	ha_info(c->ha, &hi);
	return json_pack("{s:b, s:s, s:s, s:s, s:f, s:I, s:b, s:s}", "leader",
	    hi.leader && ctl_acting(c), "name", hi.name, "leader_name", hi.leader_name,
	    "leader_url", hi.leader_url, "lease_seconds_left", hi.lease_seconds_left,
	    "leader_changes", (json_int_t)hi.leader_changes, "etcd_ok", hi.etcd_ok,
	    "etcd_error", hi.etcd_error);
}

json_t *ctl_status_json(struct controller *c)
{
	json_t *members = json_array(), *v;
	int min, max;

	ctl_bounds(c, &min, &max);
	for (size_t i = 0; i < c->n; i++)
		json_array_append_new(members, member_json(c, &c->m[i]));
	v = json_pack("{s:s, s:s, s:i, s:i, s:i, s:b, s:o, s:{s:s, s:f}, s:{s:s, s:s, s:o, s:o, "
	    "s:o, s:b, s:o}}",
	    "pool", c->cfg->pool, "provider", c->cfg->provider, "min", min,
	    "max", max, "desired", c->desired, "dry_run", c->cfg->dry_run,
	    "members", members, "last_decision", "reason", c->last_decision,
	    "time", (double)c->last_decision_unix_ms / 1000.0,
	    "policy", "kind", ctl_policy_name(c->cfg->policy), "reason", c->as.last_reason,
	    "metric", num_or_null(c->as.metric), "need", num_or_null(c->as.need),
	    "target", c->cfg->policy == CTL_POLICY_TARGET ?
	    num_or_null(c->cfg->target.metrics[0].value) : json_null(),
	    "holding", c->as.held, "forecast", forecast_json(c));
	json_object_set_new(v, "schedule", schedule_json(c));
	json_object_set_new(json_object_get(v, "policy"), "metrics", policy_metrics_json(c));
	json_object_set_new(v, "ha", ha_json(c));
	return v;
}

