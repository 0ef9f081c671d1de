/* The offered-load schedule; see rate.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "load/rate.h"

static double seg_count(const struct rate_seg *s)
{
	return (s->r0 + s->r1) / 2 * (s->t1 - s->t0);
}

static int seg_add(struct load_rate *r, size_t *cap, double t0, double t1, double r0,
    double r1)
{
	struct rate_seg *s;

	if (t1 <= t0)
		return 0;
	if (r->nsegs == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct rate_seg *p = realloc(r->segs, ncap * sizeof(*p));

		if (p == NULL)
			return -1;
		r->segs = p;
		*cap = ncap;
	}
	s = &r->segs[r->nsegs++];
	*s = (struct rate_seg){ .t0 = t0, .t1 = t1, .r0 = r0, .r1 = r1, .n0 = r->total };
	r->total += seg_count(s);
	return 0;
}

/* Cuts the schedule at end_s (when it runs longer) and checks it holds a
 * request at least. */
static int finish(struct load_rate *r, double end_s, struct err *e)
{
	size_t i;

	for (i = 0; i < r->nsegs; i++) {
		struct rate_seg *s = &r->segs[i];

		if (s->t0 >= end_s)
			break;
		if (s->t1 > end_s) {
			s->r1 = s->r0 + (s->r1 - s->r0) * (end_s - s->t0) / (s->t1 - s->t0);
			s->t1 = end_s;
		}
	}
	r->nsegs = i;
	r->total = r->nsegs ? r->segs[i - 1].n0 + seg_count(&r->segs[i - 1]) : 0;
	r->end_s = end_s;
	if (r->total < 1) {
		load_rate_fini(r);
		return err_set(e, "the schedule has no request in it");
	}
	return 0;
}

int load_rate_constant(struct load_rate *r, double rps, double duration_s, struct err *e)
{
	size_t cap = 0;

	memset(r, 0, sizeof(*r));
	if (!(rps > 0 && rps <= RATE_MAX_RPS))
		return err_set(e, "rate %g is not in (0, %g]", rps, RATE_MAX_RPS);
	if (!(duration_s > 0))
		return err_set(e, "duration must be above 0");
	if (seg_add(r, &cap, 0, duration_s, rps, rps) == -1)
		return err_set(e, "out of memory");
	return finish(r, duration_s, e);
}

static int profile_point(const char **pp, double *t, double *rps, struct err *e)
{
	const char *p = *pp;
	char *end;

	errno = 0;
	*t = strtod(p, &end);
	if (end == p || *end != ':' || errno != 0 || !isfinite(*t) || *t < 0)
		return err_set(e, "\"%s\": expected T:R with T in seconds >= 0", p);
	p = end + 1;
	*rps = strtod(p, &end);
	if (end == p || (*end != ',' && *end != '\0') || errno != 0 || !isfinite(*rps) ||
	    *rps < 0 || *rps > RATE_MAX_RPS)
		return err_set(e, "\"%s\": expected a rate in [0, %g] req/s", *pp, RATE_MAX_RPS);
	*pp = *end == ',' ? end + 1 : end;
	return 0;
}

int load_rate_profile(struct load_rate *r, const char *spec, double duration_s,
    struct err *e)
{
	const char *p = spec;
	size_t cap = 0, npts = 0;
	double pt = 0, pr = 0, end_s;

	memset(r, 0, sizeof(*r));
	if (*p == '\0')
		return err_set(e, "empty profile");
	while (*p != '\0') {
		double t = 0, rps = 0;

		if (profile_point(&p, &t, &rps, e) == -1)
			goto fail;
		if (npts > 0 && t < pt) {
			err_set(e, "time %g comes before %g: times must not go back", t, pt);
			goto fail;
		}
		if (npts == 0) {
			pt = 0;
			pr = rps;
		}
		if (seg_add(r, &cap, pt, t, pr, rps) == -1)
			goto oom;
		pt = t;
		pr = rps;
		npts++;
	}
	end_s = duration_s > 0 ? duration_s : pt;
	if (!(end_s > 0)) {
		err_set(e, "the profile spans 0 s: give a later point or --duration");
		goto fail;
	}
	if (end_s > pt && seg_add(r, &cap, pt, end_s, pr, pr) == -1)
		goto oom;
	return finish(r, end_s, e);
oom:
	err_set(e, "out of memory");
fail:
	load_rate_fini(r);
	return -1;
}

int load_rate_trace(struct load_rate *r, const struct trace *t, double time_scale,
    double rate_scale, double duration_s, struct err *e)
{
	size_t cap = 0;
	double step;

	memset(r, 0, sizeof(*r));
	if (!(time_scale > 0) || !(rate_scale > 0))
		return err_set(e, "time and rate scales must be above 0");
	step = t->step_s / time_scale;
	for (size_t i = 0; i < t->n; i++) {
		double rps = t->requests[i] / t->step_s * rate_scale;

		if (rps > RATE_MAX_RPS) {
			load_rate_fini(r);
			return err_set(e, "row %zu asks for %g req/s, above %g", i + 1, rps,
			    RATE_MAX_RPS);
		}
		if (seg_add(r, &cap, (double)i * step, (double)(i + 1) * step, rps, rps) == -1) {
			load_rate_fini(r);
			return err_set(e, "out of memory");
		}
	}
	return finish(r, duration_s > 0 ? duration_s : (double)t->n * step, e);
}

void load_rate_fini(struct load_rate *r)
{
	free(r->segs);
	memset(r, 0, sizeof(*r));
}

/* The segment holding t, by binary search; nsegs when past the end. */
static size_t seg_find(const struct load_rate *r, double t)
{
	size_t lo = 0, hi = r->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->segs[mid].t1 <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

double load_rate_at(const struct load_rate *r, double t)
{
	size_t i;
	const struct rate_seg *s;

	if (t < 0 || t >= r->end_s)
		return 0;
	i = seg_find(r, t);
	if (i == r->nsegs || t < r->segs[i].t0)
		return 0;
	s = &r->segs[i];
	return s->r0 + (s->r1 - s->r0) * (t - s->t0) / (s->t1 - s->t0);
}

double load_rate_count(const struct load_rate *r, double t)
{
	size_t i;
	const struct rate_seg *s;
	double dt;

	if (t <= 0)
		return 0;
	if (t >= r->end_s)
		return r->total;
	i = seg_find(r, t);
	if (i == r->nsegs)
		return r->total;
	s = &r->segs[i];
	if (t <= s->t0)
		return s->n0;
	dt = t - s->t0;
	return s->n0 + s->r0 * dt + (s->r1 - s->r0) / (s->t1 - s->t0) * dt * dt / 2;
}

double load_rate_time_of(const struct load_rate *r, double n, size_t *seg)
{
	const struct rate_seg *s;
	double m, a, dt, disc;
	size_t i = *seg;

	if (n < 0)
		n = 0;
	if (n >= r->total)
		return -1;
	if (i >= r->nsegs || r->segs[i].n0 > n)
		i = 0;
	while (i + 1 < r->nsegs && r->segs[i + 1].n0 <= n)
		i++;
	*seg = i;
	s = &r->segs[i];
	m = n - s->n0;
	a = (s->r1 - s->r0) / (s->t1 - s->t0);
	/* m = r0*dt + a*dt^2/2, solved in the form that stays exact when a -> 0. */
	disc = s->r0 * s->r0 + 2 * a * m;
	if (disc < 0)
		disc = 0;
	dt = s->r0 + sqrt(disc) > 0 ? 2 * m / (s->r0 + sqrt(disc)) : 0;
	if (dt > s->t1 - s->t0)
		dt = s->t1 - s->t0;
	return s->t0 + dt;
}
