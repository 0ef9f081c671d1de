#include "common/prom.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void prom_header(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void format_value(char *dst, size_t cap, double v)
{
	if (isnan(v))
		snprintf(dst, cap, "NaN");
	else if (isinf(v))
		snprintf(dst, cap, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		snprintf(dst, cap, "%.0f", v);
	else {
		/* The shortest form that reads back exactly, as Go prints floats. */
		for (int prec = 6; prec <= 17; prec++) {
			snprintf(dst, cap, "%.*g", prec, v);
			if (strtod(dst, NULL) == v)
				break;
		}
	}
}

void prom_sample(struct buf *b, const char *name, const char *labels, double v)
{
	char val[40];

	format_value(val, sizeof(val), v);
	if (labels && *labels)
		buf_appendf(b, "%s{%s} %s\n", name, labels, val);
	else
		buf_appendf(b, "%s %s\n", name, val);
}

void prom_sample_u64(struct buf *b, const char *name, const char *labels, uint64_t v)
{
	if (labels && *labels)
		buf_appendf(b, "%s{%s} %" PRIu64 "\n", name, labels, v);
	else
		buf_appendf(b, "%s %" PRIu64 "\n", name, v);
}

void prom_histogram(struct buf *b, const char *name, const char *labels,
    const double *bounds, const uint64_t *counts, size_t n, double sum)
{
	const char *sep = labels && *labels ? "," : "";
	const char *lab = labels ? labels : "";
	uint64_t cum = 0;
	char le[40], full[256];

	for (size_t i = 0; i <= n; i++) {
		cum += counts[i];
		if (i < n)
			format_value(le, sizeof(le), bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		buf_appendf(b, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", name, lab, sep, le, cum);
	}
	snprintf(full, sizeof(full), "%s_sum", name);
	prom_sample(b, full, labels, sum);
	snprintf(full, sizeof(full), "%s_count", name);
	prom_sample_u64(b, full, labels, cum);
}

char *prom_escape(const char *v, char *dst, size_t cap)
{
	size_t n = 0;

	for (; *v && n + 2 < cap; v++) {
		if (*v == '\\' || *v == '"') {
			dst[n++] = '\\';
			dst[n++] = *v;
		} else if (*v == '\n') {
			dst[n++] = '\\';
			dst[n++] = 'n';
		} else {
			dst[n++] = *v;
		}
	}
	dst[n] = '\0';
	return dst;
}
