#include "provider/endpoint.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Quoted URLs are cut so that the reason still fits in struct err. */
#define SHOW "\"%.64s\""

static bool is_port(const char *p, size_t n)
{
	long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* host[:port] or [v6]:port, non-empty, no user info. */
static int check_authority(const char *url, const char *a, size_t n, struct err *e)
{
	const char *colon;
	size_t hn;

	/* Not quoted: the user info may be a key and secret. */
	if (memchr(a, '@', n) != NULL)
		return err_set(e, "the URL has user info (user@host): credentials go in the "
		    "key and secret settings, never in the URL");
	if (n > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', n);

		if (close == NULL || close == a + 1)
			return err_set(e, SHOW " has a bad IPv6 host (write [::1]:PORT)", url);
		hn = (size_t)(close - a) + 1;
		colon = hn < n ? a + hn : NULL;
		if (colon != NULL && *colon != ':')
			return err_set(e, SHOW " has a bad IPv6 host (write [::1]:PORT)", url);
	} else {
		colon = memchr(a, ':', n);
		hn = colon ? (size_t)(colon - a) : n;
	}
	if (hn == 0)
		return err_set(e, SHOW " has no host", url);
	if (colon != NULL && !is_port(colon + 1, n - (size_t)(colon + 1 - a)))
		return err_set(e, SHOW ": the port is not 1..65535", url);
	return 0;
}

/* Where the path starts (the end of the authority), or NULL with e set. */
static const char *split(const char *url, struct err *e)
{
	const char *sep = strstr(url, "://"), *a, *path;
	size_t sn;

	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			err_set(e, SHOW " has a space or a control character", url);
			return NULL;
		}
	if (*url == '\0') {
		err_set(e, "the endpoint is empty");
		return NULL;
	}
	if (sep == NULL) {
		err_set(e, SHOW " has no scheme: write https://%.64s (or http:// for a local "
		    "test server)", url, url);
		return NULL;
	}
	sn = (size_t)(sep - url);
	if (!((sn == 4 && strncasecmp(url, "http", 4) == 0) ||
	    (sn == 5 && strncasecmp(url, "https", 5) == 0))) {
		err_set(e, SHOW ": the scheme %.*s is not http or https", url,
		    (int)(sn > 16 ? 16 : sn), url);
		return NULL;
	}
	if (strpbrk(url, "?#") != NULL) {
		err_set(e, SHOW " has a query or fragment: give the API's base URL", url);
		return NULL;
	}
	a = sep + 3;
	path = a + strcspn(a, "/");
	if (check_authority(url, a, (size_t)(path - a), e) == -1)
		return NULL;
	return path;
}

int prov_endpoint_check(const char *url, struct err *e)
{
	return split(url, e) == NULL ? -1 : 0;
}

int exo_endpoint_check(const char *url, struct err *e)
{
	const char *path = split(url, e);
	size_t n;

	if (path == NULL)
		return -1;
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n >= 3 && strncmp(path + n - 3, "/v2", 3) == 0)
		return 0;
	/* v1: the seeds' default https://api.exoscale.ch/v1/, and CloudStack's
	 * /compute; both take other calls and another signature. */
	if ((n >= 3 && strncmp(path + n - 3, "/v1", 3) == 0) ||
	    (n >= 8 && strncmp(path + n - 8, "/compute", 8) == 0))
		return err_set(e, SHOW " is an Exoscale API v1 endpoint; poolscale speaks "
		    "API v2 only: leave the endpoint out (https://api-ZONE.exoscale.com/v2)", url);
	return err_set(e, SHOW " does not end in /v2; poolscale speaks Exoscale API v2 only, "
	    "like https://api-ch-gva-2.exoscale.com/v2", url);
}
