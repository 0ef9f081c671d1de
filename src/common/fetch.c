/* Blocking HTTP requests through libcurl; see fetch.h. */
#include <curl/curl.h>
#include <stdio.h>

#include "common/fetch.h"

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
	return buf_append(ctx, p, size * n) == 0 ? size * n : 0;
}

int fetch(const struct fetch_req *r, long *status, struct buf *out, struct err *e)
{
	char auth[300];
	struct curl_slist *h = NULL;
	CURLcode rc;
	CURL *c;

	*status = 0;
	c = curl_easy_init();
	if (c == NULL)
		return err_set(e, "curl_easy_init failed");
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method ? r->method : "GET");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (r->token != NULL && r->token[0] != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", r->token);
		h = curl_slist_append(h, auth);
	}
	if (r->json_body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->json_body);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	else
		err_set(e, "%s: %s", r->url, curl_easy_strerror(rc));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

bool fetch_ok(const char *url, long timeout_ms)
{
	struct fetch_req r = { .url = url, .timeout_ms = timeout_ms };
	struct buf b;
	struct err e;
	long status = 0;
	int rc;

	buf_init(&b, 1 << 20);
	rc = fetch(&r, &status, &b, &e);
	buf_fini(&b);
	return rc == 0 && status == 200;
}
