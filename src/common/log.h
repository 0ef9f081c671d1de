/* common/log.h: logfmt lines on stderr, one line per event.
 * `log_msg(LOG_INFO, "scaled out", "from=%d to=%d reason=%s", ...)`: every
 * conversion in the format is a value, quoted and escaped here when it holds
 * a space, '=', '"' or a control character; literal text (keys) is copied.
 * Never pass secrets. Not here: metrics, the access log of a server. */
#ifndef POOLSCALE_LOG_H
#define POOLSCALE_LOG_H

#include <stddef.h>

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

/* Set once at start, before any thread: the component name and the least
 * severe level written. The only process-wide state of this module. */
void log_setup(const char *comp, enum log_level min);
int log_enabled(enum log_level lvl);
const char *log_level_name(enum log_level lvl);
/* 0 and *out set, or -1 for an unknown name. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level lvl, const char *msg, const char *kv_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Pure helpers, exposed for tests. Formats one logfmt line (no newline)
 * into dst; returns its length (truncated lines end in "..."). */
size_t log_format(char *dst, size_t cap, const char *ts, enum log_level lvl,
    const char *comp, const char *msg, const char *kv_fmt, ...)
	__attribute__((format(printf, 7, 8)));
/* Appends v as a logfmt value (quoted when needed) at dst[*len]. */
void log_value(char *dst, size_t cap, size_t *len, const char *v);

#endif
