/* controller/ha.h: high availability, one leader among controllers that
 * share a configuration, elected on etcd (docs/ha.md). A thread of its
 * own keeps a lease alive (a POST every lease/3), campaigns for the leader
 * key (create-if-absent, bound to the lease) while it is free, and writes
 * the state the controller hands it, fenced: only while the leader key is
 * still the one it created. The loop hears of every change through
 * loop_post(), and asks ha_may_act() before any provider mutation.
 * Leadership is a local belief with a deadline: the last keepalive's send
 * time plus the TTL it granted. After a failed keepalive this controller
 * stops acting at once, until one works again (an etcd leader election is
 * a pause, not a change of leader); past the deadline it is no longer the
 * leader, and leads again only by winning the key again (or finding it
 * still bound to its own live lease).
 * Not here: what the state holds (controller/hastate.h), the etcd wire
 * format (common/etcd.h), what acting means (controller/controller.c). */
#ifndef POOLSCALE_CONTROLLER_HA_H
#define POOLSCALE_CONTROLLER_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/etcd.h"
#include "common/loop.h"

struct ha_cfg {
	bool enabled;			/* an `ha:` block was given */
	struct etcd_cfg etcd;
	int64_t lease_ms;		/* asked for; etcd may raise it to its minimum */
	char name[64];			/* this controller; the host name by default */
	char prefix[128];		/* keys: PREFIX "leader", PREFIX "state" */
	char advertise_url[256];	/* the API as others reach it; "": from the listener */
	char password_file[1024];
};

void ha_cfg_defaults(struct ha_cfg *c);

enum ha_event_kind {
	HA_LEADING = 0,		/* won: state (may be empty: none saved yet) is etcd's */
	HA_FOLLOWING,		/* lost or gave up leadership; or a new leader is known */
	HA_STATE_WRITTEN,	/* seq is durable in etcd */
	HA_STATE_SEEN,		/* a follower's view of the leader's state */
};

struct ha_event {
	enum ha_event_kind kind;
	char *state;			/* HA_LEADING, HA_STATE_SEEN: JSON, or NULL */
	size_t state_len;
	uint64_t seq;			/* HA_STATE_WRITTEN */
	char why[192];
};

/* Runs on the loop; the event and its state are freed after it returns. */
typedef void (*ha_event_fn)(void *owner, const struct ha_event *ev);

struct ha;

/* Starts the thread. advertise: what followers tell webhook senders (the
 * API's URL). */
struct ha *ha_new(const struct ha_cfg *cfg, const char *advertise, struct loop *l,
    ha_event_fn fn, void *owner, struct err *e);
/* From now on events are dropped, not delivered: the first step of a
 * shutdown, before the modules the handler uses go. */
void ha_mute(struct ha *h);
/* Mutes, stops the thread; a leader resigns first (revokes its lease, so a
 * follower takes over at once instead of after the TTL). */
void ha_free(struct ha *h);

/* Thread-safe. Whether this controller leads and will still lead for
 * margin_ms: what every provider mutation asks right before it is sent,
 * with the call's own timeout as the margin. */
bool ha_may_act(struct ha *h, int64_t margin_ms);

/* Hands the state to persist (copied; a newer one replaces one not yet
 * written). Returns its sequence number (> 0); HA_STATE_WRITTEN follows
 * once it is in etcd, fenced by the leader key. */
uint64_t ha_put_state(struct ha *h, const char *json, size_t len);

struct ha_info {
	bool leader;
	char name[64];
	char leader_name[64];		/* "" when nobody leads */
	char leader_url[256];
	double lease_seconds_left;	/* this controller's lease; 0 when none */
	uint64_t leader_changes;	/* times this controller became leader or stopped */
	bool etcd_ok;			/* the last call answered */
	char etcd_error[192];		/* the last failure, "" when none */
};

void ha_info(struct ha *h, struct ha_info *out);

#endif
