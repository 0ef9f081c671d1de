/* The SPEC RG elasticity metrics; see elasticity.h and
 * ../shared/reference/elasticity-metrics.md for the formulas. */
#include <math.h>
#include <string.h>

#include "sim/elasticity.h"

static int sgn(double x)
{
	return (x > 0) - (x < 0);
}

int elasticity_score(const double *d, const double *s, size_t n, double dt_s,
    struct elasticity *out)
{
	double dur, under = 0, over = 0, t_under = 0, t_over = 0;
	unsigned unstable = 0, demand_changes = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0 || !(dt_s > 0))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(d[i] > 0))
			return -1;
	dur = (double)n * dt_s;
	for (size_t i = 0; i < n; i++) {
		double gap = d[i] - s[i];

		if (gap > 0) {
			under += gap / d[i];
			t_under += 1;
		} else if (gap < 0) {
			over += -gap / d[i];
			t_over += 1;
		}
		out->supply_s += s[i] * dt_s;
		out->demand_s += d[i] * dt_s;
		if (i == 0)
			continue;
		if (s[i] != s[i - 1]) {
			out->adaptations++;
			if (s[i] > s[i - 1])
				out->ups++;
			else
				out->downs++;
		}
		if (d[i] != d[i - 1])
			demand_changes++;
		if (sgn(s[i] - s[i - 1]) != sgn(d[i] - d[i - 1]))
			unstable++;
	}
	out->theta_u = 100 * under * dt_s / dur;
	out->theta_o = 100 * over * dt_s / dur;
	out->tau_u = 100 * t_under * dt_s / dur;
	out->tau_o = 100 * t_over * dt_s / dur;
	/* n - 1 differences; one sample has none, so no instability. */
	out->upsilon = n > 1 ? 100 * (double)unstable / (double)(n - 1) : 0;
	out->jitter_per_s = ((double)out->adaptations - (double)demand_changes) / dur;
	return 0;
}

static double ratio(double base, double cand)
{
	return fmax(base, ELASTICITY_FLOOR) / fmax(cand, ELASTICITY_FLOOR);
}

static double speedup(const struct elasticity *b, const struct elasticity *c, int k)
{
	double logsum = log(ratio(b->theta_u, c->theta_u)) + log(ratio(b->theta_o, c->theta_o)) +
	    log(ratio(b->tau_u, c->tau_u)) + log(ratio(b->tau_o, c->tau_o));

	if (k == 5)
		logsum += log(ratio(b->upsilon, c->upsilon));
	return exp(logsum / k);
}

double elasticity_speedup4(const struct elasticity *base, const struct elasticity *cand)
{
	return speedup(base, cand, 4);
}

double elasticity_speedup5(const struct elasticity *base, const struct elasticity *cand)
{
	return speedup(base, cand, 5);
}

double elasticity_deviation(const struct elasticity *m)
{
	return sqrt(m->theta_u * m->theta_u + m->theta_o * m->theta_o + m->tau_u * m->tau_u +
	    m->tau_o * m->tau_o + m->upsilon * m->upsilon);
}
