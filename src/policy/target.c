#include "policy/target.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void policy_target_init(struct target_state *st)
{
	st->nrecs = 0;
	st->nchanges = 0;
}

static void push(struct target_point *v, size_t *n, int64_t at, int value)
{
	if (*n == TARGET_HISTORY) {
		memmove(v, v + 1, (TARGET_HISTORY - 1) * sizeof(*v));
		(*n)--;
	}
	v[(*n)++] = (struct target_point){ at, value };
}

/* Drops points older than window; a window of 0 keeps nothing. */
static void prune(struct target_point *v, size_t *n, int64_t now, int64_t window)
{
	size_t i = 0;

	while (i < *n && v[i].at_ms <= now - window)
		i++;
	memmove(v, v + i, (*n - i) * sizeof(*v));
	*n -= i;
}

/* Appends to the string in dst, cut at cap: a reason may be truncated. */
static void appendf(char *dst, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void appendf(char *dst, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(dst);
	va_list ap;

	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(dst + n, cap - n, fmt, ap);
	va_end(ap);
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* What one metric says. */
struct mres {
	bool known;		/* it gave a recommendation */
	bool all_warming;	/* not known only because every member warms up */
	const char *why;	/* not known: why */
	double value;		/* the mean (average) or the pool's total */
	double backlog;		/* instances added for the backlog */
	double need;		/* the load in instances at the target */
	double measured;	/* need without the fill-in for silent members */
	int rec;
	bool within;		/* inside the tolerance: rec is the current size */
	int ready, missing, warming;
};

static struct target_metric metric_def(const struct target_cfg *cfg, size_t i)
{
	if (cfg->nmetrics == 0)
		return (struct target_metric){ POLICY_METRIC_AVERAGE, cfg->target };
	return cfg->metrics[i];
}

/* The mean over the ready members, with HPA's fill-in for members without
 * a sample; warming members are capacity on its way, not load. */
static void eval_average(const struct target_cfg *cfg, double value,
    const struct policy_metric_obs *mo, int cur, struct mres *r)
{
	double sum = 0, ratio;
	int with = 0;

	for (size_t i = 0; i < mo->nsamples; i++) {
		const struct policy_sample *s = &mo->samples[i];

		if (s->warming) {
			r->warming++;
			continue;
		}
		r->ready++;
		if (s->has_value && isfinite(s->value)) {
			sum += s->value;
			with++;
		} else {
			r->missing++;
		}
	}
	if (with == 0) {
		r->all_warming = r->ready == 0 && r->warming > 0;
		r->why = r->all_warming ? "every member is warming up" : "no member reported a value";
		return;
	}
	r->value = sum / with;
	ratio = r->value / value;
	r->measured = (double)r->ready * ratio;
	if (r->missing > 0) {
		/* Scaling out, a silent member may be idle (0); scaling in, it may
		 * be busy (at target): the assumption that moves the pool less. */
		sum += ratio > 1 ? 0 : value * r->missing;
		r->value = sum / r->ready;
		ratio = r->value / value;
	}
	r->known = true;
	r->need = (double)r->ready * ratio;
	/* Against the whole pool too: a load the pool (warming members
	 * included) carries within the tolerance changes nothing. */
	r->within = fabs(1 - ratio) <= cfg->tolerance ||
	    (cur > 0 && fabs(1 - r->need / cur) <= cfg->tolerance);
}

/* The pool's total over every member that counts, warming ones included:
 * what reaches a member that is still warming up is demand all the same. */
static void eval_total(const struct target_cfg *cfg, double value,
    const struct policy_metric_obs *mo, int cur, double backlog, struct mres *r)
{
	double sum = 0;
	int with = 0;

	for (size_t i = 0; i < mo->nsamples; i++) {
		const struct policy_sample *s = &mo->samples[i];

		r->warming += s->warming;
		r->ready += !s->warming;
		if (s->has_value && isfinite(s->value)) {
			sum += s->value > 0 ? s->value : 0;
			with++;
		} else {
			r->missing++;
		}
	}
	/* An empty pool (none wanted, none left) reports nothing because it
	 * has nothing to report: its total is 0, known, and the backlog (the
	 * requests a balancer holds for it) can start its first member. A
	 * pool that wants members and hears from none stays unknown. */
	if (with == 0 && !(cur == 0 && mo->nsamples == 0)) {
		r->all_warming = r->ready == 0 && r->warming > 0;
		r->why = r->all_warming ? "every member is warming up" : "no member reported a value";
		return;
	}
	r->known = true;
	r->value = sum;
	r->need = sum / value;
	if (backlog > 0) {
		r->backlog = backlog / (value * (double)cfg->backlog_drain_ms / 1000.0);
		r->need += r->backlog;
	}
	r->measured = r->need;
	/* A silent member: 0 scaling out, one instance's worth scaling in
	 * (HPA's conservative fill-in); never enough to turn the direction,
	 * so it comes after the backlog, which is part of the direction. */
	if (r->missing > 0 && r->need < cur)
		r->need = fmin((double)cur, r->need + r->missing);
	r->within = cur > 0 && fabs(1 - r->need / cur) <= cfg->tolerance;
}

/* Evaluates every metric into r; returns how many are known and sets *best
 * to the one with the largest recommendation. */
static size_t eval_metrics(const struct target_cfg *cfg, const struct policy_obs *obs,
    struct mres *r, size_t nm, size_t *best)
{
	bool backlog_used = false;
	size_t known = 0;

	*best = 0;
	for (size_t i = 0; i < nm; i++) {
		struct target_metric def = metric_def(cfg, i);
		const struct policy_metric_obs *mo = i < obs->nmetrics ? &obs->metrics[i] : NULL;

		memset(&r[i], 0, sizeof(r[i]));
		r[i].value = r[i].need = NAN;
		if (mo == NULL || !mo->ok) {
			r[i].why = mo && mo->error ? mo->error : "no metrics";
			continue;
		}
		if (def.kind == POLICY_METRIC_TOTAL) {
			/* The backlog goes to the first total metric: the request
			 * rate one instance serves at the target drains it. */
			double b = !backlog_used && cfg->backlog_drain_ms > 0 &&
			    isfinite(obs->backlog) ? obs->backlog : 0;

			backlog_used = true;
			eval_total(cfg, def.value, mo, obs->current, b, &r[i]);
		} else {
			eval_average(cfg, def.value, mo, obs->current, &r[i]);
		}
		if (!r[i].known)
			continue;
		r[i].rec = r[i].within ? obs->current : (int)ceil(r[i].need - 1e-9);
		if (r[i].rec < 0)
			r[i].rec = 0;
		if (known == 0 || r[i].rec > r[*best].rec)
			*best = i;
		known++;
	}
	return known;
}

/* "mean 0.610 vs 0.500 over 4 ready (0 missing, 0 warming)" or "total
 * 250.0 vs 50.000 per instance over 5 (1 missing) + 0.40 backlog". */
static void describe(const struct target_cfg *cfg, size_t i, const struct mres *r, char *dst,
    size_t cap)
{
	struct target_metric def = metric_def(cfg, i);

	if (def.kind == POLICY_METRIC_TOTAL)
		snprintf(dst, cap, "total %.1f vs %.3f per instance over %d (%d missing)%s",
		    r->value, def.value, r->ready + r->warming, r->missing,
		    r->backlog > 0 ? " + backlog" : "");
	else
		snprintf(dst, cap, "mean %.3f vs target %.3f over %d ready (%d missing, %d warming)",
		    r->value, def.value, r->ready, r->missing, r->warming);
	if (r->backlog > 0) {
		size_t n = strlen(dst);

		snprintf(dst + n, cap - n, " %.2f", r->backlog);
	}
}

void policy_target_decide(const struct target_cfg *cfg, struct target_state *st,
    const struct policy_obs *obs, int64_t now_ms, struct policy_decision *out)
{
	struct mres r[POLICY_MAX_METRICS];
	size_t nm = cfg->nmetrics ? cfg->nmetrics : 1, best, known, unknown;
	int cur = obs->current, rec, want, warming = 0;
	bool within;
	char why[96] = "", what[112];

	if (nm > POLICY_MAX_METRICS)
		nm = POLICY_MAX_METRICS;
	out->held = false;
	out->metric = NAN;
	out->need = NAN;
	prune(st->recs, &st->nrecs, now_ms, cfg->stabilization_ms);
	prune(st->changes, &st->nchanges, now_ms, max64(cfg->up_period_ms, cfg->down_period_ms));
	known = eval_metrics(cfg, obs, r, nm, &best);
	unknown = nm - known;
	for (size_t i = 0; i < POLICY_MAX_METRICS; i++)
		out->metric_values[i] = i < nm && r[i].known ? r[i].value : NAN;
	if (known == 0) {
		/* Fail-safe: empty is never zero. Only the bounds may move us. */
		bool all_warming = true;

		for (size_t i = 0; i < nm; i++)
			all_warming = all_warming && r[i].all_warming;
		want = cur < obs->min ? obs->min : cur > obs->max ? obs->max : cur;
		out->desired = out->recommendation = want;
		out->dir = want > cur ? POLICY_UP : want < cur ? POLICY_DOWN : POLICY_HOLD;
		out->held = !all_warming;
		snprintf(out->reason, sizeof(out->reason), "hold at %d: %s", want, r[0].why);
		return;
	}
	out->metric = r[best].value;
	out->need = r[best].measured;
	for (size_t i = 0; i < nm; i++) {
		if (r[i].known && r[i].measured > out->need)
			out->need = r[i].measured;
		if (r[i].known && r[i].warming > warming)
			warming = r[i].warming;
	}
	rec = r[best].rec;
	within = true;
	for (size_t i = 0; i < nm; i++)
		within = within && (!r[i].known || (r[i].within && r[i].rec == cur));
	if (unknown > 0 && rec < cur) {
		/* HPA: no scale-in while any metric is invalid; the one missing
		 * may be the one that holds the pool up. */
		rec = cur;
		snprintf(why, sizeof(why), ", scale-in waits for %zu failed metric%s", unknown,
		    unknown > 1 ? "s" : "");
	}
	out->recommendation = rec;
	push(st->recs, &st->nrecs, now_ms, rec);
	want = rec;
	if (want < cur) {
		/* Scale in only as far as the highest recommendation in the window,
		 * and not while members warm up (their load is not seen yet). */
		for (size_t i = 0; i < st->nrecs; i++)
			if (st->recs[i].value > want)
				want = st->recs[i].value;
		if (want > cur)
			want = cur;
		if (warming > 0 && want < cur) {
			want = cur;
			snprintf(why, sizeof(why), ", scale-in waits for %d warming", warming);
		} else if (want > rec) {
			snprintf(why, sizeof(why), ", stabilized at %d", want);
		}
	}
	if (isfinite(obs->forecast_need) && obs->forecast_need > 0) {
		/* The forecast only adds: it scales out when it asks for more than
		 * the pool has (outside the tolerance, as a measured load would),
		 * and a scale-in stops at its level (or the pool would shrink
		 * below it only to grow back next tick). It is not in the window. */
		double fn = obs->forecast_need;
		int f = fn < 1e6 ? (int)ceil(fn - 1e-9) : 1000000;
		const char *note = obs->forecast_note ? obs->forecast_note : "";

		if (f > want && f > cur && fn > cur * (1 + cfg->tolerance)) {
			want = f;
			within = false;
			snprintf(why, sizeof(why), ", forecast %.2f%s%s", fn, *note ? ": " : "", note);
		} else if (want < cur && f > want) {
			/* within the tolerance of the pool, as for a measured load:
			 * the pool it asked for is not trimmed by its next wobble */
			want = fn >= cur * (1 - cfg->tolerance) ? cur : f < cur ? f : cur;
			snprintf(why, sizeof(why), ", forecast holds %d%s%s", want, *note ? ": " : "",
			    note);
		}
	}
	if (want > cur && cfg->up_limit > 0) {
		int added = 0;

		for (size_t i = 0; i < st->nchanges; i++)
			if (st->changes[i].value > 0 && st->changes[i].at_ms > now_ms - cfg->up_period_ms)
				added += st->changes[i].value;
		if (want > cur + cfg->up_limit - added) {
			want = cur + cfg->up_limit - added;
			if (want < cur)
				want = cur;
			snprintf(why, sizeof(why), ", limited to +%d per %llds", cfg->up_limit,
			    (long long)(cfg->up_period_ms / 1000));
		}
	}
	if (want < cur && cfg->down_limit > 0) {
		int removed = 0;

		for (size_t i = 0; i < st->nchanges; i++)
			if (st->changes[i].value < 0 &&
			    st->changes[i].at_ms > now_ms - cfg->down_period_ms)
				removed -= st->changes[i].value;
		if (want < cur - (cfg->down_limit - removed)) {
			want = cur - (cfg->down_limit - removed);
			if (want > cur)
				want = cur;
			snprintf(why, sizeof(why), ", limited to -%d per %llds", cfg->down_limit,
			    (long long)(cfg->down_period_ms / 1000));
		}
	}
	if (want > obs->max)
		want = obs->max;
	if (want < obs->min)
		want = obs->min;
	if (want != cur)
		push(st->changes, &st->nchanges, now_ms, want - cur);
	out->desired = want;
	out->dir = want > cur ? POLICY_UP : want < cur ? POLICY_DOWN : POLICY_HOLD;
	describe(cfg, best, &r[best], what, sizeof(what));
	out->reason[0] = '\0';
	if (nm > 1)
		appendf(out->reason, sizeof(out->reason), "metric %zu of %zu (%zu known): ",
		    best + 1, nm, known);
	appendf(out->reason, sizeof(out->reason), "%s: %d -> %d%s", what, cur, want,
	    within && rec == cur && want == cur ? " (within tolerance)" : why);
}
