/* Reading load traces; see trace.h. */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "load/trace.h"

#define TRACE_HEADER "t_seconds,requests"
#define TRACE_FIELD_MAX 40	/* characters of a number; and of one quoted in a message */

/* A plain decimal number filling [p, end) exactly: digits with at most one
 * '.', and a leading '-' (refused later with its own message). No
 * exponent, hex, '+', spaces, inf or nan: strtod() takes all of those, and
 * "1e16" or "0x10" in a trace is a mistake, not a count. -1 when not one. */
static int number(const char *p, const char *end, double *out)
{
	char tmp[TRACE_FIELD_MAX + 1];
	size_t len = (size_t)(end - p), digits = 0;
	bool dot = false;

	if (len == 0 || len > TRACE_FIELD_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			digits++;
		else if (p[i] == '.' && !dot)
			dot = true;
		else if (!(p[i] == '-' && i == 0))
			return -1;
	}
	if (digits == 0)
		return -1;
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	*out = strtod(tmp, NULL);
	return isfinite(*out) ? 0 : -1;
}

/* The first byte of [p, end) that is no printable text (a NUL, a control
 * character), or NULL. strtod() would stop at a NUL and read "5\0junk" as 5. */
static const char *control_char(const char *p, const char *end)
{
	for (; p < end; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return p;
	return NULL;
}

static int min_len(ptrdiff_t len)
{
	return len > TRACE_FIELD_MAX ? TRACE_FIELD_MAX : (int)len;
}

static int push(struct trace *t, size_t *cap, double v)
{
	if (t->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		double *p = realloc(t->requests, ncap * sizeof(*p));

		if (p == NULL)
			return -1;
		t->requests = p;
		*cap = ncap;
	}
	t->requests[t->n++] = v;
	return 0;
}

int trace_parse(const char *text, size_t len, const char *name, struct trace *t,
    struct err *e)
{
	const char *p = text, *end = text + len;
	size_t line = 0, cap = 0;
	double t0 = 0, t1 = 0;

	memset(t, 0, sizeof(*t));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *comma, *bad;
		double ts, req;

		line++;
		if (le > p && le[-1] == '\r')
			le--;
		if (line == 1) {
			if ((size_t)(le - p) != strlen(TRACE_HEADER) ||
			    memcmp(p, TRACE_HEADER, strlen(TRACE_HEADER)) != 0)
				goto bad_header;
			p = eol ? eol + 1 : end;
			continue;
		}
		if (le == p) {
			/* Only a final newline may leave an empty line. */
			if (eol != NULL && eol + 1 < end) {
				err_set(e, "%s:%zu: empty line", name, line);
				goto fail;
			}
			break;
		}
		bad = control_char(p, le);
		if (bad != NULL) {
			err_set(e, "%s:%zu: byte 0x%02x at column %zu: a trace is plain text", name,
			    line, (unsigned char)*bad, (size_t)(bad - p) + 1);
			goto fail;
		}
		comma = memchr(p, ',', (size_t)(le - p));
		if (comma == NULL) {
			err_set(e, "%s:%zu: expected t_seconds,requests", name, line);
			goto fail;
		}
		if (number(p, comma, &ts) == -1) {
			err_set(e, "%s:%zu: t_seconds \"%.*s\" is not a plain decimal number", name,
			    line, min_len(comma - p), p);
			goto fail;
		}
		if (number(comma + 1, le, &req) == -1) {
			err_set(e, "%s:%zu: requests \"%.*s\" is not a plain decimal number", name,
			    line, min_len(le - comma - 1), comma + 1);
			goto fail;
		}
		if (ts < 0) {
			err_set(e, "%s:%zu: negative time %g", name, line, ts);
			goto fail;
		}
		if (req < 0) {
			err_set(e, "%s:%zu: negative request count %g", name, line, req);
			goto fail;
		}
		if (t->n == 0 && ts != 0) {
			err_set(e, "%s:%zu: the first row must be at t=0, not %g", name, line, ts);
			goto fail;
		}
		if (t->n >= 1 && ts <= (t->n == 1 ? t0 : t1)) {
			err_set(e, "%s:%zu: time %g does not increase", name, line, ts);
			goto fail;
		}
		if (t->n == TRACE_ROWS_MAX) {
			err_set(e, "%s:%zu: more than %d rows", name, line, TRACE_ROWS_MAX);
			goto fail;
		}
		if (t->n == 1 && ts - t0 < TRACE_STEP_MIN_S) {
			err_set(e, "%s:%zu: a step of %gs is below the shortest, %gs", name, line,
			    ts - t0, TRACE_STEP_MIN_S);
			goto fail;
		}
		/* The row covers [ts, ts + step); the step is known from row 2. */
		if (ts + (t->n >= 1 ? ts - (t->n == 1 ? t0 : t1) : 0) > TRACE_SPAN_MAX_S) {
			err_set(e, "%s:%zu: time %g is beyond the longest trace, %d s (366 days)",
			    name, line, ts, TRACE_SPAN_MAX_S);
			goto fail;
		}
		if (t->n == 1)
			t->step_s = ts - t0;
		else if (t->n >= 2) {
			double want = (double)t->n * t->step_s;

			if (fabs(ts - want) > 1e-6 * fmax(1, want)) {
				err_set(e, "%s:%zu: time %g breaks the fixed step of %gs "
				    "(expected %g)", name, line, ts, t->step_s, want);
				goto fail;
			}
		}
		if (t->n == 0)
			t0 = ts;
		t1 = ts;
		if (push(t, &cap, req) == -1) {
			err_set(e, "%s: out of memory", name);
			goto fail;
		}
		p = eol ? eol + 1 : end;
	}
	if (line == 0)
		goto bad_header;
	if (t->n == 0) {
		err_set(e, "%s:%zu: no rows after the header", name, line);
		goto fail;
	}
	if (t->n == 1)
		t->step_s = 1;
	return 0;
bad_header:
	err_set(e, "%s:1: expected the header \"" TRACE_HEADER "\"", name);
fail:
	trace_fini(t);
	return -1;
}

int trace_read(const char *path, struct trace *t, struct err *e)
{
	struct buf b;
	struct err fe = { "" };
	int rc;

	buf_init(&b, TRACE_MAX_BYTES);
	if (file_read_all(path, &b, NULL, &fe) == -1) {
		buf_fini(&b);
		memset(t, 0, sizeof(*t));
		return err_set(e, "%s", fe.msg);
	}
	rc = trace_parse(b.p ? b.p : "", b.len, path, t, e);
	buf_fini(&b);
	return rc;
}

void trace_fini(struct trace *t)
{
	free(t->requests);
	memset(t, 0, sizeof(*t));
}
