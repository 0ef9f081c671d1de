/* The M/M/1-per-instance model with a fluid overload backlog; latency.h
 * states the model. */
#include <math.h>
#include <string.h>

#include "sim/latency.h"

#define LN20 2.995732273553991

double lat_p95_s(const struct lat_model *m, double rps_i)
{
	return LN20 / (m->mu - rps_i);
}

double lat_rho_slo(const struct lat_model *m)
{
	return 1.0 - LN20 / (m->mu * m->slo_s);
}

int lat_demand(const struct lat_model *m, double rps)
{
	double per = m->mu * lat_rho_slo(m), n;

	if (!(per > 0))
		return 1;
	n = ceil(rps / per - 1e-9);
	return n < 1 ? 1 : n > 1e9 ? 1000000000 : (int)n;
}

void lat_advance(const struct lat_model *m, double *backlog, double rps, int n, double dt_s,
    struct lat_seg *out)
{
	double cap, li, a, b = *backlog, arrivals = rps * dt_s, dt0 = dt_s;

	memset(out, 0, sizeof(*out));
	out->arrivals = arrivals;
	if (!(dt_s > 0))
		return;
	if (n <= 0) {
		/* Nobody to serve: what is offered and what waited fail. */
		out->failed = arrivals + b;
		out->violations = arrivals;
		out->p95_s = m->timeout_s;
		*backlog = 0;
		return;
	}
	cap = n * m->mu;
	li = rps / n;
	if (b > m->timeout_s * cap) {
		/* fewer servers than when it queued: what now waits too long fails */
		out->failed = b - m->timeout_s * cap;
		b = m->timeout_s * cap;
	}
	if (rps >= cap) {
		double bmax = m->timeout_s * cap;

		b += (rps - cap) * dt_s;
		if (b > bmax) {
			out->failed += b - bmax;
			b = bmax;
		}
		out->served = cap * dt_s;
		out->violations = arrivals;
		out->util = 1;
		out->p95_s = b / cap + 1 / m->mu;
		*backlog = b;
		return;
	}
	a = m->mu - li;
	out->p95_s = lat_p95_s(m, li);
	if (b > 0) {
		/* Drain: the wait w(t) = (b - k t) / cap falls to 0 at t0. */
		double k = cap - rps, t0 = fmin(dt_s, b / k), w0 = b / cap;
		double t1 = w0 > m->slo_s ? fmin(t0, (b - m->slo_s * cap) / k) : 0;

		/* Until t1 the wait alone breaks the SLO; then the M/M/1 tail
		 * shifted by what is left of the wait. */
		out->violations += rps * t1;
		if (t0 > t1) {
			double u1 = m->slo_s - (b - k * t1) / cap, u0 = m->slo_s - (b - k * t0) / cap;

			out->violations += rps * (exp(-a * u1) - exp(-a * u0)) / (a * k / cap);
		}
		out->served += cap * t0;
		out->util += t0 / dt0;
		out->p95_s = w0 + lat_p95_s(m, li);
		b -= k * t0;
		if (b < 1e-9)
			b = 0;
		dt_s -= t0;
	}
	if (dt_s > 0 && b == 0) {
		out->violations += rps * dt_s * exp(-a * m->slo_s);
		out->served += rps * dt_s;
		out->util += dt_s / dt0 * (li / m->mu);
	}
	*backlog = b;
}
