#include "lb/hmsg.h"

#include <string.h>

static struct slice trim(struct slice s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

static bool slices_eq_nocase(struct slice a, struct slice b)
{
	return a.len == b.len && strncasecmp(a.p, b.p, a.len) == 0;
}

/* Does the comma-separated list v hold the token tok? */
static bool list_has(struct slice v, struct slice tok)
{
	size_t i = 0;

	while (i < v.len) {
		size_t j = i;

		while (j < v.len && v.p[j] != ',')
			j++;
		if (slices_eq_nocase(trim((struct slice){ v.p + i, j - i }), tok))
			return true;
		i = j + 1;
	}
	return false;
}

static bool list_has_lit(struct slice v, const char *tok)
{
	return list_has(v, (struct slice){ tok, strlen(tok) });
}

bool lb_hmsg_is_hop(struct slice name, const struct http_header *h, size_t n)
{
	static const char *const fixed[] = {
		"connection", "keep-alive", "proxy-connection", "te", "upgrade",
	};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (slice_eq_nocase(name, fixed[i]))
			return true;
	if (slice_eq_nocase(name, "content-length") || slice_eq_nocase(name, "transfer-encoding") ||
	    slice_eq_nocase(name, "host"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (slice_eq_nocase(h[i].name, "connection") && list_has(h[i].value, name))
			return true;
	return false;
}

bool lb_hmsg_idempotent(struct slice m)
{
	return slice_eq(m, "GET") || slice_eq(m, "HEAD") || slice_eq(m, "OPTIONS") ||
	    slice_eq(m, "TRACE") || slice_eq(m, "PUT") || slice_eq(m, "DELETE");
}

static int put(struct buf *out, struct slice s)
{
	return buf_append(out, s.p, s.len);
}

static int put_header(struct buf *out, const struct http_header *h)
{
	if (put(out, h->name) == -1 || buf_append(out, ": ", 2) == -1 ||
	    put(out, h->value) == -1 || buf_append(out, "\r\n", 2) == -1)
		return -1;
	return 0;
}

int lb_hmsg_request(const struct http_request *r, const char *client_ip,
    const char *host_fallback, struct buf *out)
{
	bool have_host = false, first = true;

	if (put(out, r->method) == -1 || buf_append(out, " ", 1) == -1 ||
	    put(out, r->target) == -1 || buf_appends(out, " HTTP/1.1\r\n") == -1)
		return -1;
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct http_header *h = &r->headers[i];

		if (lb_hmsg_is_hop(h->name, r->headers, r->nheaders) ||
		    slice_eq_nocase(h->name, "x-forwarded-proto") ||
		    slice_eq_nocase(h->name, "x-forwarded-for"))
			continue;
		have_host |= slice_eq_nocase(h->name, "host");
		if (put_header(out, h) == -1)
			return -1;
	}
	if (!have_host && buf_appendf(out, "Host: %s\r\n", host_fallback) == -1)
		return -1;
	/* Every X-Forwarded-For line the client sent goes into one, ours last. */
	if (buf_appends(out, "X-Forwarded-For: ") == -1)
		return -1;
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct http_header *h = &r->headers[i];

		if (!slice_eq_nocase(h->name, "x-forwarded-for") || h->value.len == 0)
			continue;
		if ((!first && buf_append(out, ", ", 2) == -1) || put(out, h->value) == -1)
			return -1;
		first = false;
	}
	if ((!first && buf_append(out, ", ", 2) == -1) ||
	    buf_appendf(out, "%s\r\nX-Forwarded-Proto: http\r\n\r\n", client_ip) == -1)
		return -1;
	return 0;
}

bool lb_hmsg_backend_keeps(const char *head, const struct http_response_head *r)
{
	if (head[7] != '1')
		return false;	/* HTTP/1.0: closes unless asked, and we do not ask */
	for (size_t i = 0; i < r->nheaders; i++)
		if (slice_eq_nocase(r->headers[i].name, "connection") &&
		    list_has_lit(r->headers[i].value, "close"))
			return false;
	return true;
}

int lb_hmsg_response(const char *head, const struct http_response_head *r,
    bool close_client, bool client_http10, struct buf *out)
{
	const char *eol = memchr(head, '\n', r->head_len);
	size_t n = (size_t)(eol - head);

	if (n > 0 && head[n - 1] == '\r')
		n--;
	/* "HTTP/1.x " is ours to say: the client talks to us, not the backend. */
	if (buf_appends(out, "HTTP/1.1 ") == -1 || buf_append(out, head + 9, n - 9) == -1 ||
	    buf_append(out, "\r\n", 2) == -1)
		return -1;
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct http_header *h = &r->headers[i];

		if (lb_hmsg_is_hop(h->name, r->headers, r->nheaders))
			continue;
		if (r->chunked && slice_eq_nocase(h->name, "content-length"))
			continue;	/* RFC 9112 6.3: chunked wins; never pass both */
		if (put_header(out, h) == -1)
			return -1;
	}
	if (close_client && buf_appends(out, "Connection: close\r\n") == -1)
		return -1;
	if (!close_client && client_http10 && buf_appends(out, "Connection: keep-alive\r\n") == -1)
		return -1;
	return buf_append(out, "\r\n", 2);
}

int lb_hmsg_error(int status, struct buf *out)
{
	const char *text = http_status_text(status);

	return buf_appendf(out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n%d %s\n",
	    status, text, strlen(text) + 5, status, text);
}
