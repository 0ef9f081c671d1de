/* provider/sigv4.c: AWS SigV4 as @smithy/signature-v4 and botocore's
 * SigV4Auth compute it (header form; reference aws-autoscaling.md section 8). */
#include "provider/sigv4.h"

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* The canonical request and the other texts built here. Queries and
 * headers this large are refused by any HTTP server long before. */
#define SIGV4_TEXT_MAX ((size_t)1 << 20)

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* A canonical name and value, both NUL-terminated. */
struct kv {
	const char *k;
	const char *v;
};

static const char hexdig_upper[] = "0123456789ABCDEF";

/* 0..15, or -1 when c is not a hex digit. */
static int hexval(char c)
{
	if (!isxdigit((unsigned char)c))
		return -1;
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Lower-case hex of p[0..n) into out, which holds 2n + 1 bytes. */
static void hex_lower(const unsigned char *p, size_t n, char *out)
{
	static const char dig[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = dig[p[i] >> 4];
		out[2 * i + 1] = dig[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(n > 0 ? p : "", n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -1;
	hex_lower(md, 32, out);
	return 0;
}

static int hmac_sha256(const void *key, size_t key_len, const void *msg, size_t len,
    unsigned char out[32])
{
	unsigned int n = 0;

	if (key_len > INT_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int)key_len, msg, len, out, &n) == NULL || n != 32)
		return -1;
	return 0;
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_' || c == '.' || c == '~';
}

static bool is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

static size_t encoded_len(const char *s, size_t n)
{
	size_t len = n;

	for (size_t i = 0; i < n; i++)
		if (!is_unreserved((unsigned char)s[i]))
			len += 2;
	return len;
}

/* Writes the encoding of s[0..n) at dst (encoded_len bytes); returns the end. */
static char *encode_to(char *dst, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c)) {
			*dst++ = (char)c;
		} else {
			*dst++ = '%';
			*dst++ = hexdig_upper[c >> 4];
			*dst++ = hexdig_upper[c & 15];
		}
	}
	return dst;
}

int sigv4_uri_encode(struct buf *b, const char *s, size_t n)
{
	size_t len;

	if (n > SIZE_MAX / 3)
		return -1;
	len = encoded_len(s, n);
	if (len == 0)
		return 0;
	if (buf_reserve(b, len) == -1)
		return -1;
	encode_to(b->p + b->len, s, n);
	b->len += len;
	return 0;
}

/* Decodes raw[0..n) to dst and NUL-terminates it; returns the end past the
 * NUL, or NULL (cause in e). */
static char *form_decode(const char *raw, size_t n, char *dst, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (raw[i] == '+') {
			*dst++ = ' ';
			continue;
		}
		if (raw[i] != '%') {
			*dst++ = raw[i];
			continue;
		}
		hi = i + 1 < n ? hexval(raw[i + 1]) : -1;
		lo = i + 2 < n ? hexval(raw[i + 2]) : -1;
		if (hi < 0 || lo < 0) {
			err_set(e, "query: malformed escape \"%.*s\"", (int)(n - i < 3 ? n - i : 3),
			    raw + i);
			return NULL;
		}
		if (hi == 0 && lo == 0) {
			err_set(e, "query: %%00 (a NUL byte) is not allowed");
			return NULL;
		}
		*dst++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*dst++ = '\0';
	return dst;
}

void sigv4_query_fini(struct sigv4_query *q)
{
	free(q->v);
	free(q->mem);
	q->v = NULL;
	q->mem = NULL;
	q->n = 0;
}

int sigv4_query_decode(const char *query, struct sigv4_query *q, struct err *e)
{
	size_t len, max_params = 1;
	const char *s;
	char *w;

	q->v = NULL;
	q->n = 0;
	q->mem = NULL;
	if (query == NULL || *query == '\0')
		return 0;
	len = strlen(query);
	for (s = query; *s != '\0'; s++)
		if (*s == '&')
			max_params++;
	/* A decoded piece is never longer than its raw form; each piece adds
	 * at most two NULs (name and value). */
	q->v = calloc(max_params, sizeof(*q->v));
	q->mem = malloc(len + 2 * max_params);
	if (q->v == NULL || q->mem == NULL) {
		sigv4_query_fini(q);
		return err_set(e, "query: out of memory");
	}
	w = q->mem;
	for (s = query; *s != '\0';) {
		size_t plen = strcspn(s, "&"), nlen;
		const char *eq = memchr(s, '=', plen);

		if (plen > 0) {
			struct sigv4_param *p = &q->v[q->n];

			nlen = eq != NULL ? (size_t)(eq - s) : plen;
			p->name = w;
			w = form_decode(s, nlen, w, e);
			p->value = w;
			if (w != NULL && eq != NULL)
				w = form_decode(eq + 1, plen - nlen - 1, w, e);
			else if (w != NULL)
				*w++ = '\0';
			if (w == NULL) {
				sigv4_query_fini(q);
				return -1;
			}
			q->n++;
		}
		s += plen;
		if (*s == '&')
			s++;
	}
	return 0;
}

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c != 0 ? c : strcmp(x->v, y->v);
}

/* The query decoded and encoded again the SigV4 way, sorted by name, then
 * value, joined with '&': how the server sees it, whether a space came as
 * '+' or %20. */
static int canonical_query(const char *query, struct buf *out, struct err *e)
{
	struct sigv4_query q;
	struct kv *kv = NULL;
	char *mem = NULL, *w;
	size_t total = 0;
	int rc = -1, bad = 0;

	if (sigv4_query_decode(query, &q, e) == -1)
		return -1;
	if (q.n == 0) {
		rc = 0;
		goto out;
	}
	for (size_t i = 0; i < q.n; i++)
		total += encoded_len(q.v[i].name, strlen(q.v[i].name)) +
		    encoded_len(q.v[i].value, strlen(q.v[i].value)) + 2;
	kv = calloc(q.n, sizeof(*kv));
	mem = malloc(total);
	if (kv == NULL || mem == NULL) {
		err_set(e, "query: out of memory");
		goto out;
	}
	w = mem;
	for (size_t i = 0; i < q.n; i++) {
		kv[i].k = w;
		w = encode_to(w, q.v[i].name, strlen(q.v[i].name));
		*w++ = '\0';
		kv[i].v = w;
		w = encode_to(w, q.v[i].value, strlen(q.v[i].value));
		*w++ = '\0';
	}
	qsort(kv, q.n, sizeof(*kv), kv_cmp);
	for (size_t i = 0; i < q.n; i++) {
		if (i > 0)
			bad |= buf_appends(out, "&");
		bad |= buf_appends(out, kv[i].k);
		bad |= buf_appends(out, "=");
		bad |= buf_appends(out, kv[i].v);
	}
	if (bad != 0)
		err_set(e, "query: longer than %zu bytes", out->max);
	else
		rc = 0;
out:
	free(kv);
	free(mem);
	sigv4_query_fini(&q);
	return rc;
}

/* Each segment of the path encoded; '/' kept. */
static int canonical_path(const char *path, struct buf *out, struct err *e)
{
	const char *s;
	int bad = 0;

	if (path == NULL || *path == '\0')
		path = "/";
	if (*path != '/')
		return err_set(e, "path \"%s\" does not start with '/'", path);
	for (s = path; *s != '\0';) {
		size_t n;

		s++;	/* past '/' */
		n = strcspn(s, "/");
		if ((n == 0 && s[0] == '/') || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return err_set(e, "path \"%s\" is not normalised", path);
		bad |= buf_appends(out, "/");
		bad |= sigv4_uri_encode(out, s, n);
		s += n;
	}
	if (bad != 0)
		return err_set(e, "path: longer than %zu bytes", out->max);
	return 0;
}

static int check_header(const char *name, const char *value, struct err *e)
{
	if (!is_token(name))
		return err_set(e, "header name \"%s\" is not a token", name != NULL ? name : "");
	if (strcasecmp(name, "x-amz-date") == 0 ||
	    strcasecmp(name, "x-amz-security-token") == 0)
		return err_set(e, "header %s: the signer adds it", name);
	if (value == NULL)
		return err_set(e, "header %s: no value", name);
	for (const char *v = value; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return err_set(e, "header %s: control byte 0x%02x in the value", name, c);
	}
	return 0;
}

/* Writes lower-case name and trimmed value (inner runs of blanks collapsed to
 * one space, as smithy's `.trim().replace(/\s+/g, " ")`); returns the end. */
static char *put_header(char *w, struct kv *kv, const char *name, const char *value)
{
	bool blank = false, any = false;

	kv->k = w;
	for (; *name != '\0'; name++)
		*w++ = (*name >= 'A' && *name <= 'Z') ? (char)(*name - 'A' + 'a') : *name;
	*w++ = '\0';
	kv->v = w;
	for (; *value != '\0'; value++) {
		if (*value == ' ' || *value == '\t') {
			blank = any;
			continue;
		}
		if (blank)
			*w++ = ' ';
		blank = false;
		any = true;
		*w++ = *value;
	}
	*w++ = '\0';
	return w;
}

/* The signed headers, canonical and sorted by name: the caller's plus
 * x-amz-date and the session token. *mem holds the strings; the caller
 * frees *out and *mem. */
static int sorted_headers(const struct sigv4_req *r, const char *token, struct kv **out,
    size_t *nout, char **mem, struct err *e)
{
	size_t n = r->nheaders + 1 + (token != NULL ? 1 : 0), total, i;
	bool host = false;
	struct kv *kv;
	char *w;

	*out = NULL;
	*mem = NULL;
	if (r->nheaders > 0 && r->headers == NULL)
		return err_set(e, "headers: NULL with a count of %zu", r->nheaders);
	total = sizeof("x-amz-date") + strlen(r->amz_date) + 1;
	if (token != NULL)
		total += sizeof("x-amz-security-token") + strlen(token) + 1;
	for (i = 0; i < r->nheaders; i++) {
		if (check_header(r->headers[i].name, r->headers[i].value, e) == -1)
			return -1;
		total += strlen(r->headers[i].name) + strlen(r->headers[i].value) + 2;
	}
	kv = calloc(n, sizeof(*kv));
	w = *mem = malloc(total);
	if (kv == NULL || w == NULL) {
		err_set(e, "headers: out of memory");
		goto fail;
	}
	for (i = 0; i < r->nheaders; i++)
		w = put_header(w, &kv[i], r->headers[i].name, r->headers[i].value);
	w = put_header(w, &kv[i++], "x-amz-date", r->amz_date);
	if (token != NULL)
		put_header(w, &kv[i], "x-amz-security-token", token);
	qsort(kv, n, sizeof(*kv), kv_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(kv[i - 1].k, kv[i].k) == 0) {
			err_set(e, "header %s given twice", kv[i].k);
			goto fail;
		}
		if (strcmp(kv[i].k, "host") == 0)
			host = true;
	}
	if (!host) {
		err_set(e, "headers: no Host");
		goto fail;
	}
	*out = kv;
	*nout = n;
	return 0;
fail:
	free(kv);
	free(*mem);
	*mem = NULL;
	return -1;
}

static bool is_amz_date(const char *s)
{
	if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return false;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return false;
	return true;
}

/* A scope part: non-empty and without '/', which separates the parts. */
static bool is_scope_part(const char *s)
{
	return s != NULL && *s != '\0' && strchr(s, '/') == NULL;
}

static int check_req(const struct sigv4_req *r, const struct sigv4_creds *c, struct err *e)
{
	if (!is_token(r->method))
		return err_set(e, "method \"%s\" is not a token", r->method != NULL ? r->method : "");
	if (r->body == NULL && r->body_len > 0)
		return err_set(e, "body: NULL with a length of %zu", r->body_len);
	if (!is_amz_date(r->amz_date))
		return err_set(e, "date \"%s\" is not YYYYMMDDTHHMMSSZ",
		    r->amz_date != NULL ? r->amz_date : "");
	if (!is_scope_part(r->region) || !is_scope_part(r->service))
		return err_set(e, "region and service must be non-empty, without '/'");
	if (c->access_key == NULL || *c->access_key == '\0' || c->secret_key == NULL ||
	    *c->secret_key == '\0')
		return err_set(e, "credentials: empty access key or secret");
	if (!is_scope_part(c->access_key))
		return err_set(e, "access key: '/' is not allowed");
	return 0;
}

int sigv4_signing_key(const char *secret, const char *datestamp, const char *region,
    const char *service, unsigned char key[32])
{
	unsigned char k_date[32], k_region[32], k_service[32];
	size_t n;
	char *k0;
	int rc = -1;

	if (secret == NULL || datestamp == NULL || region == NULL || service == NULL)
		return -1;
	n = strlen(secret);
	k0 = malloc(n + 4);
	if (k0 == NULL)
		return -1;
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, secret, n);
	if (hmac_sha256(k0, n + 4, datestamp, strlen(datestamp), k_date) == 0 &&
	    hmac_sha256(k_date, 32, region, strlen(region), k_region) == 0 &&
	    hmac_sha256(k_region, 32, service, strlen(service), k_service) == 0 &&
	    hmac_sha256(k_service, 32, "aws4_request", 12, key) == 0)
		rc = 0;
	OPENSSL_cleanse(k0, n + 4);
	OPENSSL_cleanse(k_date, sizeof(k_date));
	OPENSSL_cleanse(k_region, sizeof(k_region));
	OPENSSL_cleanse(k_service, sizeof(k_service));
	free(k0);
	if (rc == -1)
		OPENSSL_cleanse(key, 32);
	return rc;
}

/* Appends src to dst unless dst is NULL; -1 when dst is full. */
static int copy_out(struct buf *dst, const struct buf *src)
{
	return dst == NULL ? 0 : buf_append(dst, src->p, src->len);
}

int sigv4_sign(const struct sigv4_req *r, const struct sigv4_creds *c, struct buf *authorization,
    struct buf *canonical, struct buf *string_to_sign, struct err *e)
{
	const char *token = c->session_token != NULL && *c->session_token != '\0' ?
	    c->session_token : NULL;
	size_t alen = authorization->len;
	size_t clen = canonical != NULL ? canonical->len : 0;
	size_t slen = string_to_sign != NULL ? string_to_sign->len : 0;
	char date8[9], payload_hex[65], creq_hex[65], sig_hex[65];
	unsigned char key[32], sig[32];
	struct buf creq, sts, scope;
	struct kv *hdr = NULL;
	char *hmem = NULL;
	size_t nhdr = 0;
	int rc = -1, bad = 0;

	if (check_req(r, c, e) == -1)
		return -1;
	memcpy(date8, r->amz_date, 8);
	date8[8] = '\0';
	buf_init(&creq, SIGV4_TEXT_MAX);
	buf_init(&sts, SIGV4_TEXT_MAX);
	buf_init(&scope, SIGV4_TEXT_MAX);
	if (sorted_headers(r, token, &hdr, &nhdr, &hmem, e) == -1)
		goto out;
	if (sha256_hex(r->body, r->body_len, payload_hex) == -1) {
		err_set(e, "SHA-256 of the body failed");
		goto out;
	}

	bad |= buf_appends(&creq, r->method);
	bad |= buf_appends(&creq, "\n");
	if (canonical_path(r->path, &creq, e) == -1)
		goto out;
	bad |= buf_appends(&creq, "\n");
	if (canonical_query(r->query, &creq, e) == -1)
		goto out;
	bad |= buf_appends(&creq, "\n");
	for (size_t i = 0; i < nhdr; i++)
		bad |= buf_appendf(&creq, "%s:%s\n", hdr[i].k, hdr[i].v);
	bad |= buf_appends(&creq, "\n");
	for (size_t i = 0; i < nhdr; i++)
		bad |= buf_appendf(&creq, "%s%s", i > 0 ? ";" : "", hdr[i].k);
	bad |= buf_appends(&creq, "\n");
	bad |= buf_appends(&creq, payload_hex);
	if (bad != 0) {
		err_set(e, "canonical request: longer than %zu bytes", creq.max);
		goto out;
	}
	if (sha256_hex(creq.p, creq.len, creq_hex) == -1) {
		err_set(e, "SHA-256 of the canonical request failed");
		goto out;
	}

	bad |= buf_appendf(&scope, "%s/%s/%s/aws4_request", date8, r->region, r->service);
	bad |= buf_appendf(&sts, SIGV4_ALGORITHM "\n%s\n%.*s\n%s", r->amz_date,
	    (int)scope.len, scope.p, creq_hex);
	if (bad != 0) {
		err_set(e, "string to sign: longer than %zu bytes", sts.max);
		goto out;
	}
	if (sigv4_signing_key(c->secret_key, date8, r->region, r->service, key) == -1 ||
	    hmac_sha256(key, 32, sts.p, sts.len, sig) == -1) {
		OPENSSL_cleanse(key, sizeof(key));
		err_set(e, "HMAC-SHA256 failed");
		goto out;
	}
	OPENSSL_cleanse(key, sizeof(key));
	hex_lower(sig, 32, sig_hex);

	bad |= buf_appendf(authorization, SIGV4_ALGORITHM " Credential=%s/%.*s, SignedHeaders=",
	    c->access_key, (int)scope.len, scope.p);
	for (size_t i = 0; i < nhdr; i++)
		bad |= buf_appendf(authorization, "%s%s", i > 0 ? ";" : "", hdr[i].k);
	bad |= buf_appendf(authorization, ", Signature=%s", sig_hex);
	bad |= copy_out(canonical, &creq);
	bad |= copy_out(string_to_sign, &sts);
	if (bad != 0) {
		err_set(e, "an output buffer is full");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		authorization->len = alen;
		if (canonical != NULL)
			canonical->len = clen;
		if (string_to_sign != NULL)
			string_to_sign->len = slen;
	}
	free(hdr);
	free(hmem);
	buf_fini(&creq);
	buf_fini(&sts);
	buf_fini(&scope);
	return rc;
}

/* Writes v as exactly width decimal digits (v >= 0, fits). */
static void put_digits(char *p, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

void sigv4_amz_date(int64_t unix_s, char dst[17])
{
	/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
	const int64_t min_s = -62167219200, max_s = 253402300799;
	int64_t days, secs, era, doe, yoe, doy, mp, y, m, d;

	if (unix_s < min_s)
		unix_s = min_s;
	if (unix_s > max_s)
		unix_s = max_s;
	days = unix_s / 86400;
	secs = unix_s % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	/* Civil date from days since 1970-01-01 (Howard Hinnant's
	 * civil_from_days, proleptic Gregorian). */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2 ? 1 : 0);

	put_digits(dst, y, 4);
	put_digits(dst + 4, m, 2);
	put_digits(dst + 6, d, 2);
	dst[8] = 'T';
	put_digits(dst + 9, secs / 3600, 2);
	put_digits(dst + 11, secs / 60 % 60, 2);
	put_digits(dst + 13, secs % 60, 2);
	dst[15] = 'Z';
	dst[16] = '\0';
}
