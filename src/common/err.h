/* common/err.h: the error a failing function hands back to its caller.
 * Not here: logging (common/log.h); callers decide whether to log. */
#ifndef POOLSCALE_ERR_H
#define POOLSCALE_ERR_H

struct err {
	char msg[192];
};

/* Formats the cause into e (NULL is allowed) and returns -1, so a failing
 * path reads `return err_set(e, "bind %s: %s", addr, strerror(errno));`. */
int err_set(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
