/* `poolscale demo`: starts the system, runs the load profile through the lb
 * on a thread of its own, samples the system once a second on the main
 * thread (which also takes Ctrl-C, with sigtimedwait), prints a row every
 * 5 s, then stops everything and writes the report. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "demo/demo.h"
#include "load/engine.h"
#include "load/rate.h"

#define ROW_EVERY_S 5

/* What the load thread hands the sampler: its last second. */
struct shared {
	pthread_mutex_t mu;
	double ok_rps, p95_ms;	/* of the last second the load reported */
	struct hist row;	/* every answer since the last row was printed */
	unsigned long long errors;
	bool done;
};

struct load_job {
	struct load_cfg cfg;
	struct load_result res;
	struct shared *sh;
	atomic_bool stop;
	int rc;
	struct err e;
};

static void on_tick(const struct load_tick *t, void *ctx)
{
	struct shared *sh = ctx;
	unsigned long long errs = 0;

	for (int k = 0; k < LOAD_ERR_N; k++)
		errs += t->err[k];
	pthread_mutex_lock(&sh->mu);
	/* The last tick covers only the drain after the schedule: a few
	 * answers over a few milliseconds are not a rate. */
	if (!t->last) {
		sh->ok_rps = (double)t->ok / t->span_s;
		sh->p95_ms = t->lat.count ? (double)hist_quantile(&t->lat, 0.95) / 1000 : NAN;
	}
	hist_merge(&sh->row, &t->lat);
	sh->errors += errs;
	pthread_mutex_unlock(&sh->mu);
}

static void *load_thread(void *arg)
{
	struct load_job *j = arg;

	j->rc = load_run(&j->cfg, on_tick, j->sh, &j->stop, &j->res, &j->e);
	pthread_mutex_lock(&j->sh->mu);
	j->sh->done = true;
	pthread_mutex_unlock(&j->sh->mu);
	return NULL;
}

static int push(struct demo_run *run, const struct demo_sample *s)
{
	if (run->n == run->cap) {
		size_t ncap = run->cap ? run->cap * 2 : 512;
		struct demo_sample *p = realloc(run->s, ncap * sizeof(*p));

		if (p == NULL)
			return -1;
		run->s = p;
		run->cap = ncap;
	}
	run->s[run->n++] = *s;
	return 0;
}

static void print_row(const struct demo_sample *s)
{
	char p95[16], cpu[16], pool[16];

	if (isfinite(s->row_p95_ms))
		snprintf(p95, sizeof(p95), "%.0f", s->row_p95_ms);
	else
		snprintf(p95, sizeof(p95), "-");
	if (isfinite(s->cpu))
		snprintf(cpu, sizeof(cpu), "%.0f%%", s->cpu * 100);
	else
		snprintf(cpu, sizeof(cpu), "-");
	if (s->desired >= 0)
		snprintf(pool, sizeof(pool), "%d/%d", s->desired, s->ready);
	else
		snprintf(pool, sizeof(pool), "-");
	printf("%5.0fs  %-6s %9.1f %8.1f %7llu %8s %6s %12s\n", s->t_s, s->phase,
	    s->offered_rps, s->ok_rps, s->errors, p95, cpu, pool);
	fflush(stdout);
}

static void intro(const struct demo_plan *p)
{
	printf("poolscale demo: %s policy, pool %d..%d of `poolscale app` on %s+, "
	    "%.2f vCPU each, %g ms of CPU per request\n",
	    p->policy == DEMO_TARGET ? "target tracking" : "step (Prometheus alert -> "
	    "Alertmanager -> webhook)", p->min, p->max, p->address_base, p->vcpu, p->work_ms);
	printf("one instance serves %.1f req/s at 100%% CPU; the load goes %.1f -> %.1f req/s "
	    "and back, through poolscale lb on %s\n", p->capacity_rps, p->ph.quiet_rps,
	    p->ph.peak_rps, p->lb_listen);
	printf("Prometheus http://127.0.0.1:%d  controller API http://127.0.0.1:%d", p->prom_port,
	    p->api_port);
	if (p->policy == DEMO_STEP)
		printf("  Alertmanager http://127.0.0.1:%d", p->am_port);
	printf("\nstatus page http://127.0.0.1:%d/  (members, policy, events, the last hour)",
	    p->api_port);
	printf("\nlogs and report: %s/   (Ctrl-C stops everything)\n\n", p->report_dir);
	fflush(stdout);
}

/* Sleeps until deadline_ms unless SIGINT or SIGTERM comes first: true then. */
static bool signalled_before(int64_t deadline_ms)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	for (;;) {
		int64_t left = deadline_ms - clock_mono_ms();
		struct timespec ts;

		if (left < 0)
			left = 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000L;
		if (sigtimedwait(&set, NULL, &ts) > 0)
			return true;
		if (errno == EAGAIN)
			return false;
		/* EINTR: another signal; wait out the rest. */
	}
}

/* Samples once a second until the load ends; the quiet end is cut short
 * once the pool is back at its minimum. */
static void sample_loop(const struct demo_plan *p, struct demo_run *run, struct load_job *job,
    struct demo_procs *procs, int64_t start_ms)
{
	double nominal_end = p->ph.quiet_s + p->ph.ramp_s + p->ph.hold_s + p->ph.drop_s +
	    p->ph.tail_s;
	unsigned at_min = 0;

	printf("%6s  %-6s %9s %8s %7s %8s %6s %12s\n", "time", "phase", "offered/s", "ok/s",
	    "errors", "p95 ms", "cpu", "desired/ready");
	for (int64_t next = start_ms + 1000;; next += 1000) {
		struct demo_sample s = { 0 };
		bool done, row;

		if (signalled_before(next)) {
			run->interrupted = true;
			atomic_store(&job->stop, true);
			printf("\ninterrupted: stopping the load, then every process\n");
			return;
		}
		s.t_s = (double)(clock_mono_ms() - start_ms) / 1000;
		s.phase = demo_phase_at(&p->ph, s.t_s);
		s.offered_rps = load_rate_at(job->cfg.rate, s.t_s);
		demo_probe(p, &s);
		pthread_mutex_lock(&job->sh->mu);
		s.ok_rps = job->sh->ok_rps;
		s.p95_ms = job->sh->p95_ms;
		s.errors = job->sh->errors;
		done = job->sh->done;
		row = (long)s.t_s % ROW_EVERY_S == 0 || done;
		s.row_p95_ms = NAN;
		if (row) {
			/* The row's p95 is over all its seconds, so a bad second
			 * between two rows cannot hide. */
			if (job->sh->row.count > 0)
				s.row_p95_ms = (double)hist_quantile(&job->sh->row, 0.95) / 1000;
			hist_reset(&job->sh->row);
		}
		pthread_mutex_unlock(&job->sh->mu);
		if (push(run, &s) == -1)
			break;
		if (row)
			print_row(&s);
		if (done)
			return;
		for (int i = 0; i < DEMO_NCHILD; i++)
			if (procs->c[i].pid != 0 && !child_running(&procs->c[i])) {
				snprintf(run->failure, sizeof(run->failure),
				    "%s exited unexpectedly; see %s", procs->c[i].name,
				    procs->c[i].log);
				printf("\n%s\n", run->failure);
				atomic_store(&job->stop, true);
				return;
			}
		at_min = s.desired == p->min && s.ready == p->min ? at_min + 1 : 0;
		if (s.t_s >= nominal_end && at_min >= 3 && !atomic_load(&job->stop)) {
			printf("%5.0fs  back at the minimum: ending the quiet tail\n", s.t_s);
			atomic_store(&job->stop, true);
		}
	}
}

int demo_main(int argc, char **argv)
{
	struct demo_plan plan;
	struct demo_procs procs;
	struct demo_run run = { 0 };
	struct shared sh = { .mu = PTHREAD_MUTEX_INITIALIZER, .p95_ms = NAN };
	struct load_job *job;
	struct load_rate rate;
	struct err e = { "" };
	char spec[512], url[128];
	sigset_t set;
	pthread_t th;
	int rc;

	rc = demo_plan_parse(argc, argv, &plan, &e);
	if (rc == 1)
		return 0;
	if (rc == -1) {
		fprintf(stderr, "poolscale demo: %s\n", e.msg);
		return 2;
	}
	/* Signals wait for sigtimedwait on this thread; threads inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	demo_profile_spec(&plan.ph, spec, sizeof(spec));
	if (load_rate_profile(&rate, spec, 0, &e) == -1) {
		fprintf(stderr, "poolscale demo: load profile %s: %s\n", spec, e.msg);
		return 1;
	}
	intro(&plan);
	printf("starting the controller, %sPrometheus and the lb...\n",
	    plan.policy == DEMO_STEP ? "Alertmanager, " : "");
	fflush(stdout);
	if (demo_start(&plan, &procs, &e) == -1) {
		fprintf(stderr, "poolscale demo: %s\n", e.msg);
		demo_stop(&plan, &procs, NULL);
		load_rate_fini(&rate);
		return 1;
	}
	printf("ready: %d instance serving through the lb; the load starts now\n\n", plan.min);
	job = calloc(1, sizeof(*job));
	if (job == NULL) {
		demo_stop(&plan, &procs, NULL);
		load_rate_fini(&rate);
		return 1;
	}
	snprintf(url, sizeof(url), "http://%s/load", plan.lb_listen);
	load_url_parse(url, &job->cfg.url, &e);
	job->cfg.rate = &rate;
	job->cfg.timeout_ms = 10000;
	job->cfg.max_conns = 256;
	/* New connections often enough for an L4 balancer to spread them. */
	job->cfg.keepalive = 20;
	job->sh = &sh;
	run.plan = &plan;
	run.rise_s = plan.ph.quiet_s;
	run.drop_s = plan.ph.quiet_s + plan.ph.ramp_s + plan.ph.hold_s + plan.ph.drop_s;
	if (pthread_create(&th, NULL, load_thread, job) != 0) {
		fprintf(stderr, "poolscale demo: cannot start the load thread\n");
		demo_stop(&plan, &procs, NULL);
		free(job);
		load_rate_fini(&rate);
		return 1;
	}
	run.start_unix_ms = clock_wall_unix_ms();
	sample_loop(&plan, &run, job, &procs, clock_mono_ms());
	pthread_join(th, NULL);
	if (job->rc == 0)
		run.load = &job->res;
	else
		fprintf(stderr, "poolscale demo: the load generator failed: %s\n", job->e.msg);
	printf("\nstopping: lb, controller, pool, Prometheus%s...\n",
	    plan.policy == DEMO_STEP ? ", Alertmanager" : "");
	fflush(stdout);
	demo_stop(&plan, &procs, &run);
	rc = demo_report(&run, &e);
	if (rc == -1) {
		fprintf(stderr, "poolscale demo: report: %s\n", e.msg);
		rc = 1;
	}
	if (run.interrupted)
		rc = 130;
	free(run.s);
	free(job);
	load_rate_fini(&rate);
	return rc;
}
