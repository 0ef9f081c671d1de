/* common/etcd.h: a client for etcd's v3 HTTP/JSON gateway (/v3/...), the
 * calls a leader election and a fenced state store need: leases (grant,
 * keepalive, revoke), a linearizable range of one key, and the two
 * transactions (create-if-absent, put-if-still-leader). libcurl, blocking:
 * the caller runs it on a thread of its own (controller/ha.c). Each call
 * tries the endpoints in turn, starting with the last one that answered,
 * each attempt bounded by timeout_ms; with a user name it authenticates
 * and renews its token on a 401 (code 16), once per call.
 * Encoding facts (../shared/reference/etcd-v3-gateway.md): keys and values
 * are standard padded base64, int64s come back as strings, fields with
 * their default value are left out (a lost txn has no "succeeded", a dead
 * lease's keepalive no "TTL").
 * Not here: what the keys mean (controller/ha.c), any retry past one pass
 * over the endpoints (the caller's loop is the retry). */
#ifndef POOLSCALE_ETCD_H
#define POOLSCALE_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define ETCD_MAX_ENDPOINTS 8

struct etcd_cfg {
	char endpoints[ETCD_MAX_ENDPOINTS][256];	/* http://host:port or https:// */
	size_t nendpoints;
	int64_t timeout_ms;		/* per attempt, connect included */
	char ca_file[512];		/* "": the system's CAs */
	char cert_file[512];		/* client certificate; "" none */
	char key_file[512];
	char username[128];		/* "": no auth */
	char password[256];		/* never logged */
};

/* Why a call failed, for the caller's "hold and say so once". */
enum etcd_fail {
	ETCD_OK = 0,
	ETCD_UNREACHABLE,	/* no endpoint answered, or each said no leader/timeout (5xx) */
	ETCD_REJECTED,		/* an answer that is an error: 4xx (auth, bad request, no lease) */
	ETCD_BAD_REPLY,		/* an answer we cannot read */
};

/* One key as read. found false: the key does not exist (no "kvs"). */
struct etcd_kv {
	bool found;
	int64_t create_revision, mod_revision;
	int64_t lease;			/* 0: none */
	struct buf value;		/* decoded; owned, etcd_kv_init/fini */
};

void etcd_kv_init(struct etcd_kv *kv, size_t max_bytes);
void etcd_kv_fini(struct etcd_kv *kv);

struct etcd;

struct etcd *etcd_new(const struct etcd_cfg *cfg, struct err *e);
void etcd_free(struct etcd *c);
/* The kind of the last failure (ETCD_OK after a success). */
enum etcd_fail etcd_last_fail(const struct etcd *c);

/* Lease grant: *id and the TTL the server granted (it raises small ones). */
int etcd_lease_grant(struct etcd *c, int64_t ttl_s, int64_t *id, int64_t *ttl_out_s,
    struct err *e);
/* One keepalive: *ttl_s is what is left after it; 0 means the lease is gone
 * (expired or revoked), which is a success of the call, not an error. */
int etcd_lease_keepalive(struct etcd *c, int64_t id, int64_t *ttl_s, struct err *e);
/* Revokes: keys attached to it go at once. A lease already gone is 0. */
int etcd_lease_revoke(struct etcd *c, int64_t id, struct err *e);

/* A linearizable read of one key; *revision is the store's (header). */
int etcd_get(struct etcd *c, const char *key, struct etcd_kv *kv, int64_t *revision,
    struct err *e);

/* Campaign: if key does not exist, puts value attached to lease and reads
 * read_key (the state; may be NULL) in the same transaction: *won true,
 * *revision the put's revision (the key's create_revision, the fencing
 * token), *out read_key's value. Else *won false and *out is key itself
 * (the holder). A timed-out attempt may have been applied before the next
 * endpoint is tried: then the holder is ourselves (out->lease == lease,
 * out->create_revision the token), which the caller must take as a win. */
int etcd_create_if_absent(struct etcd *c, const char *key, const char *value, int64_t lease,
    const char *read_key, bool *won, int64_t *revision, struct etcd_kv *out, struct err *e);

/* Fenced write: puts key = value (len bytes) only while guard_key's
 * create_revision is guard_revision. *ok false: the guard failed, and
 * *holder (may be NULL) is guard_key as it is now (found false: nobody). */
int etcd_put_if(struct etcd *c, const char *guard_key, int64_t guard_revision,
    const char *key, const char *value, size_t len, bool *ok, struct etcd_kv *holder,
    struct err *e);

/* Fenced delete of guard_key itself (resign): *ok false if it was not ours
 * (or a timed-out attempt already deleted it). */
int etcd_delete_if(struct etcd *c, const char *guard_key, int64_t guard_revision, bool *ok,
    struct err *e);

#endif
