/* The glue between the controller and the forecaster (policy/forecast.h):
 * loads the metric's history from Prometheus (query_range, up to 14 days,
 * at the profile's step) at start and hourly on its own client, so the
 * decision's query never waits behind it; converts it to instances; asks
 * for the forecast before each decision and feeds the measured need after.
 * Times are wall-clock ms, so the profile's time of day is the real one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "controller/controller.h"

#define HISTORY_EVERY_MS 3600000	/* a new load: hourly, as the buckets age */
#define HISTORY_RETRY_MS 300000		/* after a failed load */

struct ctl_forecast {
	struct forecast_cfg cfg;	/* horizon resolved */
	struct forecast_state *st;
	struct prom_client *prom;
	double per_instance;		/* history_query's value per instance; 0: no history */
	int64_t next_fetch_ms;		/* loop time */
	struct forecast_out last;
	size_t history_points;
	uint64_t fetches[2];		/* ok, failed */
	char history_error[192];
	bool said_short;		/* logged that the history is too short */
	struct log_once fetch_log;
};

int ctl_forecast_init(struct controller *c, struct err *e)
{
	struct ctl_forecast *f;

	if (c->cfg->policy != CTL_POLICY_TARGET || !c->cfg->forecast.enabled)
		return 0;
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->st = malloc(sizeof(*f->st))) == NULL) {
		free(f);
		return err_set(e, "out of memory");
	}
	ctl_forecast_cfg(c->cfg, &f->cfg);
	forecast_init(f->st);
	f->last.need = f->last.level = NAN;
	f->per_instance = ctl_forecast_history_value(c->cfg);
	if (f->per_instance > 0 && c->cfg->history_query[0] != '\0') {
		/* Its own client: a history load (thousands of points) never
		 * delays a decision's query, and may take longer than one. */
		f->prom = prom_client_new(c->loop, c->cfg->prom_url, c->cfg->prom_timeout_ms * 4, e);
		if (f->prom == NULL) {
			free(f->st);
			free(f);
			return -1;
		}
	} else {
		log_msg(LOG_INFO, "forecast: no history from Prometheus; the forecaster learns from "
		    "the live need only", "pool=%s why=%s", c->cfg->pool,
		    c->cfg->history_query[0] == '\0' ?
		    "history_query is empty" : "no history_value (nor a total metric) to convert "
		    "history_query to instances");
	}
	c->as.forecast = f;
	log_msg(LOG_INFO, "forecast on", "pool=%s horizon_ms=%lld step_ms=%lld history_days=%d "
	    "seasonality=%d trend=%d", c->cfg->pool, (long long)f->cfg.horizon_ms,
	    (long long)f->cfg.step_ms,
	    f->cfg.history_days, f->cfg.seasonality, f->cfg.trend);
	return 0;
}

void ctl_forecast_fini(struct controller *c)
{
	struct ctl_forecast *f = c->as.forecast;

	if (f == NULL)
		return;
	prom_client_free(f->prom);	/* calls a load in flight back as cancelled */
	free(f->st);
	free(f);
	c->as.forecast = NULL;
}

static void history_done(void *ctx, bool ok, const struct prom_matrix *m, const char *cause,
    const char *msg)
{
	struct controller *c = ctx;
	struct ctl_forecast *f = c->as.forecast;
	struct forecast_point *p;
	size_t total = 0, n = 0;

	if (f == NULL || c->stopping || (cause != NULL && strcmp(cause, "cancelled") == 0))
		return;
	if (!ok) {
		f->fetches[1]++;
		snprintf(f->history_error, sizeof(f->history_error), "prometheus %s: %s", cause, msg);
		log_once_fail(&f->fetch_log, LOG_WARN, "forecast: could not load the history",
		    f->history_error);
		f->next_fetch_ms = loop_now_ms(c->loop) + HISTORY_RETRY_MS;
		return;
	}
	for (size_t i = 0; i < m->n; i++)
		total += m->s[i].n;
	/* Several series (a query without sum): each is a part of the pool's
	 * load, so their points are loaded one after the other and meet in
	 * the buckets, where they average: good enough for a profile's shape,
	 * but say so. */
	if (m->n > 1)
		log_msg(LOG_WARN, "forecast: history_query gives several series; wrap it in sum()",
		    "pool=%s series=%zu", c->cfg->pool, m->n);
	p = malloc((total ? total : 1) * sizeof(*p));
	if (p == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->s[i].n; j++)
			if (isfinite(m->s[i].p[j].value))
				p[n++] = (struct forecast_point){
					(int64_t)llround(m->s[i].p[j].t_s * 1000),
					m->s[i].p[j].value / f->per_instance };
	forecast_seed(&f->cfg, f->st, p, n);
	free(p);
	f->fetches[0]++;
	f->history_points = n;
	f->history_error[0] = '\0';
	log_once_ok(&f->fetch_log, "forecast: history loads again");
	log_msg(LOG_INFO, "forecast: history loaded", "pool=%s points=%zu days=%d", c->cfg->pool, n,
	    f->cfg.history_days);
	f->next_fetch_ms = loop_now_ms(c->loop) + HISTORY_EVERY_MS;
}

/* Starts a history load when one is due and the client is free. */
static void maybe_fetch(struct controller *c, struct ctl_forecast *f)
{
	int64_t end_s = clock_wall_unix_ms() / 1000, step_s = f->cfg.step_ms / 1000;

	if (f->prom == NULL || prom_client_busy(f->prom) || loop_now_ms(c->loop) < f->next_fetch_ms)
		return;
	if (prom_client_range(f->prom, c->cfg->history_query,
	    end_s - f->cfg.history_days * (FORECAST_DAY_MS / 1000), end_s, step_s, history_done,
	    c) == -1) {
		f->next_fetch_ms = loop_now_ms(c->loop) + HISTORY_RETRY_MS;
		log_msg(LOG_ERROR, "forecast: could not start a history load", "pool=%s url=%s",
		    c->cfg->pool,
		    c->cfg->prom_url);
	}
}

double ctl_forecast_need(struct controller *c, const char **note)
{
	struct ctl_forecast *f = c->as.forecast;

	*note = NULL;
	if (f == NULL)
		return NAN;
	maybe_fetch(c, f);
	forecast_predict(&f->cfg, f->st, clock_wall_unix_ms(), &f->last);
	/* Said once, and not before the first history load has answered. */
	if (f->last.season == FORECAST_SEASON_SHORT && !f->said_short && f->cfg.seasonality &&
	    (f->prom == NULL || f->fetches[0] + f->fetches[1] > 0)) {
		log_msg(LOG_INFO, "forecast: too little history for a seasonal profile (a day plus "
		    "the horizon); the trend and the measured load decide until then",
		    "pool=%s history_h=%.1f", c->cfg->pool, f->last.history_s / 3600);
		f->said_short = true;
	} else if (f->last.season != FORECAST_SEASON_SHORT && f->said_short) {
		log_msg(LOG_INFO, "forecast: enough history for a seasonal profile",
		    "pool=%s season=%s", c->cfg->pool,
		    forecast_season_name(f->last.season));
		f->said_short = false;
	}
	*note = f->last.note;
	return f->last.need;
}

void ctl_forecast_feed(struct controller *c, double need)
{
	struct ctl_forecast *f = c->as.forecast;

	if (f != NULL)
		forecast_observe(&f->cfg, f->st, clock_wall_unix_ms(), need);
}

void ctl_forecast_info(const struct controller *c, struct ctl_forecast_info *out)
{
	const struct ctl_forecast *f = c->as.forecast;

	memset(out, 0, sizeof(*out));
	out->last.need = out->last.level = NAN;
	if (f == NULL)
		return;
	out->enabled = true;
	out->horizon_ms = f->cfg.horizon_ms;
	out->last = f->last;
	out->history = f->prom != NULL;
	out->history_points = f->history_points;
	out->fetches_ok = f->fetches[0];
	out->fetches_failed = f->fetches[1];
	snprintf(out->history_error, sizeof(out->history_error), "%s", f->history_error);
}
