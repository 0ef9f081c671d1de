/* provider/exo_sign.h: the Exoscale API v2 request signature
 * (EXO2-HMAC-SHA256), as egoscale's signRequest computes it: the message to
 * sign and the Authorization header value. Pure: no I/O, no clock (the
 * caller passes the expiry, now + 10 minutes in the official clients).
 * Not here: building or sending requests (the Exoscale provider), checking a
 * received signature (the fake server). */
#ifndef POOLSCALE_PROVIDER_EXO_SIGN_H
#define POOLSCALE_PROVIDER_EXO_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

struct exo_req {
	const char *method;	/* "GET", "PUT" ... */
	const char *path;	/* escaped URL path as sent, with the /v2 prefix */
	const char *query;	/* raw query string without '?', NULL or "" for none */
	const char *body;	/* may be NULL when body_len is 0 */
	size_t body_len;
	int64_t expires_unix_s;
};

/* The query is read as Go's url.ParseQuery reads it ('+' is a space, %XX a
 * byte, empty values kept) and only parameters given exactly once are signed,
 * as egoscale does. Unlike Go, which silently skips them, a malformed escape,
 * a raw ';', %00, or a signed name holding ',', ';' or a control byte is an
 * error. Both functions append to out and leave it as it was on error. */

/* The message to sign (five segments, section 2). 0, or -1 with e set. */
int exo_message(const struct exo_req *r, struct buf *out, struct err *e);
/* The whole Authorization header value "EXO2-HMAC-SHA256 credential=..."
 * 0, or -1 with e set. */
int exo_sign(const struct exo_req *r, const char *key, const char *secret, struct buf *out, struct err *e);

#endif
