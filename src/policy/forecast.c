#include "policy/forecast.h"
#include "policy/forecast_parts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void forecast_cfg_default(struct forecast_cfg *cfg)
{
	*cfg = (struct forecast_cfg){
		.enabled = false, .horizon_ms = 0, .step_ms = FORECAST_MIN_STEP_MS,
		.history_days = FORECAST_MAX_DAYS, .seasonality = true, .trend = true,
		.headroom_quantile = 0, .headroom_memory_ms = FORECAST_DAY_MS,
	};
}

const char *forecast_basis_name(enum forecast_basis b)
{
	static const char *const names[] = { "none", "level", "trend", "daily", "weekly",
		"headroom" };

	return (unsigned)b < sizeof(names) / sizeof(names[0]) ? names[b] : "unknown";
}

const char *forecast_season_name(enum forecast_season s)
{
	static const char *const names[] = { "off", "short_history", "untested", "weak",
		"daily", "weekly" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

void forecast_init(struct forecast_state *st)
{
	memset(st, 0, sizeof(*st));
	st->first_ms = INT64_MAX;
	st->last_ms = INT64_MIN;
	st->tested_key = INT64_MIN;
	st->skill[0] = st->skill[1] = NAN;
	headroom_init(&st->hr);
	st->last = NAN;
}

static struct headroom_cfg headroom_of(const struct forecast_cfg *cfg)
{
	return (struct headroom_cfg){ cfg->horizon_ms, cfg->headroom_quantile,
		cfg->headroom_memory_ms };
}

int64_t forecast_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t forecast_nslots(const struct forecast_cfg *cfg)
{
	int64_t n = cfg->history_days * FORECAST_DAY_MS / cfg->step_ms;

	return n > FORECAST_BUCKETS ? FORECAST_BUCKETS : n < 1 ? 1 : n;
}

static struct forecast_bucket *slot(const struct forecast_cfg *cfg, struct forecast_state *st,
    int64_t key)
{
	int64_t n = forecast_nslots(cfg), i = key % n;

	return &st->b[i < 0 ? i + n : i];
}

double forecast_bucket(const struct forecast_cfg *cfg, struct forecast_state *st, int64_t key)
{
	const struct forecast_bucket *b = slot(cfg, st, key);

	return b->key == key && b->n > 0 ? b->sum / b->n : NAN;
}

/* A new step forgets the buckets (their keys mean other times). */
static void check_step(const struct forecast_cfg *cfg, struct forecast_state *st)
{
	if (st->step_ms == cfg->step_ms)
		return;
	memset(st->b, 0, sizeof(st->b));
	st->prof_gen++;
	st->step_ms = cfg->step_ms;
	st->tested_key = INT64_MIN;
}

static void span(struct forecast_state *st, int64_t t_ms)
{
	if (t_ms < st->first_ms)
		st->first_ms = t_ms;
	if (t_ms > st->last_ms)
		st->last_ms = t_ms;
}

void forecast_observe(const struct forecast_cfg *cfg, struct forecast_state *st, int64_t t_ms,
    double value)
{
	int64_t key;
	struct forecast_bucket *b;

	if (!isfinite(value) || cfg->step_ms <= 0)
		return;
	check_step(cfg, st);
	key = forecast_floor_div(t_ms, cfg->step_ms);
	b = slot(cfg, st, key);
	if (b->key != key || b->gen != 0)
		*b = (struct forecast_bucket){ .key = key };	/* live beats history */
	b->sum += value;
	b->n++;
	span(st, t_ms);
	forecast_score_trials(cfg, st, t_ms, value);
	if (cfg->headroom_quantile > 0) {
		struct headroom_cfg hc = headroom_of(cfg);

		headroom_observe(&hc, &st->hr, t_ms, value);
	}
	st->last = value;
	st->recent[st->head] = (struct forecast_point){ t_ms, value };
	st->head = (st->head + 1) % FORECAST_RECENT;
	if (st->n < FORECAST_RECENT)
		st->n++;
}

void forecast_seed(const struct forecast_cfg *cfg, struct forecast_state *st,
    const struct forecast_point *p, size_t n)
{
	if (cfg->step_ms <= 0)
		return;
	check_step(cfg, st);
	if (++st->gen == 0)
		st->gen = 1;
	for (size_t i = 0; i < n; i++) {
		int64_t key;
		struct forecast_bucket *b;

		if (!isfinite(p[i].value))
			continue;
		key = forecast_floor_div(p[i].t_ms, cfg->step_ms);
		b = slot(cfg, st, key);
		if (b->key == key && b->gen == 0 && b->n > 0)
			continue;	/* measured here: keep it */
		if (b->key != key || b->gen != st->gen)
			*b = (struct forecast_bucket){ .key = key, .gen = st->gen };
		b->sum += p[i].value;
		b->n++;
		span(st, p[i].t_ms);
	}
	st->tested_key = INT64_MIN;	/* test the profiles again */
	st->prof_gen++;
}

void forecast_predict(const struct forecast_cfg *cfg, struct forecast_state *st, int64_t now_ms,
    struct forecast_out *out)
{
	struct forecast_half old, new;
	int64_t half = forecast_half_window(cfg, st);
	double slope = 0, add;
	char why[80];

	memset(out, 0, sizeof(*out));
	out->need = out->level = NAN;
	out->history_s = st->last_ms >= st->first_ms ? (double)(now_ms - st->first_ms) / 1000 : 0;
	out->season = forecast_season_test(cfg, st, now_ms);
	switch (out->season) {
	case FORECAST_SEASON_SHORT:
		snprintf(why, sizeof(why), "; no season: %.1fh history < 1d + horizon",
		    out->history_s / 3600);
		break;
	case FORECAST_SEASON_UNTESTED:
		snprintf(why, sizeof(why), "; no season: untested");
		break;
	case FORECAST_SEASON_WEAK:
		snprintf(why, sizeof(why), "; no season: weak (skill %.2f)",
		    isnan(st->skill[1]) || st->skill[0] >= st->skill[1] ? st->skill[0] : st->skill[1]);
		break;
	default:
		why[0] = '\0';
		break;
	}
	forecast_fit(st, now_ms - half, now_ms, &new);
	if (new.n == 0) {
		out->basis = FORECAST_NONE;
		snprintf(out->note, sizeof(out->note),
		    "nothing measured in %llds: the measured load decides%s",
		    (long long)(half / 1000), why);
		return;
	}
	forecast_fit(st, now_ms - 2 * half, now_ms - half, &old);
	/* A trend is a rise on both sides (a step is flat on one of them),
	 * each significant against its residuals, and the whole rise beyond
	 * what the load's own swings reach: 2 sd of the change between two
	 * points (√2 × one point's sd), swings measured over the last
	 * FORECAST_SWING_SPANS windows. The smaller slope, carried on. */
	if (cfg->trend && old.n >= FORECAST_MIN_HALF && new.n >= FORECAST_MIN_HALF &&
	    old.rising && new.rising) {
		double sd = forecast_swing(st, now_ms, half, FORECAST_SWING_SPANS * 2 * half);

		slope = fmin(old.slope, new.slope);
		if (isnan(sd) || slope * 2 * (double)half / 1000.0 <= 2 * sqrt(2) * sd)
			slope = 0;
	}
	if (slope > 0) {
		double pred = new.vmean + slope * ((double)cfg->horizon_ms / 1000.0 - new.tmean);

		forecast_add_trial(st, now_ms, forecast_nth_newest(st, 0)->value, pred);
		if (!forecast_trend_trusted(st)) {
			slope = 0;
			out->trend_benched = true;
		}
	}
	/* The level is the recent mean, which stands for the load at its
	 * centre, tmean s ago (a smoothed value lags by half its window): both
	 * parts carry it from there to the horizon. */
	out->level = new.vmean;
	out->trend_add = slope * ((double)cfg->horizon_ms / 1000.0 - new.tmean);
	if (out->season == FORECAST_SEASON_DAILY || out->season == FORECAST_SEASON_WEEKLY) {
		bool weekly = out->season == FORECAST_SEASON_WEEKLY;
		int64_t t_ahead = now_ms + cfg->horizon_ms;

		/* The profile at the horizon times today's ratio to it over the
		 * last hour (FORECAST_SCALE_BUCKETS): a profile learnt from the
		 * lagging metric, read against a level that lags too, would
		 * count a jump's first minutes twice, so the ratio is taken over
		 * complete buckets, which a jump hardly moves. Two readings, the
		 * larger: the smoothed, interpolated profile (a smooth daily
		 * swing) and the raw bucket the horizon falls in (a jump that
		 * recurs at a bucket's start, cron or the hour, in full, where
		 * smoothing and interpolation show a part of it). */
		double scale = forecast_level_scale(cfg, st, now_ms, weekly);
		double smooth = forecast_profile_time(cfg, st, t_ahead, weekly);
		double raw = forecast_profile_raw(cfg, st, forecast_floor_div(t_ahead, cfg->step_ms),
		    weekly);
		double ahead = isnan(raw) || raw < smooth ? smooth : raw;

		if (!isnan(scale) && !isnan(ahead) && scale * ahead > out->level)
			out->season_add = scale * ahead - out->level;
	}
	out->headroom_factor = 1;
	if (cfg->headroom_quantile > 0 && isfinite(st->last)) {
		struct headroom_cfg hc = headroom_of(cfg);

		out->headroom_factor = headroom_factor(&hc, &st->hr);
		if (out->headroom_factor > 1 && st->last * out->headroom_factor > out->level)
			out->headroom_add = st->last * out->headroom_factor - out->level;
	}
	add = fmax(fmax(out->trend_add, out->season_add), out->headroom_add);
	out->need = fmax(0, out->level + add);
	out->basis = add <= 0 ? FORECAST_LEVEL :
	    out->headroom_add >= add ? FORECAST_HEADROOM : out->season_add > out->trend_add ?
	    (out->season == FORECAST_SEASON_WEEKLY ? FORECAST_WEEKLY : FORECAST_DAILY) :
	    FORECAST_TREND;
	/* A long note is cut: it is for people, and the numbers come first. */
	if (snprintf(out->note, sizeof(out->note), "%.2f at +%llds: level %.2f%s%s%s",
	    out->need, (long long)(cfg->horizon_ms / 1000), out->level,
	    out->basis == FORECAST_TREND ? " + trend" : out->basis == FORECAST_DAILY ? " + daily" :
	    out->basis == FORECAST_WEEKLY ? " + weekly" :
	    out->basis == FORECAST_HEADROOM ? " + headroom" : "",
	    out->trend_benched ? "; trend benched: its last forecasts did no better than none" : "",
	    why) >= (int)sizeof(out->note))
		return;
}
