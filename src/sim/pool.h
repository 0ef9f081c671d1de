/* sim/pool.h: the simulated pool: members that boot, serve, drain and go,
 * the CPU each one burns and the requests the load balancer sends it, and
 * what Prometheus sees of them (scrapes of cumulative CPU and received-
 * request counters and of the queue gauge, rate() over a window, optional
 * noise). Scale-out
 * and scale-in follow the controller: new members boot for the boot time
 * and are ready at the first health check after it; scale-in drains the
 * booting ones first, then the youngest ready ones. Not here: load and
 * latency (sim/latency.h), policies (sim/sim.c). */
#ifndef POOLSCALE_SIM_POOL_H
#define POOLSCALE_SIM_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/config.h"

enum smember_state { SM_BOOTING = 0, SM_READY, SM_DRAINING, SM_GONE };

struct smember {
	int id;
	enum smember_state state;
	int64_t created_ms, ready_ms, gone_ms;	/* gone_ms: when it stops billing */
	double busy_s;		/* CPU-seconds of its allotment so far */
	double received;	/* requests sent to it so far, served or not */
	int64_t *sample_ms;	/* scrape ring: times, and busy_s and received then */
	double *sample_v;
	double *sample_r;
	size_t head, count;
	double queue;		/* its queue length at its last scrape */
};

#define SPOOL_LONG_AGO_MS (INT64_MIN / 4)

struct spool {
	const struct sim_cfg *cfg;
	struct smember *m;
	size_t n, cap;		/* by id; gone ones are dropped now and then */
	size_t ngone;
	size_t ring;		/* scrape ring size */
	int next_id;
	int booting, ready, draining;
	double charged_s;	/* billed seconds of gone members, in billing units */
	double backlog;		/* requests queued in the pool now (the caller keeps it) */
};

/* What a member's sample measures, for the policies' observations. */
enum spool_metric {
	SPOOL_METRIC_CPU = 0,	/* rate() of its CPU: 0..1 of its allotment */
	SPOOL_METRIC_REQUESTS,	/* rate() of poolscale_app_requests_received_total */
};

/* n members, ready since long ago, keeping the scrapes a window_ms query
 * needs. 0, or -1 when out of memory. */
int spool_init(struct spool *p, const struct sim_cfg *cfg, int n, int64_t window_ms);
void spool_fini(struct spool *p);
/* Members that count toward the desired size (booting and ready). */
int spool_active(const struct spool *p);
/* Members billed now: booting, ready and draining. */
int spool_supply(const struct spool *p);

/* Resizes the active members to want at now. Each new member's id is
 * appended to started, each drained member's to drained (room for the
 * change in size); the caller schedules their ready_ms and gone_ms. -1 when
 * out of memory. Members are found by id: gone ones are compacted away. */
int spool_resize(struct spool *p, int want, int64_t now_ms, int *started, size_t *nstarted,
    int *drained, size_t *ndrained);
/* The member with this id, or NULL when it is gone. */
struct smember *spool_find(struct spool *p, int id);
void spool_ready(struct spool *p, int id);
void spool_gone(struct spool *p, int id);

/* Every ready member burns util (0..1) of its allotment for dt_ms from
 * now_ms (a boot CPU spike shows on top, as configured). */
void spool_burn(struct spool *p, double util, int64_t now_ms, int64_t dt_ms);
/* The load balancer sent arrivals requests over the ready members, evenly
 * (those that will queue or fail included: the app counts on arrival). */
void spool_receive(struct spool *p, double arrivals);
/* Prometheus scrapes each target at its own offset within the interval
 * (a hash of the target, fixed): member id's offset here, in [0, scrape):
 * simulate.scrape_offset, or drawn per member when that is `random`. */
int64_t spool_scrape_phase(const struct spool *p, int id);
/* The first scrape of member id at or after t. */
int64_t spool_next_scrape(const struct spool *p, int id, int64_t t);
/* A scrape of member id at now, when it is ready: its counters, and its
 * share of the pool's backlog as its queue gauge. false once it has left
 * the pool for good (draining or gone): no more scrapes. */
bool spool_scrape(struct spool *p, int id, int64_t now_ms);
/* rate() of member i's CPU over window_ms at now, with the configured noise;
 * NaN when fewer than two samples fall in the window. */
double spool_cpu(const struct spool *p, size_t i, int64_t window_ms, int64_t now_ms);
/* rate() of member i's received requests over window_ms at now (req/s),
 * with the configured noise scaled to one instance's capacity; NaN when
 * fewer than two samples fall in the window. */
double spool_requests(const struct spool *p, size_t i, int64_t window_ms, int64_t now_ms);
/* Member i's value of metric m (spool_cpu or spool_requests). */
double spool_metric(const struct spool *p, enum spool_metric m, size_t i, int64_t window_ms,
    int64_t now_ms);
/* The sum of the ready members' queue gauges at their last scrapes (what
 * sum(poolscale_app_queue_length) reads); NaN when none was scraped. */
double spool_queue(const struct spool *p);
/* The mean over ready members with a value (Prometheus avg()); NaN: none. */
double spool_mean_cpu(const struct spool *p, int64_t window_ms, int64_t now_ms);
/* Billed seconds so far, rounded up per member to the billing unit. */
double spool_charged_s(const struct spool *p, int64_t now_ms);

/* A deterministic uniform in [0, 1) from (seed, a, b). */
double sim_uniform(uint64_t seed, uint64_t a, uint64_t b);

#endif
