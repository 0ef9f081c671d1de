/* provider/exo_sign.c: EXO2-HMAC-SHA256 (reference exoscale-api-v2.md
 * section 2; egoscale v2/api/security.go signRequest). */
#include "provider/exo_sign.h"

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "provider/sigv4.h"

/* The message copies the body; bodies here are small JSON documents. */
#define EXO_MESSAGE_MAX ((size_t)64 << 20)

static int param_cmp(const void *a, const void *b)
{
	const struct sigv4_param *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* A name goes into signed-query-args, split on ';' after a ','. */
static bool is_listable(const char *name)
{
	for (; *name != '\0'; name++) {
		unsigned char c = (unsigned char)*name;

		if (c < 0x20 || c == 0x7f || c == ',' || c == ';')
			return false;
	}
	return true;
}

/* Decodes the query and keeps the parameters given exactly once, sorted by
 * name (bytewise, as Go's sort.Strings): q->v[0..q->n) afterwards. On -1
 * q needs no fini. */
static int signed_params(const char *query, struct sigv4_query *q, struct err *e)
{
	size_t kept = 0, i, j;

	if (query != NULL && strchr(query, ';') != NULL)
		return err_set(e, "query: ';' is not a separator (Go's url.ParseQuery refuses it)");
	if (sigv4_query_decode(query, q, e) == -1)
		return -1;
	if (q->n > 0)
		qsort(q->v, q->n, sizeof(*q->v), param_cmp);
	for (i = 0; i < q->n; i = j) {
		for (j = i + 1; j < q->n && strcmp(q->v[j].name, q->v[i].name) == 0; j++)
			;
		if (j == i + 1)
			q->v[kept++] = q->v[i];
	}
	q->n = kept;
	for (i = 0; i < q->n; i++) {
		if (!is_listable(q->v[i].name)) {
			err_set(e, "query: parameter name \"%s\" can't be listed in signed-query-args",
			    q->v[i].name);
			sigv4_query_fini(q);
			return -1;
		}
	}
	return 0;
}

static int check_req(const struct exo_req *r, struct err *e)
{
	if (r->method == NULL || *r->method == '\0' || strpbrk(r->method, " \n") != NULL)
		return err_set(e, "method \"%s\" is empty or holds a blank",
		    r->method != NULL ? r->method : "");
	if (r->path == NULL || r->path[0] != '/' || strchr(r->path, '\n') != NULL)
		return err_set(e, "path \"%s\" must start with '/' and be one line",
		    r->path != NULL ? r->path : "");
	if (r->body == NULL && r->body_len > 0)
		return err_set(e, "body: NULL with a length of %zu", r->body_len);
	return 0;
}

/* The five segments, joined by LF: "METHOD PATH", body, values, headers
 * (always empty), expiry. */
static int build_message(const struct exo_req *r, const struct sigv4_query *q, struct buf *out,
    struct err *e)
{
	size_t len0 = out->len;
	int bad = 0;

	bad |= buf_appends(out, r->method);
	bad |= buf_appends(out, " ");
	bad |= buf_appends(out, r->path);
	bad |= buf_appends(out, "\n");
	bad |= buf_append(out, r->body, r->body_len);
	bad |= buf_appends(out, "\n");
	for (size_t i = 0; i < q->n; i++)
		bad |= buf_appends(out, q->v[i].value);
	bad |= buf_appendf(out, "\n\n%" PRId64, r->expires_unix_s);
	if (bad != 0) {
		out->len = len0;
		return err_set(e, "message: longer than %zu bytes", out->max);
	}
	return 0;
}

int exo_message(const struct exo_req *r, struct buf *out, struct err *e)
{
	struct sigv4_query q;
	int rc;

	if (check_req(r, e) == -1 || signed_params(r->query, &q, e) == -1)
		return -1;
	rc = build_message(r, &q, out, e);
	sigv4_query_fini(&q);
	return rc;
}

int exo_sign(const struct exo_req *r, const char *key, const char *secret, struct buf *out,
    struct err *e)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned char b64[4 * ((32 + 2) / 3) + 1];
	unsigned int mdlen = 0;
	size_t len0 = out->len;
	struct sigv4_query q;
	struct buf msg;
	int rc = -1, bad = 0;

	if (key == NULL || *key == '\0' || !is_listable(key))
		return err_set(e, "API key is empty or holds ',', ';' or a control byte");
	if (secret == NULL || *secret == '\0' || strlen(secret) > INT_MAX)
		return err_set(e, "API secret is empty");
	if (check_req(r, e) == -1 || signed_params(r->query, &q, e) == -1)
		return -1;
	buf_init(&msg, EXO_MESSAGE_MAX);
	if (build_message(r, &q, &msg, e) == -1)
		goto out;
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg.p,
	    msg.len, md, &mdlen) == NULL || mdlen != 32) {
		err_set(e, "HMAC-SHA256 failed");
		goto out;
	}
	EVP_EncodeBlock(b64, md, 32);
	OPENSSL_cleanse(md, sizeof(md));

	bad |= buf_appends(out, "EXO2-HMAC-SHA256 credential=");
	bad |= buf_appends(out, key);
	for (size_t i = 0; i < q.n; i++) {
		bad |= buf_appends(out, i == 0 ? ",signed-query-args=" : ";");
		bad |= buf_appends(out, q.v[i].name);
	}
	bad |= buf_appendf(out, ",expires=%" PRId64 ",signature=%s", r->expires_unix_s,
	    (const char *)b64);
	if (bad != 0) {
		out->len = len0;
		err_set(e, "Authorization: longer than %zu bytes", out->max);
		goto out;
	}
	rc = 0;
out:
	buf_fini(&msg);
	sigv4_query_fini(&q);
	return rc;
}
