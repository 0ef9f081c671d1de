/* The simulator's config: the controller's file, then its `simulate:`
 * section; see config.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/parse.h"
#include "common/yamlcfg.h"
#include "sim/config.h"

#define DAY_MS 86400000LL

static const char *const policy_names[SIM_NPOLICIES] = {
	[SIM_TARGET] = "target",
	[SIM_STEP] = "step",
	[SIM_SEED_STEP] = "seed-step",
	[SIM_AWS] = "aws-target",
	[SIM_HPA] = "hpa",
	[SIM_AWS_REQ] = "aws-target-req",
	[SIM_HPA_EXT] = "hpa-ext",
	[SIM_AWS_PREDICT] = "aws-predictive",
	[SIM_FIXED] = "fixed",
	[SIM_ORACLE] = "oracle",
};

const char *sim_policy_name(enum sim_policy p)
{
	return (unsigned)p < SIM_NPOLICIES ? policy_names[p] : "?";
}

int sim_policy_parse(const char *s, enum sim_policy *p)
{
	for (int i = 0; i < SIM_NPOLICIES; i++)
		if (strcmp(s, policy_names[i]) == 0) {
			*p = (enum sim_policy)i;
			return 0;
		}
	return -1;
}

/* The rate window the target query uses: its first "[DURATION]". */
static int64_t query_window_ms(const char *q)
{
	const char *o = strchr(q, '['), *c = o ? strchr(o, ']') : NULL;
	char d[32];
	int64_t ms;

	if (c == NULL || c - o - 1 <= 0 || (size_t)(c - o - 1) >= sizeof(d))
		return -1;
	memcpy(d, o + 1, (size_t)(c - o - 1));
	d[c - o - 1] = '\0';
	return parse_duration_ms(d, 1, DAY_MS, &ms, NULL) == 0 ? ms : -1;
}

/* "2026-01-05T00:00:00Z" or with "+01:00": RFC 3339 to the second. */
static int parse_rfc3339(const char *v, int64_t *out)
{
	struct tm tm = { 0 }, back;
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	char sign = 'Z';
	time_t t;

	if (sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return -1;
	if (strcmp(v + n, "Z") != 0 && (sscanf(v + n, "%c%2d:%2d", &sign, &oh, &om) != 3 ||
	    (sign != '+' && sign != '-') || strlen(v + n) != 6 || oh > 23 || om > 59))
		return -1;
	tm = (struct tm){ .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
		.tm_min = mi, .tm_sec = sec };
	t = timegm(&tm);
	/* timegm normalises 02-30 to 03-02: a date that moved did not exist. */
	if (gmtime_r(&t, &back) == NULL || back.tm_mon != mo - 1 || back.tm_mday != d ||
	    back.tm_hour != h || back.tm_min != mi || back.tm_sec != sec)
		return -1;
	*out = (int64_t)t - (sign == '-' ? -1 : sign == '+' ? 1 : 0) * (oh * 3600 + om * 60);
	return 0;
}

static void defaults(struct sim_cfg *s)
{
	const struct local_cfg *l = &s->ctl.local;
	int64_t w = query_window_ms(s->ctl.query);

	s->capacity_rps = l->work_ms > 0 ? l->vcpu * 1000.0 / l->work_ms : 0;
	s->boot_ms = l->boot_delay_ms;
	s->boot_max_ms = 0;
	s->health_check_ms = 500;	/* the controller's check of a booting member */
	s->drain_ms = 1000;
	s->scrape_ms = 15000;		/* deploy/prometheus */
	s->scrape_offset_ms = -2;	/* unset: half the interval, below */
	s->rate_window_ms = w > 0 ? w : 60000;
	s->alerts = (struct sim_alerts){
		.high = 0.8, .low = 0.2, .for_ms = 60000, .rule_interval_ms = 15000,
		.group_wait_ms = 0, .group_interval_ms = 60000, .repeat_interval_ms = 60000,
	};				/* deploy/prometheus/rules, deploy/alertmanager */
	s->slo_s = 0.5;
	s->timeout_s = 10;
	s->seed = 1;
	s->score_ms = 60000;
	s->billing_ms = 60000;
	s->start_unix_s = 1767571200;	/* 2026-01-05T00:00:00Z, a Monday */
	s->aws_warmup_ms = 300000;	/* EstimatedInstanceWarmup defaults to the 300 s cooldown */
	s->aws_scale_in_cooldown_ms = 300000;
	s->aws_low_ratio = 0.9;
	s->hpa_sync_ms = 15000;
	s->hpa_stabilization_ms = 300000;
	s->hpa_tolerance = 0.1;
	s->fixed = s->ctl.max;
	s->seed_high = 0.8;		/* the seeds' rules */
	s->seed_low = 0.2;
}

static void read_alerts(struct ycfg *y, yaml_node_t *n, struct sim_alerts *a)
{
	struct ymap m;

	if (!ymap_init(&m, y, n, "simulate.alerts"))
		return;
	ycfg_double(&m, "high", 0, 1e9, &a->high);
	ycfg_double(&m, "low", 0, 1e9, &a->low);
	ycfg_duration(&m, "for", 0, DAY_MS, &a->for_ms);
	ycfg_duration(&m, "rule_interval", 100, DAY_MS, &a->rule_interval_ms);
	ycfg_duration(&m, "group_wait", 0, DAY_MS, &a->group_wait_ms);
	ycfg_duration(&m, "group_interval", 100, DAY_MS, &a->group_interval_ms);
	ycfg_duration(&m, "repeat_interval", 100, 30 * DAY_MS, &a->repeat_interval_ms);
	ymap_done(&m);
	if (a->low >= a->high)
		ycfg_error(y, n, "simulate.alerts: low (%g) must be below high (%g)", a->low,
		    a->high);
}

static void read_peers(struct ycfg *y, yaml_node_t *aws, yaml_node_t *hpa, struct sim_cfg *s)
{
	struct ymap m;

	if (ymap_init(&m, y, aws, "simulate.aws")) {
		ycfg_duration(&m, "warmup", 0, DAY_MS, &s->aws_warmup_ms);
		ycfg_duration(&m, "scale_in_cooldown", 0, DAY_MS, &s->aws_scale_in_cooldown_ms);
		ycfg_double(&m, "low_ratio", 0.01, 1, &s->aws_low_ratio);
		ymap_done(&m);
	}
	if (ymap_init(&m, y, hpa, "simulate.hpa")) {
		ycfg_duration(&m, "sync", 1000, DAY_MS, &s->hpa_sync_ms);
		ycfg_duration(&m, "stabilization", 0, DAY_MS, &s->hpa_stabilization_ms);
		ycfg_double(&m, "tolerance", 0, 10, &s->hpa_tolerance);
		ymap_done(&m);
	}
}

static void read_simulate(struct ycfg *y, struct sim_cfg *s)
{
	yaml_node_t *root = ycfg_root(y), *n = NULL;
	struct ymap top, m;
	int64_t seed = (int64_t)s->seed;

	if (root != NULL && !ymap_init(&top, y, root, ""))
		return;
	n = root ? ymap_get(&top, "simulate") : NULL;
	if (!ymap_init(&m, y, n, "simulate"))
		return;
	ycfg_double(&m, "capacity", 0.001, 1e9, &s->capacity_rps);
	ycfg_duration(&m, "boot", 0, DAY_MS, &s->boot_ms);
	ycfg_duration(&m, "boot_max", 0, DAY_MS, &s->boot_max_ms);
	ycfg_duration(&m, "health_check", 1, DAY_MS, &s->health_check_ms);
	ycfg_duration(&m, "drain", 0, DAY_MS, &s->drain_ms);
	ycfg_duration(&m, "scrape_interval", 100, DAY_MS, &s->scrape_ms);
	ycfg_duration(&m, "rate_window", 100, DAY_MS, &s->rate_window_ms);
	{
		yaml_node_t *off = ymap_get(&m, "scrape_offset");
		const char *v = off ? ycfg_scalar(y, off, "simulate.scrape_offset") : NULL;
		struct err pe;

		if (v && strcmp(v, "random") == 0)
			s->scrape_offset_ms = -1;
		else if (v && (parse_duration_ms(v, 0, DAY_MS, &s->scrape_offset_ms, &pe) == -1 ||
		    s->scrape_offset_ms >= s->scrape_ms))
			ycfg_error(y, off, "simulate.scrape_offset: \"%s\" is not `random` or a "
			    "duration below scrape_interval", v);
	}
	/* Prometheus gives each target a fixed offset, a hash of its labels:
	 * unknown here, so by default its expected value. */
	if (s->scrape_offset_ms == -2)
		s->scrape_offset_ms = s->scrape_ms / 2;
	read_alerts(y, ymap_get(&m, "alerts"), &s->alerts);
	{
		int64_t slo = (int64_t)(s->slo_s * 1000), to = (int64_t)(s->timeout_s * 1000);

		if (ycfg_duration(&m, "slo", 1, DAY_MS, &slo))
			s->slo_s = (double)slo / 1000;
		if (ycfg_duration(&m, "timeout", 1, DAY_MS, &to))
			s->timeout_s = (double)to / 1000;
	}
	ycfg_double(&m, "boot_cpu", 0, 1, &s->boot_cpu);
	ycfg_duration(&m, "boot_cpu_for", 0, DAY_MS, &s->boot_cpu_ms);
	ycfg_double(&m, "noise", 0, 1, &s->noise);
	if (ycfg_int(&m, "seed", 0, INT64_MAX, &seed))
		s->seed = (uint64_t)seed;
	ycfg_bool(&m, "warm_start", &s->warm_start);
	ycfg_duration(&m, "score_interval", 1000, DAY_MS, &s->score_ms);
	ycfg_duration(&m, "billing_unit", 1000, DAY_MS, &s->billing_ms);
	read_peers(y, ymap_get(&m, "aws"), ymap_get(&m, "hpa"), s);
	{
		yaml_node_t *st = ymap_get(&m, "start");
		const char *v = st ? ycfg_scalar(y, st, "simulate.start") : NULL;

		if (v && parse_rfc3339(v, &s->start_unix_s) == -1)
			ycfg_error(y, st, "simulate.start: \"%s\" is not a time like "
			    "2026-01-05T00:00:00Z (RFC 3339, Z or +HH:MM)", v);
	}
	{
		int64_t fixed = s->fixed;
		yaml_node_t *sn = ymap_get(&m, "seed_step");
		struct ymap sm;

		if (ycfg_int(&m, "fixed", 1, 1000000, &fixed))
			s->fixed = (int)fixed;
		if (ymap_init(&sm, y, sn, "simulate.seed_step")) {
			ycfg_double(&sm, "high", 0, 1e9, &s->seed_high);
			ycfg_double(&sm, "low", 0, 1e9, &s->seed_low);
			ymap_done(&sm);
			if (s->seed_low >= s->seed_high)
				ycfg_error(y, sn, "simulate.seed_step: low (%g) must be below "
				    "high (%g)", s->seed_low, s->seed_high);
		}
	}
	ymap_done(&m);
	if (s->boot_max_ms != 0 && s->boot_max_ms < s->boot_ms)
		ycfg_error(y, n, "simulate.boot_max must be 0 or at least simulate.boot");
	if (s->rate_window_ms < 2 * s->scrape_ms)
		ycfg_error(y, n, "simulate.rate_window must hold two scrapes (at least 2 × "
		    "scrape_interval), as Prometheus' rate() needs");
	if (!(s->capacity_rps > 0)) {
		ycfg_error(y, n, "simulate.capacity is needed (req/s of one instance at 100%%): "
		    "the provider's vcpu and work_ms do not give it");
	} else {
		struct lat_model lm = sim_cfg_lat(s);

		if (lat_rho_slo(&lm) <= 0)
			ycfg_error(y, n, "simulate.slo (%g s) is shorter than an idle instance's "
			    "p95 at %g req/s (%.3g s): raise simulate.slo or simulate.capacity",
			    s->slo_s, s->capacity_rps, lat_p95_s(&lm, 0));
	}
	if (s->timeout_s < s->slo_s)
		ycfg_error(y, n, "simulate.timeout must be at least simulate.slo");
}

/* file, or text named file when text is not NULL. */
static int load(const char *file, const char *text, struct sim_cfg *s, struct buf *errors)
{
	struct ycfg y;
	int n;

	memset(s, 0, sizeof(*s));
	n = text ? ctl_cfg_load_string(file, text, &s->ctl, errors) :
	    file ? ctl_cfg_load(file, &s->ctl, errors) :
	    ctl_cfg_load_string("(defaults)", "", &s->ctl, errors);
	if (n > 0)
		return n;
	defaults(s);
	/* Without a file, the defaults still go through the checks. */
	if (file == NULL)
		ycfg_load_string(&y, "(defaults)", "");
	else if (text)
		ycfg_load_string(&y, file, text);
	else
		ycfg_load(&y, file);
	if (y.loaded)
		read_simulate(&y, s);
	/* The zones were checked by the controller's reader; load them. */
	for (int i = 0; i < s->ctl.nschedule && y.nerrors == 0; i++) {
		struct err e;

		if (tz_db_add(&s->tz, s->ctl.schedule[i].zone, &e) == -1)
			ycfg_error(&y, NULL, "schedule[%d].timezone: %s", i, e.msg);
	}
	n = (int)y.nerrors;
	buf_append(errors, y.errors.p, y.errors.len);
	ycfg_fini(&y);
	return n;
}

int sim_cfg_load(const char *file, struct sim_cfg *s, struct buf *errors)
{
	return load(file, NULL, s, errors);
}

int sim_cfg_load_string(const char *name, const char *text, struct sim_cfg *s,
    struct buf *errors)
{
	return load(name, text, s, errors);
}

double sim_cfg_util(const struct sim_cfg *s)
{
	const struct target_cfg *t = &s->ctl.target;

	if (t->nmetrics > 0 && t->metrics[0].kind == POLICY_METRIC_TOTAL && s->capacity_rps > 0)
		return t->metrics[0].value / s->capacity_rps;
	return t->target;
}

struct lat_model sim_cfg_lat(const struct sim_cfg *s)
{
	return (struct lat_model){ s->capacity_rps, s->slo_s, s->timeout_s };
}

void sim_cfg_fini(struct sim_cfg *s)
{
	ctl_cfg_fini(&s->ctl);
	tz_db_fini(&s->tz);
}
