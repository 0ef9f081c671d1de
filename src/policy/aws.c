#include "policy/aws.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void policy_aws_defaults(struct aws_cfg *cfg, double target)
{
	*cfg = (struct aws_cfg){
		.target = target,
		.low_ratio = 0.9,	/* "more than 10 % lower" (Application Auto Scaling) */
		.high_points = 3,
		.low_points = 15,
		.scale_in_cooldown_ms = 300000,
		.disable_scale_in = false,
	};
}

void policy_aws_init(struct aws_state *st)
{
	st->npoints = 0;
	st->scale_in_block_until_ms = INT64_MIN;
}

static void push_point(struct aws_state *st, double v)
{
	if (st->npoints == AWS_MAX_POINTS) {
		memmove(st->points, st->points + 1, (AWS_MAX_POINTS - 1) * sizeof(st->points[0]));
		st->npoints--;
	}
	st->points[st->npoints++] = v;
}

/* One alarm over the newest `want` datapoints. */
struct alarm {
	int want;		/* datapoints the alarm needs */
	int seen;		/* of them collected so far (fewer at start) */
	int nodata;		/* of them NO DATA */
	int breach;		/* of them present and beyond the threshold */
};

static struct alarm alarm_eval(const struct aws_state *st, int want, double threshold,
    bool above)
{
	struct alarm a = { .want = want < 1 ? 1 : want > AWS_MAX_POINTS ? AWS_MAX_POINTS : want };

	a.seen = (size_t)a.want < st->npoints ? a.want : (int)st->npoints;
	for (size_t i = st->npoints - (size_t)a.seen; i < st->npoints; i++) {
		double v = st->points[i];

		if (isnan(v))
			a.nodata++;
		else if (above ? v > threshold : v < threshold)
			a.breach++;
	}
	return a;
}

/* In ALARM: every datapoint of the window is there and breaches. */
static bool alarm_fires(const struct alarm *a)
{
	return a->breach == a->want;
}

/* INSUFFICIENT_DATA where it matters: a datapoint is missing and every one
 * present breaches, so the missing data alone keeps the alarm quiet. */
static bool alarm_starved(const struct alarm *a)
{
	return a->nodata > 0 && a->breach == a->seen - a->nodata;
}

void policy_aws_decide(const struct aws_cfg *cfg, struct aws_state *st,
    const struct policy_obs *obs, int64_t now_ms, struct policy_decision *out)
{
	int cur = obs->current, counted = 0, warming = 0, silent = 0, want, rec;
	double sum = 0, point, low = cfg->low_ratio * cfg->target;
	struct alarm high, lo;
	bool acted = false;
	const char *fired = NULL, *blocked = NULL;

	for (size_t i = 0; i < obs->metrics[0].nsamples; i++) {
		const struct policy_sample *s = &obs->metrics[0].samples[i];

		if (s->warming) {
			warming++;
		} else if (obs->metrics[0].ok && s->has_value && isfinite(s->value)) {
			sum += s->value;
			counted++;
		} else {
			silent++;
		}
	}
	point = counted > 0 ? sum / counted : NAN;
	push_point(st, point);
	high = alarm_eval(st, cfg->high_points, cfg->target, true);
	lo = alarm_eval(st, cfg->low_points, low, false);

	/* The bounds hold whatever the alarms say. */
	want = cur < obs->min ? obs->min : cur > obs->max ? obs->max : cur;
	rec = cur;
	if (alarm_fires(&high)) {
		/* Members that did not produce the metric still are capacity: AWS
		 * counts warming instances toward the next scale-out. */
		int need = (int)ceil(counted * (point / cfg->target) - 1e-9) + warming + silent;

		fired = "high";
		rec = need;
		if (need > obs->max)
			need = obs->max;
		if (need > want) {
			want = need;
			acted = true;
			/* A scale-out ends the scale-in cooldown (Application Auto
			 * Scaling target tracking). */
			st->scale_in_block_until_ms = INT64_MIN;
		}
	}
	if (!acted && alarm_fires(&lo)) {
		int need = (int)floor(counted * (point / cfg->target) + 1e-9);

		fired = "low";
		rec = need;
		if (need < obs->min)
			need = obs->min;
		if (cfg->disable_scale_in)
			blocked = "disabled";
		else if (warming + silent > 0)
			blocked = "warming";
		else if (now_ms < st->scale_in_block_until_ms)
			blocked = "cooldown";
		else if (need < want) {
			want = need;
			acted = true;
			st->scale_in_block_until_ms = now_ms + cfg->scale_in_cooldown_ms;
		}
	}
	out->desired = want;
	out->recommendation = rec;
	out->metric = point;
	out->dir = want > cur ? POLICY_UP : want < cur ? POLICY_DOWN : POLICY_HOLD;
	out->held = !acted && (isnan(point) || alarm_starved(&high) ||
	    (!cfg->disable_scale_in && alarm_starved(&lo)));
	if (isnan(point))
		snprintf(out->reason, sizeof(out->reason),
		    "NO DATA this minute (%s; %d warming, %d silent), INSUFFICIENT_DATA: %d -> %d",
		    !obs->metrics[0].ok ? (obs->metrics[0].error ? obs->metrics[0].error : "no metrics") :
		    "no counted member reported", warming, silent, cur, want);
	else if (fired == NULL)
		snprintf(out->reason, sizeof(out->reason),
		    "mean %.3f over %d counted (%d warming, %d silent), no alarm "
		    "(high %d/%d, low %d/%d)%s: %d -> %d", point, counted, warming, silent,
		    high.breach, high.want, lo.breach, lo.want,
		    out->held ? ", INSUFFICIENT_DATA" : "", cur, want);
	else if (fired[0] == 'h')
		snprintf(out->reason, sizeof(out->reason),
		    "mean %.3f over %d counted, AlarmHigh %d/%d > %.3f: ceil(%d x %.3f) + %d "
		    "warming/silent = %d: %d -> %d", point, counted, high.breach, high.want,
		    cfg->target, counted, point / cfg->target, warming + silent, rec, cur, want);
	else
		snprintf(out->reason, sizeof(out->reason),
		    "mean %.3f over %d counted (%d warming, %d silent), AlarmLow %d/%d < %.3f: "
		    "floor(%d x %.3f) = %d%s%s: %d -> %d", point, counted, warming, silent,
		    lo.breach, lo.want, low, counted, point / cfg->target, rec,
		    blocked ? ", scale-in blocked: " : "", blocked ? blocked : "", cur, want);
}
