/* Reading load traces; see trace.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "load/trace.h"

#define TRACE_MAX_BYTES (512u << 20)
#define TRACE_HEADER "t_seconds,requests"

/* One number filling [p, end) exactly; -1 when it is not one. */
static int number(const char *p, const char *end, double *out)
{
	char tmp[64];
	char *stop;
	size_t len = (size_t)(end - p);

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	errno = 0;
	*out = strtod(tmp, &stop);
	if (errno != 0 || *stop != '\0' || !isfinite(*out) ||
	    !(tmp[0] == '-' || (tmp[0] >= '0' && tmp[0] <= '9')))
		return -1;
	return 0;
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
		const char *le = eol ? eol : end, *comma;
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
		comma = memchr(p, ',', (size_t)(le - p));
		if (comma == NULL) {
			err_set(e, "%s:%zu: expected t_seconds,requests", name, line);
			goto fail;
		}
		if (number(p, comma, &ts) == -1) {
			err_set(e, "%s:%zu: t_seconds \"%.*s\" is not a number", name, line,
			    (int)(comma - p), p);
			goto fail;
		}
		if (number(comma + 1, le, &req) == -1) {
			err_set(e, "%s:%zu: requests \"%.*s\" is not a number", name, line,
			    (int)(le - comma - 1), comma + 1);
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
