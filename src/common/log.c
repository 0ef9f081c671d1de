#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static const char *log_comp = "poolscale";
static enum log_level log_min = LOG_INFO;

static const char *const level_names[] = {
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warn",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

void log_setup(const char *comp, enum log_level min)
{
	log_comp = comp;
	log_min = min;
}

int log_enabled(enum log_level lvl)
{
	return lvl <= log_min;
}

const char *log_level_name(enum log_level lvl)
{
	if ((unsigned)lvl < sizeof(level_names) / sizeof(level_names[0]))
		return level_names[lvl];
	return "unknown";
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void put(char *dst, size_t cap, size_t *len, char c)
{
	if (*len + 1 < cap)
		dst[(*len)++] = c;
}

static void puts_raw(char *dst, size_t cap, size_t *len, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(dst, cap, len, s[i]);
}

static int needs_quotes(const char *v)
{
	if (*v == '\0')
		return 1;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p == 0x7f)
			return 1;
	return 0;
}

void log_value(char *dst, size_t cap, size_t *len, const char *v)
{
	if (!needs_quotes(v)) {
		puts_raw(dst, cap, len, v, strlen(v));
		return;
	}
	put(dst, cap, len, '"');
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		char esc[5];

		switch (*p) {
		case '"': puts_raw(dst, cap, len, "\\\"", 2); break;
		case '\\': puts_raw(dst, cap, len, "\\\\", 2); break;
		case '\n': puts_raw(dst, cap, len, "\\n", 2); break;
		case '\r': puts_raw(dst, cap, len, "\\r", 2); break;
		case '\t': puts_raw(dst, cap, len, "\\t", 2); break;
		default:
			if (*p < ' ' || *p == 0x7f) {
				snprintf(esc, sizeof(esc), "\\x%02x", *p);
				puts_raw(dst, cap, len, esc, 4);
			} else {
				put(dst, cap, len, (char)*p);
			}
		}
	}
	put(dst, cap, len, '"');
}

/*
 * Formats one conversion spec (spec points at '%', n bytes long) with the
 * next argument. The length modifier decides which type va_arg reads, so
 * the va_list stays in step; the compiler has already checked the types
 * through the format attribute of the public functions.
 */
static void format_one(char *tmp, size_t cap, const char *spec, size_t n, va_list *ap)
{
	char f[32];
	char conv = spec[n - 1];
	int lng = 0, sz = 0;

	if (n >= sizeof(f)) {
		snprintf(tmp, cap, "?");
		return;
	}
	memcpy(f, spec, n);
	f[n] = '\0';
	for (size_t i = 1; i + 1 < n; i++) {
		if (spec[i] == 'l')
			lng++;
		else if (spec[i] == 'z' || spec[i] == 'j' || spec[i] == 't')
			sz = 1;
	}
	switch (conv) {
	case 'd': case 'i':
		if (sz)
			snprintf(tmp, cap, f, va_arg(*ap, intmax_t));
		else if (lng >= 2)
			snprintf(tmp, cap, f, va_arg(*ap, long long));
		else if (lng == 1)
			snprintf(tmp, cap, f, va_arg(*ap, long));
		else
			snprintf(tmp, cap, f, va_arg(*ap, int));
		break;
	case 'u': case 'x': case 'X': case 'o':
		if (sz)
			snprintf(tmp, cap, f, va_arg(*ap, size_t));
		else if (lng >= 2)
			snprintf(tmp, cap, f, va_arg(*ap, unsigned long long));
		else if (lng == 1)
			snprintf(tmp, cap, f, va_arg(*ap, unsigned long));
		else
			snprintf(tmp, cap, f, va_arg(*ap, unsigned));
		break;
	case 'f': case 'g': case 'e': case 'F': case 'G': case 'E':
		snprintf(tmp, cap, f, va_arg(*ap, double));
		break;
	case 'c':
		snprintf(tmp, cap, f, va_arg(*ap, int));
		break;
	case 'p':
		snprintf(tmp, cap, f, va_arg(*ap, void *));
		break;
	case 's': {
		const char *s = va_arg(*ap, const char *);

		snprintf(tmp, cap, f, s ? s : "(null)");
		break;
	}
	default:
		snprintf(tmp, cap, "?");
	}
}

static void format_kv(char *dst, size_t cap, size_t *len, const char *fmt, va_list *ap)
{
	char tmp[1024];

	for (const char *p = fmt; *p; p++) {
		size_t n;

		if (*p != '%') {
			put(dst, cap, len, *p);
			continue;
		}
		if (p[1] == '%') {
			put(dst, cap, len, '%');
			p++;
			continue;
		}
		n = 1;
		while (p[n] && !isalpha((unsigned char)p[n]))
			n++;
		while (p[n] == 'l' || p[n] == 'h' || p[n] == 'z' || p[n] == 'j' || p[n] == 't')
			n++;
		if (p[n] == '\0')
			break;
		n++;
		format_one(tmp, sizeof(tmp), p, n, ap);
		log_value(dst, cap, len, tmp);
		p += n - 1;
	}
}

static size_t vformat(char *dst, size_t cap, const char *ts, enum log_level lvl,
    const char *comp, const char *msg, const char *kv_fmt, va_list *ap)
{
	size_t len = 0;

	puts_raw(dst, cap, &len, "ts=", 3);
	puts_raw(dst, cap, &len, ts, strlen(ts));
	puts_raw(dst, cap, &len, " level=", 7);
	puts_raw(dst, cap, &len, log_level_name(lvl), strlen(log_level_name(lvl)));
	puts_raw(dst, cap, &len, " comp=", 6);
	log_value(dst, cap, &len, comp);
	puts_raw(dst, cap, &len, " msg=", 5);
	log_value(dst, cap, &len, msg);
	if (kv_fmt != NULL && *kv_fmt != '\0') {
		put(dst, cap, &len, ' ');
		format_kv(dst, cap, &len, kv_fmt, ap);
	}
	if (len + 1 >= cap && cap > 4)
		memcpy(dst + cap - 4, "...", 3);
	dst[len] = '\0';
	return len;
}

size_t log_format(char *dst, size_t cap, const char *ts, enum log_level lvl,
    const char *comp, const char *msg, const char *kv_fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, kv_fmt);
	n = vformat(dst, cap, ts, lvl, comp, msg, kv_fmt, &ap);
	va_end(ap);
	return n;
}

void log_msg(enum log_level lvl, const char *msg, const char *kv_fmt, ...)
{
	char line[LOG_LINE_MAX];
	char ts[64];
	struct timespec now;
	struct tm tm;
	va_list ap;
	size_t n;
	int saved = errno;

	if (!log_enabled(lvl))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
	va_start(ap, kv_fmt);
	n = vformat(line, sizeof(line) - 1, ts, lvl, log_comp, msg, kv_fmt, &ap);
	va_end(ap);
	line[n++] = '\n';
	/* One write per line so lines of concurrent threads never interleave. */
	if (write(STDERR_FILENO, line, n) == -1) {
		/* Nowhere left to report it. */
	}
	errno = saved;
}
