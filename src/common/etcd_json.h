/* common/etcd_json.h: the JSON of etcd's v3 gateway, as the client in
 * common/etcd.c uses it: request bodies built byte for byte, replies read
 * into structs. Pure: no I/O, no clock, no globals.
 * Encoding (../shared/reference/etcd-v3-gateway.md, 1.2 and 1.3): keys and
 * values are standard padded base64; int64s are sent as JSON strings and
 * read from strings (strtoll, never a double) or integers; a field left out
 * is zero, false or empty (a lost txn has no "succeeded", a dead lease's
 * keepalive no "TTL"). Anything else malformed is an error, never a guess.
 * Not here: HTTP, endpoints, auth tokens (common/etcd.c). */
#ifndef POOLSCALE_ETCD_JSON_H
#define POOLSCALE_ETCD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/etcd.h"

/* Base64 longer than this is refused before any allocation (replies are
 * capped at 1 MiB by the transport anyway). */
#define ETCD_B64_MAX_CHARS (64u << 20)

/* The base64 of len bytes of p appended to out (standard, padded). */
int etcd_b64_append(struct buf *out, const void *p, size_t len);
/* Decodes standard padded base64 s (n chars) into out (reset first);
 * -1 on a bad character, length or padding, or past out->max. */
int etcd_b64_decode(const char *s, size_t n, struct buf *out, struct err *e);

/* Request bodies, appended to out (compact JSON, fields in a fixed order).
 * Keys are NUL-terminated and not empty; 0, or -1 with e set. */
int etcd_json_grant(struct buf *out, int64_t ttl_s, struct err *e);
/* {"ID":"<id>"}: the body of keepalive and of revoke. */
int etcd_json_lease_id(struct buf *out, int64_t id, struct err *e);
int etcd_json_range(struct buf *out, const char *key, struct err *e);
/* Campaign: compare create_revision(key) == 0; success: put key=value with
 * lease (none when 0), then range read_key (when not NULL); failure: range
 * key (the holder). */
int etcd_json_create_if_absent(struct buf *out, const char *key, const char *value,
    int64_t lease, const char *read_key, struct err *e);
/* Fenced put: compare create_revision(guard_key) == guard_revision (> 0);
 * success: put key = value (len bytes); failure: range guard_key. */
int etcd_json_put_if(struct buf *out, const char *guard_key, int64_t guard_revision,
    const char *key, const void *value, size_t len, struct err *e);
/* Fenced delete: same compare; success: delete guard_key; no failure ops. */
int etcd_json_delete_if(struct buf *out, const char *guard_key, int64_t guard_revision,
    struct err *e);
/* {"name":..,"password":..}: out holds the password; the caller wipes it. */
int etcd_json_authenticate(struct buf *out, const char *name, const char *password,
    struct err *e);

/* An error reply, either shape: unary {"error","message","code"} or a
 * stream line {"error":{"grpc_code","http_code","message"}}. */
struct etcd_json_error {
	int code;		/* the gRPC code: 5 not found, 14 unavailable, 16 unauthenticated */
	int http_code;		/* the stream shape's; 0 in the unary one */
	char message[128];	/* control characters replaced by '?' */
};

/* true when body is an error object of either shape, filling *out. */
bool etcd_json_parse_error(const char *body, size_t len, struct etcd_json_error *out);

/* Replies. Each returns 0, or -1 with e saying what is wrong with it. */
/* Grant: ID and TTL, both required and > 0. */
int etcd_json_parse_grant(const char *body, size_t len, int64_t *id, int64_t *ttl_s,
    struct err *e);
/* Keepalive: one {"result":{...}} line. *ttl_s 0 when "TTL" is absent (the
 * lease is gone); *id 0 when "ID" is absent. A stream error line is -1,
 * with *stream_error (may be NULL) filled and its code > 0. */
int etcd_json_parse_keepalive(const char *body, size_t len, int64_t *id, int64_t *ttl_s,
    struct etcd_json_error *stream_error, struct err *e);
/* Any reply with a header (revoke): *revision, 0 when absent. */
int etcd_json_parse_header(const char *body, size_t len, int64_t *revision, struct err *e);
/* Range of one key: kv->found false when there is no "kvs". */
int etcd_json_parse_range(const char *body, size_t len, struct etcd_kv *kv,
    int64_t *revision, struct err *e);
/* The campaign's txn. Won: *revision is the put's (the fencing token), out
 * read_key's value (found false when read_key was not asked or is absent).
 * Lost: *revision 0, out the holder. has_read_key says whether the request
 * had the read_key range (a reply must then carry it). */
int etcd_json_parse_create_if_absent(const char *body, size_t len, bool has_read_key,
    bool *won, int64_t *revision, struct etcd_kv *out, struct err *e);
/* The fenced put's txn: *ok, and when not ok *holder (may be NULL) is the
 * guard key as the failure branch read it. */
int etcd_json_parse_put_if(const char *body, size_t len, bool *ok, struct etcd_kv *holder,
    struct err *e);
int etcd_json_parse_delete_if(const char *body, size_t len, bool *ok, struct err *e);
/* Authenticate: the token, copied into token (cap bytes with the NUL). */
int etcd_json_parse_token(const char *body, size_t len, char *token, size_t cap,
    struct err *e);

#endif
