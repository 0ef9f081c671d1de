#include "lb/framing.h"

#include <string.h>

#define LB_TRAILER_MAX 8192

enum {
	F_SIZE = 0, F_EXT, F_SIZE_LF, F_DATA, F_DATA_CR, F_DATA_LF,
	F_TRAILER_START, F_TRAILER_LINE, F_END_LF,
};

void lb_framing_init(struct lb_framing *f, enum lb_body kind, uint64_t length)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->left = kind == LB_BODY_LENGTH ? length : 0;
	f->payload = kind == LB_BODY_LENGTH ? length : 0;
	f->done = kind == LB_BODY_NONE || (kind == LB_BODY_LENGTH && length == 0);
}

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

/* RFC 9112 7.1: chunk = chunk-size [ext] CRLF data CRLF; last-chunk, trailer
 * fields, CRLF. A bare LF is taken for CRLF, as the request parser does. */
static long scan_chunked(struct lb_framing *f, const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && !f->done) {
		char c = buf[i];

		switch (f->state) {
		case F_SIZE: {
			int v = hexval(c);

			if (v >= 0) {
				if (++f->nhex > 15)
					return -1;	/* 2^60: no real chunk; an overflow attempt */
				f->left = f->left * 16 + (uint64_t)v;
				i++;
				continue;
			}
			if (f->nhex == 0)
				return -1;
			if (c == ';' || c == ' ' || c == '\t')
				f->state = F_EXT;
			else if (c == '\r')
				f->state = F_SIZE_LF;
			else if (c == '\n')
				goto size_done;
			else
				return -1;
			i++;
			continue;
		}
		case F_EXT:
			if ((unsigned char)c < ' ' && c != '\t' && c != '\r' && c != '\n')
				return -1;
			if (c == '\r')
				f->state = F_SIZE_LF;
			else if (c == '\n')
				goto size_done;
			i++;
			continue;
		case F_SIZE_LF:
			if (c != '\n')
				return -1;
			goto size_done;
		case F_DATA: {
			size_t n = len - i;

			if (n > f->left)
				n = (size_t)f->left;
			i += n;
			f->left -= n;
			if (f->left == 0)
				f->state = F_DATA_CR;
			continue;
		}
		case F_DATA_CR:
			if (c == '\r')
				f->state = F_DATA_LF;
			else if (c == '\n')
				f->state = F_SIZE;
			else
				return -1;
			i++;
			continue;
		case F_DATA_LF:
			if (c != '\n')
				return -1;
			f->state = F_SIZE;
			i++;
			continue;
		case F_TRAILER_START:
			i++;
			if (c == '\r')
				f->state = F_END_LF;
			else if (c == '\n')
				f->done = true;
			else
				f->state = F_TRAILER_LINE;
			continue;
		case F_TRAILER_LINE:
			i++;
			if (++f->trailer_bytes > LB_TRAILER_MAX || c == '\0')
				return -1;
			if (c == '\n')
				f->state = F_TRAILER_START;
			continue;
		case F_END_LF:
			if (c != '\n')
				return -1;
			i++;
			f->done = true;
			continue;
		default:
			return -1;
		}
size_done:
		i++;	/* the LF */
		f->nhex = 0;
		if (f->left == 0) {
			f->state = F_TRAILER_START;
			continue;
		}
		f->payload += f->left;
		f->state = F_DATA;
	}
	return (long)i;
}

long lb_framing_scan(struct lb_framing *f, const char *buf, size_t len)
{
	size_t n;

	if (f->done)
		return 0;
	switch (f->kind) {
	case LB_BODY_NONE:
		return 0;
	case LB_BODY_CLOSE:
		return (long)len;
	case LB_BODY_LENGTH:
		n = len < f->left ? len : (size_t)f->left;
		f->left -= n;
		f->done = f->left == 0;
		return (long)n;
	case LB_BODY_CHUNKED:
		return scan_chunked(f, buf, len);
	}
	return -1;
}
