/* provider/sigv4.h: AWS Signature Version 4, header form, as the Auto Scaling
 * and EC2 Query APIs take it: canonical request, string to sign, signing key
 * and the Authorization value. Also form-query decoding, which the Exoscale
 * signer shares. Pure: no I/O, no clock (the caller passes the date).
 * Not here: building the form body or sending the request (the AWS provider),
 * checking a received signature (the fake server). */
#ifndef POOLSCALE_PROVIDER_SIGV4_H
#define POOLSCALE_PROVIDER_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

struct sigv4_header { const char *name; const char *value; };
struct sigv4_creds { const char *access_key, *secret_key, *session_token; /* token NULL or "" when none */ };
struct sigv4_req {
	const char *method;
	const char *path;		/* "/" for these APIs; each segment is URI-encoded by the signer */
	const char *query;		/* raw query as sent (form-encoded: '+' is a space), NULL or "" for none */
	const struct sigv4_header *headers;	/* headers to sign; must include Host. The signer adds x-amz-date and, with a token, x-amz-security-token */
	size_t nheaders;
	const char *body;
	size_t body_len;
	const char *amz_date;		/* "YYYYMMDDTHHMMSSZ" */
	const char *region, *service;
};

/* Authorization header value. canonical and string_to_sign may be NULL; when
 * given they receive those texts (tests, debug). All three are appended to;
 * on error (-1, cause in e) each is left as it was. Header names must be
 * tokens, values free of CR, LF and other control bytes; a name given twice,
 * or x-amz-date / x-amz-security-token given by the caller, is an error. The
 * path must start with '/' and have no ".", ".." or empty inner segments (the
 * signer does not normalise it). */
int sigv4_sign(const struct sigv4_req *r, const struct sigv4_creds *c, struct buf *authorization,
    struct buf *canonical, struct buf *string_to_sign, struct err *e);
/* Signing key for (secret, datestamp, region, service): 32 raw bytes into
 * key[32] (tests compare the hex vectors). 0, or -1 when OpenSSL fails. */
int sigv4_signing_key(const char *secret, const char *datestamp, const char *region, const char *service, unsigned char key[32]);
/* Formats unix seconds as an X-Amz-Date "YYYYMMDDTHHMMSSZ" (UTC). dst has at
 * least 17 bytes. Times outside years 0000..9999 are clamped to that range. */
void sigv4_amz_date(int64_t unix_s, char dst[17]);
/* Appends s URI-encoded the SigV4 way (RFC 3986 unreserved kept, all else
 * %XX upper-case). Also usable to build form bodies. 0, or -1 when b is full. */
int sigv4_uri_encode(struct buf *b, const char *s, size_t n);

/* One decoded query parameter; both strings are NUL-terminated. */
struct sigv4_param {
	const char *name;
	const char *value;
};

/* A decoded query. The owner calls sigv4_query_fini(); names and values live
 * in mem until then. */
struct sigv4_query {
	struct sigv4_param *v;
	size_t n;
	char *mem;
};

/* Decodes a raw form-encoded query ("b=x+y&a=%2F") in the order given, as Go's
 * url.ParseQuery reads it: split on '&', empty pieces skipped, name and value
 * split at the first '=' (none: empty value), '+' is a space, %XX a byte.
 * NULL or "" gives n == 0. -1 on a malformed escape or a decoded NUL byte;
 * q then needs no fini. */
int sigv4_query_decode(const char *query, struct sigv4_query *q, struct err *e);
void sigv4_query_fini(struct sigv4_query *q);

#endif
