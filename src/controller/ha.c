/* The election thread (controller/ha.h). Every etcd call is blocking and
 * bounded by ha.timeout per endpoint; the thread's loop is the retry. */
#include "controller/ha.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/logonce.h"

/* After a failed call the thread waits this long before the next. */
#define HA_RETRY_MS 250

void ha_cfg_defaults(struct ha_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->lease_ms = 10000;
	c->etcd.timeout_ms = 2000;
	snprintf(c->prefix, sizeof(c->prefix), "/poolscale/");
	if (gethostname(c->name, sizeof(c->name)) == -1 || c->name[0] == '\0')
		snprintf(c->name, sizeof(c->name), "controller");
	c->name[sizeof(c->name) - 1] = '\0';
}

struct ha {
	struct ha_cfg cfg;
	struct etcd *etcd;
	struct loop *loop;
	ha_event_fn fn;
	void *owner;
	char leader_key[192], state_key[192];
	char my_value[512];		/* the leader key's value when we hold it */
	pthread_t thread;
	bool started;
	_Atomic bool muted;		/* events are dropped: shutting down */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	/* Under mu: what the loop and the runner read. */
	bool leader;
	bool suspended;			/* leading, but the last keepalive failed */
	int64_t lease_deadline_ms;	/* monotonic; 0: no lease */
	char leader_name[64], leader_url[256];
	uint64_t changes;
	bool etcd_ok;
	char etcd_error[192];
	char *pending;			/* state to write, newest wins */
	size_t pending_len;
	uint64_t pending_seq, next_seq;

	/* The thread's own. */
	int64_t lease_id;
	int64_t lease_ttl_ms;
	int64_t next_keepalive_ms;
	int64_t my_revision;		/* the leader key's create_revision while we lead */
	struct log_once hold_log;
};

static void post(struct ha *h, enum ha_event_kind kind, const char *why, struct etcd_kv *kv,
    uint64_t seq);

/* ---- the loop's side ---- */

struct ha_post {
	struct ha *h;
	struct ha_event ev;
};

static void deliver(struct loop *l, void *arg)
{
	struct ha_post *p = arg;

	(void)l;
	if (!atomic_load(&p->h->muted))
		p->h->fn(p->h->owner, &p->ev);
	free(p->ev.state);
	free(p);
}

static void post(struct ha *h, enum ha_event_kind kind, const char *why, struct etcd_kv *kv,
    uint64_t seq)
{
	struct ha_post *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return;
	p->h = h;
	p->ev.kind = kind;
	p->ev.seq = seq;
	snprintf(p->ev.why, sizeof(p->ev.why), "%s", why ? why : "");
	if (kv != NULL && kv->found && kv->value.len > 0) {
		p->ev.state = malloc(kv->value.len + 1);
		if (p->ev.state != NULL) {
			memcpy(p->ev.state, kv->value.p, kv->value.len);
			p->ev.state[kv->value.len] = '\0';
			p->ev.state_len = kv->value.len;
		}
	}
	if (loop_post(h->loop, deliver, p) == -1) {
		free(p->ev.state);
		free(p);
	}
}

bool ha_may_act(struct ha *h, int64_t margin_ms)
{
	bool ok;

	pthread_mutex_lock(&h->mu);
	ok = h->leader && !h->suspended && clock_mono_ms() + margin_ms < h->lease_deadline_ms;
	pthread_mutex_unlock(&h->mu);
	return ok;
}

uint64_t ha_put_state(struct ha *h, const char *json, size_t len)
{
	char *copy = malloc(len + 1);
	uint64_t seq;

	pthread_mutex_lock(&h->mu);
	seq = ++h->next_seq;
	if (copy != NULL) {
		memcpy(copy, json, len);
		copy[len] = '\0';
		free(h->pending);
		h->pending = copy;
		h->pending_len = len;
		h->pending_seq = seq;
	}
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return seq;
}

void ha_info(struct ha *h, struct ha_info *out)
{
	int64_t left;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&h->mu);
	out->leader = h->leader && !h->suspended;
	snprintf(out->name, sizeof(out->name), "%s", h->cfg.name);
	snprintf(out->leader_name, sizeof(out->leader_name), "%s", h->leader_name);
	snprintf(out->leader_url, sizeof(out->leader_url), "%s", h->leader_url);
	left = h->lease_deadline_ms - clock_mono_ms();
	out->lease_seconds_left = h->lease_deadline_ms > 0 && left > 0 ? (double)left / 1000.0 : 0;
	out->leader_changes = h->changes;
	out->etcd_ok = h->etcd_ok;
	snprintf(out->etcd_error, sizeof(out->etcd_error), "%s", h->etcd_error);
	pthread_mutex_unlock(&h->mu);
}

/* ---- the thread's side ---- */

/* The class of a failure: the hold is logged once per class, not once per
 * endpoint's wording. */
static const char *fail_name(enum etcd_fail f)
{
	switch (f) {
	case ETCD_UNREACHABLE: return "unreachable (no answer, or no quorum)";
	case ETCD_REJECTED: return "rejected";
	case ETCD_BAD_REPLY: return "unreadable reply";
	default: return "failed";
	}
}

/* consensus: the call went through raft (a grant, a transaction). Only
 * those show that etcd is back: a keepalive or a read may still succeed
 * on a member that has just lost its quorum (lease renewal is the etcd
 * leader's alone), and counting those would log the outage twice. */
static void note_etcd(struct ha *h, int rc, const struct err *e, bool consensus)
{
	if (rc == 0 && !consensus)
		return;
	pthread_mutex_lock(&h->mu);
	h->etcd_ok = rc == 0;
	snprintf(h->etcd_error, sizeof(h->etcd_error), "%s", rc == 0 ? "" : e->msg);
	pthread_mutex_unlock(&h->mu);
	if (rc == 0) {
		log_once_ok(&h->hold_log, "etcd answers again");
	} else if (log_once_fail(&h->hold_log, LOG_WARN, "etcd unavailable: this controller "
	    "does not act until it leads with a live lease", fail_name(etcd_last_fail(h->etcd)))) {
		log_msg(LOG_WARN, "etcd", "error=%s", e->msg);
	}
}

/* The holder named in the leader key's value: {"name": ..., "url": ...}. */
static void take_holder(struct ha *h, const struct etcd_kv *kv)
{
	json_t *root = NULL, *name, *url;

	if (kv->found && kv->value.len > 0)
		root = json_loadb(kv->value.p, kv->value.len, 0, NULL);
	name = json_object_get(root, "name");
	url = json_object_get(root, "url");
	pthread_mutex_lock(&h->mu);
	snprintf(h->leader_name, sizeof(h->leader_name), "%s",
	    json_is_string(name) ? json_string_value(name) : "");
	snprintf(h->leader_url, sizeof(h->leader_url), "%s",
	    json_is_string(url) ? json_string_value(url) : "");
	pthread_mutex_unlock(&h->mu);
	json_decref(root);
}

static void step_down(struct ha *h, const char *why)
{
	bool was;

	pthread_mutex_lock(&h->mu);
	was = h->leader;
	h->leader = h->suspended = false;
	if (was)
		h->changes++;
	h->leader_name[0] = h->leader_url[0] = '\0';
	pthread_mutex_unlock(&h->mu);
	h->my_revision = 0;
	if (!was)
		return;
	log_msg(LOG_WARN, "leadership lost: acting stops", "name=%s reason=%s", h->cfg.name, why);
	post(h, HA_FOLLOWING, why, NULL, 0);
}

static void lead(struct ha *h, int64_t revision, struct etcd_kv *state)
{
	pthread_mutex_lock(&h->mu);
	h->leader = true;
	h->changes++;
	snprintf(h->leader_name, sizeof(h->leader_name), "%s", h->cfg.name);
	/* A write left from an earlier term is older than what a leader in
	 * between may have written: dropped, not written over it. The loop
	 * hands over all of its state again on HA_LEADING. */
	free(h->pending);
	h->pending = NULL;
	pthread_mutex_unlock(&h->mu);
	h->my_revision = revision;
	log_msg(LOG_INFO, "leading", "name=%s revision=%lld lease_ms=%lld", h->cfg.name,
	    (long long)revision, (long long)h->lease_ttl_ms);
	post(h, HA_LEADING, "won the leader key", state, 0);
}

/* Keeps the lease alive (or gets one). Acting needs a lease whose deadline
 * has not passed and a last keepalive that worked: a failed one suspends
 * acting at once, since the server may already count the lease as gone. */
static void tend_lease(struct ha *h, int64_t now)
{
	struct err e;
	int64_t id, ttl_s, sent = now;
	int rc;

	if (h->lease_id == 0) {
		rc = etcd_lease_grant(h->etcd, (h->cfg.lease_ms + 999) / 1000, &id, &ttl_s, &e);
		note_etcd(h, rc, &e, true);
		if (rc == -1)
			return;
		h->lease_id = id;
		h->lease_ttl_ms = ttl_s * 1000;
		h->next_keepalive_ms = sent + h->lease_ttl_ms / 3;
		pthread_mutex_lock(&h->mu);
		h->lease_deadline_ms = sent + h->lease_ttl_ms;
		pthread_mutex_unlock(&h->mu);
		return;
	}
	if (now < h->next_keepalive_ms)
		return;
	rc = etcd_lease_keepalive(h->etcd, h->lease_id, &ttl_s, &e);
	note_etcd(h, rc, &e, false);
	if (rc == -1) {
		/* The server may count the lease as gone: no acting from now
		 * on. Leadership itself ends with the lease's deadline, so an
		 * etcd leader election (1 to 2 s of 503s) is a pause, not a
		 * change of leader. */
		pthread_mutex_lock(&h->mu);
		if (h->leader && !h->suspended)
			log_msg(LOG_WARN, "a keepalive failed: not acting until one succeeds",
			    "name=%s", h->cfg.name);
		h->suspended = h->leader;
		pthread_mutex_unlock(&h->mu);
		h->next_keepalive_ms = clock_mono_ms() + HA_RETRY_MS;
		return;
	}
	if (ttl_s <= 0) {
		step_down(h, "the lease expired");
		h->lease_id = 0;
		pthread_mutex_lock(&h->mu);
		h->lease_deadline_ms = 0;
		pthread_mutex_unlock(&h->mu);
		return;
	}
	h->next_keepalive_ms = sent + h->lease_ttl_ms / 3;
	pthread_mutex_lock(&h->mu);
	h->lease_deadline_ms = sent + ttl_s * 1000;
	if (h->suspended)
		log_msg(LOG_INFO, "keepalives work again: acting resumes", "name=%s", h->cfg.name);
	h->suspended = false;
	pthread_mutex_unlock(&h->mu);
}

/* A follower's turn: take the key if it is free (or still ours), else
 * learn who holds it and what state it last wrote. */
static void campaign(struct ha *h)
{
	struct etcd_kv kv, st;
	struct err e;
	int64_t rev, srev;
	bool won;
	int rc;

	if (h->lease_id == 0 || clock_mono_ms() >= h->lease_deadline_ms)
		return;
	etcd_kv_init(&kv, 1 << 20);
	rc = etcd_create_if_absent(h->etcd, h->leader_key, h->my_value, h->lease_id, h->state_key,
	    &won, &rev, &kv, &e);
	note_etcd(h, rc, &e, true);
	if (rc == 0 && won) {
		lead(h, rev, &kv);
	} else if (rc == 0 && kv.found && kv.lease == h->lease_id) {
		/* Ours already: a keepalive failed, the lease did not. The
		 * state is read again, as at any win. */
		etcd_kv_init(&st, 1 << 20);
		rc = etcd_get(h->etcd, h->state_key, &st, &srev, &e);
		note_etcd(h, rc, &e, false);
		if (rc == 0)
			lead(h, kv.create_revision, &st);
		etcd_kv_fini(&st);
	} else if (rc == 0) {
		bool changed;
		char before[64];

		pthread_mutex_lock(&h->mu);
		snprintf(before, sizeof(before), "%s", h->leader_name);
		pthread_mutex_unlock(&h->mu);
		take_holder(h, &kv);
		pthread_mutex_lock(&h->mu);
		changed = strcmp(before, h->leader_name) != 0;
		pthread_mutex_unlock(&h->mu);
		if (changed)
			post(h, HA_FOLLOWING, "a new leader", NULL, 0);
		/* The leader's state, for this follower's view (desired). */
		etcd_kv_init(&st, 1 << 20);
		if (etcd_get(h->etcd, h->state_key, &st, &srev, &e) == 0 && st.found)
			post(h, HA_STATE_SEEN, "", &st, 0);
		etcd_kv_fini(&st);
	}
	etcd_kv_fini(&kv);
}

/* The leader's turn: write the newest state handed over, fenced. */
static void write_state(struct ha *h)
{
	struct etcd_kv holder;
	struct err e;
	char *json;
	size_t len;
	uint64_t seq;
	bool ok;
	int rc;

	pthread_mutex_lock(&h->mu);
	json = h->pending;
	len = h->pending_len;
	seq = h->pending_seq;
	h->pending = NULL;
	pthread_mutex_unlock(&h->mu);
	if (json == NULL)
		return;
	etcd_kv_init(&holder, 4096);
	rc = etcd_put_if(h->etcd, h->leader_key, h->my_revision, h->state_key, json, len, &ok,
	    &holder, &e);
	note_etcd(h, rc, &e, true);
	if (rc == 0 && ok) {
		post(h, HA_STATE_WRITTEN, "", NULL, seq);
		free(json);
	} else {
		/* Kept for another try in this term, if nothing newer came. */
		pthread_mutex_lock(&h->mu);
		if (h->pending == NULL) {
			h->pending = json;
			h->pending_len = len;
			h->pending_seq = seq;
			json = NULL;
		}
		pthread_mutex_unlock(&h->mu);
		free(json);
		if (rc == 0)
			step_down(h, "the leader key is no longer ours");
	}
	etcd_kv_fini(&holder);
}

static void nap(struct ha *h, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->mu);
	if (!h->stop && !(h->leader && h->pending != NULL))
		pthread_cond_timedwait(&h->cv, &h->mu, &ts);
	pthread_mutex_unlock(&h->mu);
}

static void *run(void *arg)
{
	struct ha *h = arg;
	/* Followers look at the key this often: a leader that died is
	 * replaced within lease + this. */
	int64_t poll_ms = h->cfg.lease_ms / 5 < 500 ? h->cfg.lease_ms / 5 : 500;

	for (;;) {
		int64_t now = clock_mono_ms();
		bool leader, stop;

		bool expired;

		pthread_mutex_lock(&h->mu);
		stop = h->stop;
		/* A deadline passed while no keepalive could be sent (a pause,
		 * a slow etcd): not leading any more, whatever else holds. */
		expired = h->leader && now >= h->lease_deadline_ms;
		pthread_mutex_unlock(&h->mu);
		if (stop)
			break;
		if (expired)
			step_down(h, "the lease deadline passed");
		tend_lease(h, now);
		pthread_mutex_lock(&h->mu);
		leader = h->leader;
		pthread_mutex_unlock(&h->mu);
		if (leader)
			write_state(h);
		else
			campaign(h);
		pthread_mutex_lock(&h->mu);
		leader = h->leader;
		pthread_mutex_unlock(&h->mu);
		if (h->lease_id == 0 || !h->etcd_ok)
			nap(h, HA_RETRY_MS);
		else if (leader)
			nap(h, h->next_keepalive_ms - clock_mono_ms() > 0 ?
			    h->next_keepalive_ms - clock_mono_ms() : 1);
		else
			nap(h, poll_ms);
	}
	return NULL;
}

struct ha *ha_new(const struct ha_cfg *cfg, const char *advertise, struct loop *l,
    ha_event_fn fn, void *owner, struct err *e)
{
	struct ha *h = calloc(1, sizeof(*h));
	json_t *v;
	char *s;

	if (h == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	h->cfg = *cfg;
	h->loop = l;
	h->fn = fn;
	h->owner = owner;
	pthread_mutex_init(&h->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&h->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	snprintf(h->leader_key, sizeof(h->leader_key), "%sleader", cfg->prefix);
	snprintf(h->state_key, sizeof(h->state_key), "%sstate", cfg->prefix);
	v = json_pack("{s:s, s:s}", "name", cfg->name, "url", advertise ? advertise : "");
	s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (s == NULL || strlen(s) >= sizeof(h->my_value)) {
		free(s);
		ha_free(h);
		err_set(e, "ha: name or address too long");
		return NULL;
	}
	snprintf(h->my_value, sizeof(h->my_value), "%s", s);
	free(s);
	h->etcd = etcd_new(&cfg->etcd, e);
	if (h->etcd == NULL) {
		ha_free(h);
		return NULL;
	}
	if (pthread_create(&h->thread, NULL, run, h) != 0) {
		ha_free(h);
		err_set(e, "ha: cannot start its thread");
		return NULL;
	}
	h->started = true;
	return h;
}

void ha_mute(struct ha *h)
{
	if (h != NULL)
		atomic_store(&h->muted, true);
}

void ha_free(struct ha *h)
{
	struct err e;

	if (h == NULL)
		return;
	ha_mute(h);
	if (h->started) {
		pthread_mutex_lock(&h->mu);
		h->stop = true;
		pthread_cond_signal(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->thread, NULL);
		/* Resign: the key goes with the lease, and a follower leads at
		 * once instead of after the TTL. */
		if (h->lease_id != 0 && etcd_lease_revoke(h->etcd, h->lease_id, &e) == 0)
			log_msg(LOG_INFO, "resigned", "name=%s", h->cfg.name);
		loop_flush_posts(h->loop);	/* its events, dropped */
	}
	etcd_free(h->etcd);
	free(h->pending);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
