/* One pool's part of the controller's /metrics page. */
#include <stdio.h>

#include "common/promset.h"
#include "controller/api.h"

void ctl_metrics_render(struct controller *c, struct prom_set *b)
{
	static const char *const ops[] = { "list", "set_size", "remove", "discovery",
		"set_draining" };
	char labels[96];
	int by_state[MEMBER_NSTATES] = { 0 }, min, max;
	struct ctl_forecast_info fi;

	for (size_t i = 0; i < c->n; i++)
		by_state[c->m[i].state]++;
	prom_set_header(b, "poolscale_pool_desired_size", "gauge", "Desired number of members.");
	prom_set_sample(b, "poolscale_pool_desired_size", NULL, c->desired);
	ctl_bounds(c, &min, &max);
	prom_set_header(b, "poolscale_pool_min_size", "gauge", "Smallest allowed pool size.");
	prom_set_sample(b, "poolscale_pool_min_size", NULL, min);
	prom_set_header(b, "poolscale_pool_max_size", "gauge", "Largest allowed pool size.");
	prom_set_sample(b, "poolscale_pool_max_size", NULL, max);
	if (c->cfg->nschedule > 0)
		prom_set_header(b, "poolscale_schedule_active", "gauge",
		    "1 while the schedule window is open (its min/max in force).");
	for (int i = 0; i < c->cfg->nschedule; i++) {
		snprintf(labels, sizeof(labels), "name=\"%s\"", c->cfg->schedule[i].name);
		prom_set_sample(b, "poolscale_schedule_active", labels, c->sched.b.active >> i & 1);
	}
	if (c->ha != NULL) {
		struct ha_info hi;

		ha_info(c->ha, &hi);
		prom_set_header(b, "poolscale_ha_leader", "gauge",
		    "1 while this controller leads (acts) among those sharing its etcd prefix.");
		prom_set_sample(b, "poolscale_ha_leader", NULL, hi.leader && ctl_acting(c));
		prom_set_header(b, "poolscale_ha_leader_changes_total", "counter",
		    "Times this controller began or stopped leading.");
		prom_set_sample_u64(b, "poolscale_ha_leader_changes_total", NULL, hi.leader_changes);
		prom_set_header(b, "poolscale_ha_lease_seconds_left", "gauge",
		    "Time left on this controller's etcd lease as it last saw it.");
		prom_set_sample(b, "poolscale_ha_lease_seconds_left", NULL, hi.lease_seconds_left);
		prom_set_header(b, "poolscale_ha_etcd_up", "gauge", "1 when the last etcd call answered.");
		prom_set_sample(b, "poolscale_ha_etcd_up", NULL, hi.etcd_ok);
	}
	prom_set_header(b, "poolscale_pool_members", "gauge", "Members by state.");
	for (int s = 0; s < MEMBER_NSTATES; s++) {
		snprintf(labels, sizeof(labels), "state=\"%s\"", member_state_name(s));
		prom_set_sample(b, "poolscale_pool_members", labels, by_state[s]);
	}
	prom_set_header(b, "poolscale_instances_started_total", "counter",
	    "Instances the controller started.");
	prom_set_sample_u64(b, "poolscale_instances_started_total", NULL, c->stats.started);
	prom_set_header(b, "poolscale_instances_replaced_total", "counter",
	    "Instances that died, failed health checks or never became healthy.");
	prom_set_sample_u64(b, "poolscale_instances_replaced_total", NULL, c->stats.replaced);
	prom_set_header(b, "poolscale_instances_removed_total", "counter",
	    "Instances removed after a stop the controller asked for.");
	prom_set_sample_u64(b, "poolscale_instances_removed_total", NULL, c->stats.removed);
	prom_set_header(b, "poolscale_provider_errors_total", "counter",
	    "Failed provider and discovery operations, by operation.");
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		snprintf(labels, sizeof(labels), "op=\"%s\"", ops[i]);
		prom_set_sample_u64(b, "poolscale_provider_errors_total", labels,
		    c->stats.provider_errors[i]);
	}
	if (c->prov.ops->api_stats != NULL) {
		uint64_t calls, retries, failures;

		c->prov.ops->api_stats(c->prov.impl, &calls, &retries, &failures);
		prom_set_header(b, "poolscale_provider_api_calls_total", "counter",
		    "HTTP requests sent to the cloud API, retries included.");
		prom_set_sample_u64(b, "poolscale_provider_api_calls_total", NULL, calls);
		prom_set_header(b, "poolscale_provider_api_retries_total", "counter",
		    "Cloud API requests that were retries (after 429, 5xx, throttling or no answer).");
		prom_set_sample_u64(b, "poolscale_provider_api_retries_total", NULL, retries);
		prom_set_header(b, "poolscale_provider_api_failures_total", "counter",
		    "Cloud API calls that failed: an error answer (4xx too) or none, after retries.");
		prom_set_sample_u64(b, "poolscale_provider_api_failures_total", NULL, failures);
	}
	prom_set_header(b, "poolscale_reconcile_duration_seconds", "summary",
	    "Time spent in reconcile passes.");
	prom_set_sample(b, "poolscale_reconcile_duration_seconds_sum", NULL,
	    c->stats.reconcile_seconds_sum);
	prom_set_sample_u64(b, "poolscale_reconcile_duration_seconds_count", NULL,
	    c->stats.reconciles);
	prom_set_header(b, "poolscale_policy_metric_value", "gauge",
	    "The metric value the target policy last used (NaN: none).");
	prom_set_sample(b, "poolscale_policy_metric_value", NULL, c->as.metric);
	prom_set_header(b, "poolscale_policy_recommendation", "gauge",
	    "The size the policy last recommended, before stabilization and limits.");
	prom_set_sample(b, "poolscale_policy_recommendation", NULL, c->as.recommendation);
	prom_set_header(b, "poolscale_policy_holding", "gauge",
	    "1 while the target policy holds the size because metrics are missing.");
	prom_set_sample(b, "poolscale_policy_holding", NULL, c->as.held);
	ctl_forecast_info(c, &fi);
	prom_set_header(b, "poolscale_forecast_instances", "gauge",
	    "The instances the forecast says the pool needs a horizon ahead (NaN: none or off).");
	prom_set_sample(b, "poolscale_forecast_instances", NULL, fi.last.need);
	prom_set_header(b, "poolscale_forecast_horizon_seconds", "gauge",
	    "How far ahead the forecast looks (0: off).");
	prom_set_sample(b, "poolscale_forecast_horizon_seconds", NULL, (double)fi.horizon_ms / 1000);
	prom_set_header(b, "poolscale_forecast_history_seconds", "gauge",
	    "The span of the history the forecaster holds.");
	prom_set_sample(b, "poolscale_forecast_history_seconds", NULL, fi.last.history_s);
	prom_set_header(b, "poolscale_forecast_seasonal", "gauge",
	    "1 while a seasonal profile (daily or weekly) is in use.");
	prom_set_sample(b, "poolscale_forecast_seasonal", NULL,
	    fi.last.season == FORECAST_SEASON_DAILY || fi.last.season == FORECAST_SEASON_WEEKLY);
	prom_set_header(b, "poolscale_forecast_history_loads_total", "counter",
	    "History loads from Prometheus (query_range), by result.");
	prom_set_sample_u64(b, "poolscale_forecast_history_loads_total", "result=\"ok\"",
	    fi.fetches_ok);
	prom_set_sample_u64(b, "poolscale_forecast_history_loads_total", "result=\"failed\"",
	    fi.fetches_failed);
	prom_set_header(b, "poolscale_policy_decisions_total", "counter",
	    "Policy decisions by direction.");
	for (int d = 0; d < 3; d++) {
		snprintf(labels, sizeof(labels), "policy=\"%s\",direction=\"%s\"",
		    ctl_policy_name(c->cfg->policy), policy_dir_name(d));
		prom_set_sample_u64(b, "poolscale_policy_decisions_total", labels, c->as.decisions[d]);
	}
	prom_set_header(b, "poolscale_metric_errors_total", "counter",
	    "Failed or unusable metric queries, by cause.");
	for (int i = 0; i < MCAUSE_N; i++) {
		snprintf(labels, sizeof(labels), "cause=\"%s\"", metric_cause_name(i));
		prom_set_sample_u64(b, "poolscale_metric_errors_total", labels, c->as.metric_errors[i]);
	}
	prom_set_header(b, "poolscale_webhooks_total", "counter",
	    "Webhooks received, by source and result.");
	for (int src = 0; src < WEBHOOK_NSOURCES; src++) {
		for (int r = 0; r < 2; r++) {
			snprintf(labels, sizeof(labels), "source=\"%s\",result=\"%s\"",
			    webhook_source_name(src), r ? "rejected" : "accepted");
			prom_set_sample_u64(b, "poolscale_webhooks_total", labels, c->as.webhooks[src][r]);
		}
	}
}
