/* policy.target.forecast (and the deprecated policy.target.predict): the
 * forecaster's keys, read into ctl_cfg. See controller/config.h. */
#include <stdio.h>
#include <string.h>

#include "controller/config.h"

#define DEFAULT_HISTORY_QUERY \
	"sum(rate(poolscale_app_requests_received_total{pool=\"{pool}\",job=\"pool-app\"}[5m]))"

void ctl_cfg_forecast_defaults(struct ctl_cfg *c)
{
	forecast_cfg_default(&c->forecast);
	snprintf(c->history_query, sizeof(c->history_query), "%s", DEFAULT_HISTORY_QUERY);
	c->history_value = 0;
}

/* {pool} -> the pool's name; false when the result does not fit. */
static bool expand(char *q, size_t cap, const char *pool)
{
	char out[sizeof(((struct ctl_cfg *)0)->history_query)];
	size_t n = 0, pl = strlen(pool);

	for (const char *p = q; *p; ) {
		if (strncmp(p, "{pool}", 6) == 0) {
			if (n + pl >= sizeof(out))
				return false;
			memcpy(out + n, pool, pl);
			n += pl;
			p += 6;
		} else {
			if (n + 1 >= sizeof(out))
				return false;
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	if (n + 1 > cap)
		return false;
	memcpy(q, out, n + 1);
	return true;
}

void ctl_cfg_read_forecast(struct ycfg *y, struct ymap *target, struct ctl_cfg *c)
{
	struct forecast_cfg *f = &c->forecast;
	yaml_node_t *n, *hn;
	struct ymap m, hm;
	int64_t days = f->history_days, predict_ms = -1;

	/* The old one-knob prediction: a forecast with this horizon. */
	if (ycfg_duration(target, "predict", 0, FORECAST_MAX_HORIZON_MS, &predict_ms) &&
	    predict_ms >= 0) {
		f->enabled = predict_ms > 0;
		f->horizon_ms = predict_ms;
	}
	if ((n = ymap_get(target, "trend")) != NULL)
		ycfg_error(y, n, "policy.target.trend: removed: the forecaster derives its trend "
		    "window from the horizon (see policy.target.forecast)");
	n = ymap_get(target, "forecast");
	if (n != NULL && predict_ms >= 0)
		ycfg_error(y, n, "policy.target.forecast: give either it or the older predict, "
		    "not both");
	if (!ymap_init(&m, y, n, "policy.target.forecast"))
		return;
	ycfg_bool(&m, "enabled", &f->enabled);
	ycfg_duration(&m, "horizon", 1000, FORECAST_MAX_HORIZON_MS, &f->horizon_ms);
	if (ycfg_duration(&m, "step", FORECAST_MIN_STEP_MS, FORECAST_DAY_MS, &f->step_ms) &&
	    FORECAST_DAY_MS % f->step_ms != 0)
		ycfg_error(y, ymap_get(&m, "step"), "policy.target.forecast.step: must divide a day "
		    "(5m, 10m, 15m, 30m, 1h...)");
	if (ycfg_int(&m, "history_days", 1, FORECAST_MAX_DAYS, &days))
		f->history_days = (int)days;
	ycfg_bool(&m, "seasonality", &f->seasonality);
	ycfg_bool(&m, "trend", &f->trend);
	ycfg_string(&m, "history_query", c->history_query, sizeof(c->history_query));
	ycfg_double(&m, "history_value", 0, 1e12, &c->history_value);
	if ((hn = ymap_get(&m, "headroom")) != NULL &&
	    ymap_init(&hm, y, hn, "policy.target.forecast.headroom")) {
		/* on once the block is there: quantile 0.9 unless given */
		f->headroom_quantile = 0.9;
		ycfg_double(&hm, "quantile", 0.5, 0.999, &f->headroom_quantile);
		ycfg_duration(&hm, "memory", 60000, 30 * FORECAST_DAY_MS, &f->headroom_memory_ms);
		ymap_done(&hm);
	}
	ymap_done(&m);
	if (!expand(c->history_query, sizeof(c->history_query), c->pool))
		ycfg_error(y, n, "policy.target.forecast.history_query: too long once {pool} is "
		    "replaced");
}

void ctl_forecast_cfg(const struct ctl_cfg *c, struct forecast_cfg *out)
{
	*out = c->forecast;
	if (out->horizon_ms <= 0) {
		/* a boot (the warm-up) plus the pipeline's delay (one decision) */
		out->horizon_ms = c->warmup_ms + c->interval_ms;
		if (out->horizon_ms > FORECAST_MAX_HORIZON_MS)
			out->horizon_ms = FORECAST_MAX_HORIZON_MS;
		if (out->horizon_ms < 1000)
			out->horizon_ms = 1000;
	}
}

double ctl_forecast_history_value(const struct ctl_cfg *c)
{
	if (c->history_value > 0)
		return c->history_value;
	for (size_t i = 0; i < c->target.nmetrics; i++)
		if (c->target.metrics[i].kind == POLICY_METRIC_TOTAL)
			return c->target.metrics[i].value;
	return 0;
}
