#include "provider/cloudhttp.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/fileio.h"

#define CLOUD_BODY_MAX (16 << 20)
#define CLOUD_SLEEP_SLICE_MS 50

void cloud_http_cfg_default(struct cloud_http_cfg *c)
{
	c->timeout_ms = 10000;
	c->retries = 4;
	c->backoff_ms = 500;
	c->backoff_max_ms = 8000;
}

void cloud_http_init(struct cloud_http *h, const struct cloud_http_cfg *cfg)
{
	memset(h, 0, sizeof(*h));
	h->cfg = *cfg;
	h->seed = (unsigned)clock_mono_ns() ^ (unsigned)(uintptr_t)h;
}

bool cloud_http_retryable(long status)
{
	return status == 429 || status >= 500;
}

void cloud_http_cancel(struct cloud_http *h)
{
	atomic_store(&h->cancelled, true);
}

bool cloud_http_cancelled(struct cloud_http *h)
{
	return atomic_load(&h->cancelled);
}

void cloud_http_read_stats(struct cloud_http *h, uint64_t *calls, uint64_t *retries,
    uint64_t *failures)
{
	*calls = atomic_load(&h->stats.calls);
	*retries = atomic_load(&h->stats.retries);
	*failures = atomic_load(&h->stats.failures);
}

/* In slices, so a shutdown is not held up by a backoff or a poll. */
void cloud_http_nap(struct cloud_http *h, int64_t ms)
{
	int64_t end = clock_mono_ms() + ms;

	while (!cloud_http_cancelled(h)) {
		int64_t left = end - clock_mono_ms();
		struct timespec ts;

		if (left <= 0)
			return;
		if (left > CLOUD_SLEEP_SLICE_MS)
			left = CLOUD_SLEEP_SLICE_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		nanosleep(&ts, NULL);
	}
}

/* "Equal jitter": half the cap for sure, the other half at random, so retries
 * of many controllers spread out but none retries at once. */
static int64_t backoff(struct cloud_http *h, int attempt, int64_t retry_after_ms)
{
	int64_t d = backoff_ms(attempt, h->cfg.backoff_ms, h->cfg.backoff_max_ms, &h->seed);

	/* The server's Retry-After wins when longer, within the cap. */
	if (retry_after_ms > d)
		d = retry_after_ms < h->cfg.backoff_max_ms ? retry_after_ms : h->cfg.backoff_max_ms;
	return d;
}

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
	return buf_append(ctx, p, size * n) == 0 ? size * n : 0;
}

static int progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return cloud_http_cancelled(ctx) ? 1 : 0;
}

#define ATTEMPT_UNSIGNED (-2)	/* the request could not be signed: no retry helps */

/* The fence of the mutating call running on this thread (runner.h). */
static _Thread_local bool (*fence_fn)(void *ctx, int64_t margin_ms);
static _Thread_local void *fence_ctx;

void cloud_http_fence(bool (*fn)(void *ctx, int64_t margin_ms), void *ctx)
{
	fence_fn = fn;
	fence_ctx = ctx;
}

/* libcurl calls it once connected, right before the request goes out: the
 * last moment at which a controller that stopped leading can hold it back. */
static int prereq(void *ctx, char *conn_ip, char *local_ip, int conn_port, int local_port)
{
	struct cloud_http *h = ctx;

	(void)conn_ip;
	(void)local_ip;
	(void)conn_port;
	(void)local_port;
	if (fence_fn != NULL && !fence_fn(fence_ctx, h->cfg.timeout_ms))
		return CURL_PREREQFUNC_ABORT;
	return CURL_PREREQFUNC_OK;
}

/* One attempt. The status, or -1 (no answer) or ATTEMPT_UNSIGNED with e set. */
static long attempt(struct cloud_http *h, const struct cloud_req *r, struct buf *resp,
    int64_t *retry_after_ms, struct err *e)
{
	struct cloud_header hdr[CLOUD_MAX_HEADERS];
	size_t nh = 0;
	struct curl_slist *list = NULL;
	char line[sizeof(hdr[0].name) + sizeof(hdr[0].value) + 4], errbuf[CURL_ERROR_SIZE] = "";
	curl_off_t ra = 0;
	CURL *c;
	CURLcode rc;
	long status = -1;

	buf_reset(resp);
	if (r->sign != NULL && r->sign(r->sign_ctx, r, hdr, &nh, e) == -1)
		return ATTEMPT_UNSIGNED;
	c = curl_easy_init();
	if (c == NULL)
		return err_set(e, "curl_easy_init failed");
	for (size_t i = 0; i < nh; i++) {
		hdr[i].name[sizeof(hdr[i].name) - 1] = hdr[i].value[sizeof(hdr[i].value) - 1] = '\0';
		snprintf(line, sizeof(line), "%.47s: %.4607s", hdr[i].name, hdr[i].value);
		list = curl_slist_append(list, line);
	}
	if (r->content_type != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", r->content_type);
		list = curl_slist_append(list, line);
	}
	list = curl_slist_append(list, "Accept:");
	list = curl_slist_append(list, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
	} else if (strcmp(r->method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->cfg.timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, h->cfg.user_agent[0] ? h->cfg.user_agent :
	    "poolscale/" POOLSCALE_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, prereq);
	curl_easy_setopt(c, CURLOPT_PREREQDATA, h);
	atomic_fetch_add(&h->stats.calls, 1);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			*retry_after_ms = (int64_t)ra * 1000;
	} else if (rc == CURLE_WRITE_ERROR) {
		err_set(e, "response larger than %d bytes", CLOUD_BODY_MAX);
	} else if (rc == CURLE_ABORTED_BY_CALLBACK && fence_fn != NULL &&
	    !fence_fn(fence_ctx, h->cfg.timeout_ms)) {
		err_set(e, "not sent: this controller no longer leads");
		status = ATTEMPT_UNSIGNED;	/* no retry helps */
	} else if (rc == CURLE_ABORTED_BY_CALLBACK) {
		err_set(e, "cancelled");
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		err_set(e, "timeout after %lld ms", (long long)h->cfg.timeout_ms);
	} else {
		err_set(e, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	curl_slist_free_all(list);
	curl_easy_cleanup(c);
	return status;
}

/* Whether an answer is worth asking again: a success never is; an error
 * as the request's hook says, else by its status. */
static bool retry_answer(const struct cloud_req *r, long status, const struct buf *resp)
{
	if (status < 400)
		return false;
	if (r->retryable != NULL)
		return r->retryable(status, resp->p ? resp->p : "", resp->len);
	return cloud_http_retryable(status);
}

long cloud_http_do(struct cloud_http *h, const struct cloud_req *r, struct buf *resp,
    struct err *e)
{
	long status = -1;

	resp->max = CLOUD_BODY_MAX;
	for (int i = 0; i <= h->cfg.retries; i++) {
		int64_t retry_after_ms = 0;

		if (cloud_http_cancelled(h))
			return err_set(e, "cancelled");
		if (i > 0)
			atomic_fetch_add(&h->stats.retries, 1);
		status = attempt(h, r, resp, &retry_after_ms, e);
		if (status == ATTEMPT_UNSIGNED)
			break;
		if (status != -1 && !retry_answer(r, status, resp))
			break;
		if (status == -1 && r->once_unanswered)
			break;
		if (cloud_http_cancelled(h))
			return err_set(e, "cancelled");
		if (i < h->cfg.retries)
			cloud_http_nap(h, backoff(h, i + 1, retry_after_ms));
	}
	/* A refused call (any 4xx) is a failure as much as one that ran out
	 * of retries; out of retries, a 5xx/429 is still an answer the caller
	 * can read. */
	if (status < 200 || status >= 300)
		atomic_fetch_add(&h->stats.failures, 1);
	return status == ATTEMPT_UNSIGNED ? -1 : status;
}

int cloud_read_secret(const char *path, char *dst, size_t cap, struct err *e)
{
	struct buf b;
	size_t n;
	char *p;

	buf_init(&b, 64 * 1024);
	if (file_read_all(path, &b, NULL, e) == -1) {
		buf_fini(&b);
		return -1;
	}
	p = b.p ? b.p : "";
	n = b.len;
	while (n > 0 && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
		p++;
		n--;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\n' || p[i] == '\r') {
			n = i;
			break;
		}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= cap) {
		buf_fini(&b);
		return err_set(e, "%s: %s", path, n == 0 ? "empty" : "too long for a secret");
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
	explicit_bzero(b.p, b.len);
	buf_fini(&b);
	return 0;
}

void cloud_body_line(const char *body, size_t len, char *dst, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c == '\n' || c == '\r')
			break;
		dst[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[n] = '\0';
	if (n == 0)
		snprintf(dst, cap, "(empty body)");
}

/* Where a sentence ends: '.', '!' or '?' followed by a space or the end. */
static bool sentence_end(const char *text, size_t i)
{
	return (text[i] == '.' || text[i] == '!' || text[i] == '?') &&
	    (text[i + 1] == ' ' || text[i + 1] == '\0');
}

void cloud_fit_text(const char *text, char *dst, size_t cap)
{
	size_t len = strlen(text), keep = 0;

	if (cap == 0)
		return;
	if (len < cap) {
		memcpy(dst, text, len + 1);
		return;
	}
	for (size_t i = 0; i + 1 < cap; i++)
		if (sentence_end(text, i))
			keep = i + 1;
	if (keep > 0) {
		memcpy(dst, text, keep);
		dst[keep] = '\0';
		return;
	}
	/* Not even one sentence: the words that fit before "...". */
	if (cap < 4) {
		dst[0] = '\0';
		return;
	}
	for (size_t i = 0; i + 4 <= cap; i++)
		if (text[i] == ' ')
			keep = i;
	if (keep == 0)
		keep = cap - 4;
	memcpy(dst, text, keep);
	memcpy(dst + keep, "...", 4);
}

int cloud_err_message(struct err *e, const char *message, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	if (message[0] == '\0' || n + 3 >= sizeof(e->msg))
		return -1;
	memcpy(e->msg + n, ": ", 3);
	cloud_fit_text(message, e->msg + n + 2, sizeof(e->msg) - n - 2);
	return -1;
}
