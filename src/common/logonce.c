#include "common/logonce.h"

#include <stdio.h>
#include <string.h>

bool log_once_fail(struct log_once *o, enum log_level lvl, const char *msg, const char *cause)
{
	if (strncmp(o->cause, cause, sizeof(o->cause) - 1) == 0 && o->cause[0] != '\0')
		return false;
	snprintf(o->cause, sizeof(o->cause), "%s", cause);
	log_msg(lvl, msg, "error=%s", cause);
	return true;
}

void log_once_ok(struct log_once *o, const char *msg)
{
	if (o->cause[0] == '\0')
		return;
	log_msg(LOG_INFO, msg, "after=%s", o->cause);
	o->cause[0] = '\0';
}
