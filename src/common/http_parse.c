#include "common/http_parse.h"

#include <string.h>

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field-value bytes: VCHAR, obs-text, SP and HTAB. */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= ' ' && c != 0x7f);
}

size_t http_find_head_end(const char *buf, size_t len, size_t *scanned)
{
	size_t i = *scanned;

	/* Resume a little before where we stopped: the end marker may straddle. */
	i = i > 3 ? i - 3 : 0;
	for (; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	*scanned = len;
	return 0;
}

/* One line of buf[*pos..end): sets *line, moves *pos past the LF. */
static bool next_line(const char *buf, size_t end, size_t *pos, struct slice *line)
{
	const char *nl = memchr(buf + *pos, '\n', end - *pos);
	size_t n;

	if (nl == NULL)
		return false;
	n = (size_t)(nl - (buf + *pos));
	line->p = buf + *pos;
	line->len = n > 0 && line->p[n - 1] == '\r' ? n - 1 : n;
	*pos += n + 1;
	return true;
}

/* Does the start of an incomplete head already rule it out? Cheap checks so
 * that garbage (a TLS hello, say) is answered at once, not at the timeout. */
static int early_reject(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	for (; i < len && buf[i] != ' '; i++)
		if (!is_tchar((unsigned char)buf[i]))
			return 400;
	return 0;
}

static bool parse_target(struct http_request *r)
{
	struct slice t = r->target;
	const char *q;
	size_t start = 0;

	if (t.len == 0)
		return false;
	for (size_t i = 0; i < t.len; i++)
		if ((unsigned char)t.p[i] <= ' ' || (unsigned char)t.p[i] == 0x7f)
			return false;
	if (t.p[0] != '/' && !(t.len == 1 && t.p[0] == '*')) {
		/* absolute-form (RFC 9112 3.2.2): keep the path part */
		const char *sep = memchr(t.p, ':', t.len);
		const char *slash;

		if (sep == NULL || (size_t)(sep - t.p) + 3 > t.len || sep[1] != '/' || sep[2] != '/') {
			/* authority-form, for CONNECT: leave the path empty */
			r->path = t;
			r->query = (struct slice){ t.p + t.len, 0 };
			return true;
		}
		slash = memchr(sep + 3, '/', t.len - (size_t)(sep + 3 - t.p));
		if (slash == NULL) {
			r->path = (struct slice){ "/", 1 };
			r->query = (struct slice){ t.p + t.len, 0 };
			return true;
		}
		start = (size_t)(slash - t.p);
	}
	q = memchr(t.p + start, '?', t.len - start);
	if (q == NULL) {
		r->path = (struct slice){ t.p + start, t.len - start };
		r->query = (struct slice){ t.p + t.len, 0 };
	} else {
		r->path = (struct slice){ t.p + start, (size_t)(q - t.p) - start };
		r->query = (struct slice){ q + 1, t.len - (size_t)(q + 1 - t.p) };
	}
	return true;
}

static int parse_request_line(struct slice line, struct http_request *r)
{
	const char *sp1, *sp2, *end = line.p + line.len;
	size_t i;

	sp1 = memchr(line.p, ' ', line.len);
	if (sp1 == NULL || sp1 == line.p)
		return 400;
	for (i = 0; line.p + i < sp1; i++)
		if (!is_tchar((unsigned char)line.p[i]))
			return 400;
	r->method = (struct slice){ line.p, (size_t)(sp1 - line.p) };
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (sp2 == NULL)
		return 400;
	r->target = (struct slice){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	if (!parse_target(r))
		return 400;
	{
		struct slice v = { sp2 + 1, (size_t)(end - sp2 - 1) };

		if (v.len != 8 || memcmp(v.p, "HTTP/", 5) != 0 || v.p[6] != '.' ||
		    v.p[5] < '0' || v.p[5] > '9' || v.p[7] < '0' || v.p[7] > '9')
			return 400;
		if (v.p[5] != '1')
			return 505;
		r->minor_version = v.p[7] - '0';
		if (r->minor_version > 1)
			r->minor_version = 1;	/* 1.x is answered as 1.1 */
	}
	return 0;
}

static struct slice trim_ows(struct slice s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

static int parse_header_line(struct slice line, struct http_header *h)
{
	const char *colon;

	if (line.p[0] == ' ' || line.p[0] == '\t')
		return 400;	/* obs-fold is rejected (RFC 9112 5.2) */
	colon = memchr(line.p, ':', line.len);
	if (colon == NULL || colon == line.p)
		return 400;
	for (const char *c = line.p; c < colon; c++)
		if (!is_tchar((unsigned char)*c))
			return 400;
	h->name = (struct slice){ line.p, (size_t)(colon - line.p) };
	h->value = trim_ows((struct slice){ colon + 1, line.len - h->name.len - 1 });
	for (size_t i = 0; i < h->value.len; i++)
		if (!is_field_char((unsigned char)h->value.p[i]))
			return 400;
	return 0;
}

/* Does the comma-separated list v hold token tok (case-insensitive)? */
static bool list_has(struct slice v, const char *tok)
{
	size_t i = 0;

	while (i < v.len) {
		size_t j = i;
		struct slice item;

		while (j < v.len && v.p[j] != ',')
			j++;
		item = trim_ows((struct slice){ v.p + i, j - i });
		if (slice_eq_nocase(item, tok))
			return true;
		i = j + 1;
	}
	return false;
}

static int parse_content_length(struct slice v, int64_t *out)
{
	int64_t n = 0;

	if (v.len == 0 || v.len > 15)
		return 400;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return 400;
		n = n * 10 + (v.p[i] - '0');
	}
	if (*out >= 0 && *out != n)
		return 400;	/* differing duplicates: request smuggling */
	*out = n;
	return 0;
}

static int interpret_headers(struct http_request *r)
{
	bool have_te = false, have_host = false, conn_close = false, conn_keep = false;
	int st;

	for (size_t i = 0; i < r->nheaders; i++) {
		const struct http_header *h = &r->headers[i];

		if (slice_eq_nocase(h->name, "content-length")) {
			if ((st = parse_content_length(h->value, &r->content_length)) != 0)
				return st;
		} else if (slice_eq_nocase(h->name, "transfer-encoding")) {
			if (have_te || !slice_eq_nocase(h->value, "chunked"))
				return 501;
			have_te = true;
		} else if (slice_eq_nocase(h->name, "connection")) {
			conn_close |= list_has(h->value, "close");
			conn_keep |= list_has(h->value, "keep-alive");
		} else if (slice_eq_nocase(h->name, "expect")) {
			if (!slice_eq_nocase(h->value, "100-continue"))
				return 417;
			r->expect_continue = true;
		} else if (slice_eq_nocase(h->name, "host")) {
			if (have_host)
				return 400;
			have_host = true;
		}
	}
	if (have_te && r->content_length >= 0)
		return 400;	/* RFC 9112 6.1: both is a smuggling attempt */
	if (r->minor_version == 1 && !have_host)
		return 400;	/* RFC 9112 3.2 */
	r->chunked = have_te;
	if (r->minor_version == 1)
		r->keep_alive = !conn_close;
	else
		r->keep_alive = conn_keep && !conn_close;
	return 0;
}

int http_parse_request(const char *buf, size_t len, size_t max_head,
    struct http_request *r, int *status)
{
	size_t scanned = 0, end, pos = 0;
	struct slice line;
	int st;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	end = http_find_head_end(buf, len, &scanned);
	if (end == 0 && (*status = early_reject(buf, len)) != 0)
		return HTTP_PARSE_BAD;
	if (end == 0 && len < max_head)
		return HTTP_PARSE_MORE;
	if (end == 0 || end > max_head) {
		/* Too large: blame the request line if it alone does not fit. */
		*status = memchr(buf, '\n', len < max_head ? len : max_head) == NULL ? 414 : 431;
		return HTTP_PARSE_BAD;
	}
	/* RFC 9112 2.2: empty lines before the request line are ignored. */
	while (pos < end && (buf[pos] == '\r' || buf[pos] == '\n'))
		pos++;
	if (!next_line(buf, end, &pos, &line) || line.len == 0) {
		*status = 400;
		return HTTP_PARSE_BAD;
	}
	if ((st = parse_request_line(line, r)) != 0) {
		*status = st;
		return HTTP_PARSE_BAD;
	}
	while (next_line(buf, end, &pos, &line) && line.len > 0) {
		if (r->nheaders == HTTP_MAX_HEADERS) {
			*status = 431;
			return HTTP_PARSE_BAD;
		}
		if ((st = parse_header_line(line, &r->headers[r->nheaders])) != 0) {
			*status = st;
			return HTTP_PARSE_BAD;
		}
		r->nheaders++;
	}
	if ((st = interpret_headers(r)) != 0) {
		*status = st;
		return HTTP_PARSE_BAD;
	}
	r->head_len = end;
	return (int)end;
}

int http_parse_response(const char *buf, size_t len, size_t max_head,
    struct http_response_head *r)
{
	size_t scanned = 0, end, pos = 0;
	struct slice line;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	end = http_find_head_end(buf, len, &scanned);
	if (end == 0)
		return len < max_head ? HTTP_PARSE_MORE : HTTP_PARSE_BAD;
	if (end > max_head || !next_line(buf, end, &pos, &line))
		return HTTP_PARSE_BAD;
	/* "HTTP/1.x NNN reason" */
	if (line.len < 12 || memcmp(line.p, "HTTP/1.", 7) != 0 || line.p[8] != ' ' ||
	    line.p[9] < '1' || line.p[9] > '5' || line.p[10] < '0' || line.p[10] > '9' ||
	    line.p[11] < '0' || line.p[11] > '9' || (line.len > 12 && line.p[12] != ' '))
		return HTTP_PARSE_BAD;
	r->status = (line.p[9] - '0') * 100 + (line.p[10] - '0') * 10 + (line.p[11] - '0');
	while (next_line(buf, end, &pos, &line) && line.len > 0) {
		struct http_header *h;

		if (r->nheaders == HTTP_MAX_HEADERS)
			return HTTP_PARSE_BAD;
		h = &r->headers[r->nheaders];
		if (parse_header_line(line, h) != 0)
			return HTTP_PARSE_BAD;
		r->nheaders++;
		if (slice_eq_nocase(h->name, "content-length")) {
			if (parse_content_length(h->value, &r->content_length) != 0)
				return HTTP_PARSE_BAD;
		} else if (slice_eq_nocase(h->name, "transfer-encoding")) {
			if (!slice_eq_nocase(h->value, "chunked"))
				return HTTP_PARSE_BAD;
			r->chunked = true;
		}
	}
	r->head_len = end;
	return (int)end;
}

const struct http_header *http_header_find(const struct http_request *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (slice_eq_nocase(r->headers[i].name, name))
			return &r->headers[i];
	return NULL;
}

bool http_query_param(struct slice q, const char *name, struct slice *out)
{
	size_t n = strlen(name), i = 0;

	while (i < q.len) {
		size_t j = i;

		while (j < q.len && q.p[j] != '&')
			j++;
		if (j - i >= n && memcmp(q.p + i, name, n) == 0 &&
		    (j - i == n || q.p[i + n] == '=')) {
			size_t vs = j - i == n ? j : i + n + 1;

			*out = (struct slice){ q.p + vs, j - vs };
			return true;
		}
		i = j + 1;
	}
	return false;
}

enum chunk_state {
	CH_SIZE = 0, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF,
	CH_TRAILER_START, CH_TRAILER_LINE, CH_END_LF, CH_DONE,
};

#define CHUNK_TRAILER_MAX 4096

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int64_t http_chunked_decode(struct http_chunked *d, char *buf, size_t len, size_t max_body)
{
	while (d->in_pos < len) {
		char c = buf[d->in_pos];

		switch (d->state) {
		case CH_SIZE: {
			int v = hexval(c);

			if (v >= 0) {
				if (++d->nhex > 15)
					return HTTP_PARSE_BAD;
				d->size = d->size * 16 + (uint64_t)v;
				d->in_pos++;
				continue;
			}
			if (d->nhex == 0)
				return HTTP_PARSE_BAD;
			if (c == ';' || c == ' ' || c == '\t')
				d->state = CH_EXT;
			else if (c == '\r')
				d->state = CH_SIZE_LF;
			else if (c != '\n')
				return HTTP_PARSE_BAD;
			d->in_pos++;
			if (c != '\n')
				continue;
			goto size_done;
		}
		case CH_EXT:
			d->in_pos++;
			if (c == '\r') {
				d->state = CH_SIZE_LF;
				continue;
			}
			if (c == '\n')
				goto size_done;
			if ((unsigned char)c < ' ' && c != '\t')
				return HTTP_PARSE_BAD;
			continue;
		case CH_SIZE_LF:
			if (c != '\n')
				return HTTP_PARSE_BAD;
			d->in_pos++;
			goto size_done;
		case CH_DATA: {
			size_t n = len - d->in_pos;

			if (n > d->size)
				n = (size_t)d->size;
			memmove(buf + d->out_len, buf + d->in_pos, n);
			d->out_len += n;
			d->in_pos += n;
			d->size -= n;
			if (d->size == 0)
				d->state = CH_DATA_CR;
			continue;
		}
		case CH_DATA_CR:
			if (c == '\r')
				d->state = CH_DATA_LF;
			else if (c == '\n')
				d->state = CH_SIZE;
			else
				return HTTP_PARSE_BAD;
			d->in_pos++;
			continue;
		case CH_DATA_LF:
			if (c != '\n')
				return HTTP_PARSE_BAD;
			d->state = CH_SIZE;
			d->in_pos++;
			continue;
		case CH_TRAILER_START:
			d->in_pos++;
			if (c == '\r') {
				d->state = CH_END_LF;
				continue;
			}
			if (c == '\n') {
				d->state = CH_DONE;
				return (int64_t)d->in_pos;
			}
			d->state = CH_TRAILER_LINE;
			continue;
		case CH_TRAILER_LINE:
			d->in_pos++;
			if (++d->trailer_bytes > CHUNK_TRAILER_MAX)
				return HTTP_PARSE_BAD;
			if (c == '\n')
				d->state = CH_TRAILER_START;
			continue;
		case CH_END_LF:
			if (c != '\n')
				return HTTP_PARSE_BAD;
			d->in_pos++;
			d->state = CH_DONE;
			return (int64_t)d->in_pos;
		case CH_DONE:
			return (int64_t)d->in_pos;
		default:
			return HTTP_PARSE_BAD;
		}
size_done:
		if (d->size == 0) {
			d->state = CH_TRAILER_START;
			continue;
		}
		if (d->size > max_body || d->out_len + d->size > max_body)
			return HTTP_CHUNKED_TOO_BIG;
		d->state = CH_DATA;
		d->nhex = 0;
	}
	if (d->state == CH_DONE)
		return (int64_t)d->in_pos;
	return HTTP_PARSE_MORE;
}

const char *http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}
