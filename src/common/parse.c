#include "common/parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out, struct err *e)
{
	char *end;
	long long v;

	errno = 0;
	if (*s == '\0' || *s == ' ' || *s == '+')
		return err_set(e, "\"%s\" is not a whole number", s);
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return err_set(e, "\"%s\" is not a whole number", s);
	if (errno == ERANGE || v < min || v > max)
		return err_set(e, "%s is out of range [%lld, %lld]", s, (long long)min,
		    (long long)max);
	*out = v;
	return 0;
}

int parse_double(const char *s, double min, double max, double *out, struct err *e)
{
	char *end;
	double v;

	errno = 0;
	if (*s == '\0' || *s == ' ')
		return err_set(e, "\"%s\" is not a number", s);
	v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v))
		return err_set(e, "\"%s\" is not a number", s);
	if (errno == ERANGE || v < min || v > max)
		return err_set(e, "%s is out of range [%g, %g]", s, min, max);
	*out = v;
	return 0;
}

int parse_duration_ms(const char *s, int64_t min_ms, int64_t max_ms, int64_t *out_ms,
    struct err *e)
{
	static const struct { const char *suffix; double ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "", 1000 },
	};
	char *end;
	double v, ms = -1;

	errno = 0;
	if (*s == '\0' || *s == ' ' || *s == '-' || *s == '+')
		return err_set(e, "\"%s\" is not a duration (try 30s or 250ms)", s);
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v))
		return err_set(e, "\"%s\" is not a duration (try 30s or 250ms)", s);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			ms = v * units[i].ms;
			break;
		}
	}
	if (ms < 0)
		return err_set(e, "\"%s\" is not a duration (try 30s or 250ms)", s);
	if (ms < (double)min_ms || ms > (double)max_ms)
		return err_set(e, "%s is out of range [%lldms, %lldms]", s,
		    (long long)min_ms, (long long)max_ms);
	*out_ms = (int64_t)llround(ms);
	return 0;
}
