/* The clairvoyant plan; see oracle.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/oracle.h"

/* The instances needed over [a_ms, b_ms). */
struct run {
	int64_t a_ms, b_ms;
	int n;
};

struct runs {
	struct run *r;
	size_t n, cap;
};

static int need(double rps, double per, int min, int max)
{
	double n = ceil(rps / per - 1e-9);

	return n < min ? min : n > max ? max : (int)n;
}

/* Appends [a, b) at n, merged into the last run when it continues it. */
static int run_add(struct runs *rs, int64_t a, int64_t b, int n)
{
	if (b <= a)
		return 0;
	if (rs->n > 0 && rs->r[rs->n - 1].n == n && rs->r[rs->n - 1].b_ms == a) {
		rs->r[rs->n - 1].b_ms = b;
		return 0;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct run *p = realloc(rs->r, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		rs->r = p;
		rs->cap = cap;
	}
	rs->r[rs->n++] = (struct run){ a, b, n };
	return 0;
}

/* n(t) over [0, end_ms) as runs, contiguous. */
static int needs(struct runs *rs, const struct load_rate *load, double per, int min, int max,
    int64_t end_ms)
{
	int64_t t = 0;
	int idle = need(0, per, min, max);

	for (size_t i = 0; i < load->nsegs && t < end_ms; i++) {
		const struct rate_seg *s = &load->segs[i];
		int64_t a = llround(s->t0 * 1000), b = llround(s->t1 * 1000);

		if (b > end_ms)
			b = end_ms;
		if (a > t && run_add(rs, t, a < end_ms ? a : end_ms, idle) == -1)
			return -1;
		if (a < t)
			a = t;
		if (s->r0 == s->r1) {
			if (run_add(rs, a, b, need(s->r0, per, min, max)) == -1)
				return -1;
		} else {
			/* a ramp: per second, at its higher end */
			for (int64_t x = a; x < b; x += 1000) {
				int64_t y = x + 1000 < b ? x + 1000 : b;
				double ra = s->r0 + (s->r1 - s->r0) * ((double)x / 1000 - s->t0) /
				    (s->t1 - s->t0);
				double rb = s->r0 + (s->r1 - s->r0) * ((double)y / 1000 - s->t0) /
				    (s->t1 - s->t0);

				if (run_add(rs, x, y, need(fmax(ra, rb), per, min, max)) == -1)
					return -1;
			}
		}
		if (b > t)
			t = b;
	}
	return run_add(rs, t, end_ms, idle);
}

static int plan_add(struct oracle_plan *p, int64_t at, int desired)
{
	if (p->n > 0 && p->desired[p->n - 1] == desired)
		return 0;
	if (p->n > 0 && p->at_ms[p->n - 1] == at) {
		p->desired[p->n - 1] = desired;
		if (p->n > 1 && p->desired[p->n - 2] == desired)
			p->n--;
		return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		int64_t *a = realloc(p->at_ms, cap * sizeof(*a));
		int *d;

		if (a == NULL)
			return -1;
		p->at_ms = a;
		d = realloc(p->desired, cap * sizeof(*d));
		if (d == NULL)
			return -1;
		p->desired = d;
		p->cap = cap;
	}
	p->at_ms[p->n] = at;
	p->desired[p->n++] = desired;
	return 0;
}

int oracle_plan(struct oracle_plan *p, const struct load_rate *load, const struct lat_model *m,
    double util, int min, int max, int64_t lead_ms, int64_t end_ms)
{
	struct runs rs = { 0 };
	size_t *dq = NULL, head = 0, tail = 0, next = 0;
	int64_t t = 0;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (needs(&rs, load, m->mu * util, min, max, end_ms) == -1)
		goto out;
	/* desired(t) = max n over [t, t + lead]: run i counts over
	 * [a_i - lead, b_i). A sliding-window maximum: the deque holds runs
	 * by index with falling n; both ends of the windows rise with i. */
	if (rs.n == 0 || (dq = malloc(rs.n * sizeof(*dq))) == NULL)
		goto out;
	while (t < end_ms) {
		int64_t nt = INT64_MAX;

		while (next < rs.n && rs.r[next].a_ms - lead_ms <= t) {
			while (tail > head && rs.r[dq[tail - 1]].n <= rs.r[next].n)
				tail--;
			dq[tail++] = next++;
		}
		while (tail > head && rs.r[dq[head]].b_ms <= t)
			head++;
		if (plan_add(p, t, tail > head ? rs.r[dq[head]].n : need(0, 1, min, max)) == -1)
			goto out;
		if (next < rs.n)
			nt = rs.r[next].a_ms - lead_ms;
		/* the front run ends first among those in the deque */
		if (tail > head && rs.r[dq[head]].b_ms < nt)
			nt = rs.r[dq[head]].b_ms;
		if (nt <= t)
			nt = t + 1;	/* not reached: both bounds only rise */
		t = nt;
	}
	rc = 0;
out:
	free(rs.r);
	free(dq);
	if (rc == -1)
		oracle_fini(p);
	return rc;
}

void oracle_fini(struct oracle_plan *p)
{
	free(p->at_ms);
	free(p->desired);
	memset(p, 0, sizeof(*p));
}

/* The last i with at_ms[i] <= t, or 0. */
static size_t find(const struct oracle_plan *p, int64_t t)
{
	size_t lo = 0, hi = p->n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->at_ms[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

int oracle_at(const struct oracle_plan *p, int64_t t_ms)
{
	return p->n ? p->desired[find(p, t_ms)] : 0;
}

int64_t oracle_next(const struct oracle_plan *p, int64_t t_ms)
{
	size_t i;

	if (p->n == 0)
		return INT64_MAX;
	if (t_ms < p->at_ms[0])
		return p->at_ms[0];
	i = find(p, t_ms);
	return i + 1 < p->n ? p->at_ms[i + 1] : INT64_MAX;
}
