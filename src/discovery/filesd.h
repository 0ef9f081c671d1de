/* discovery/filesd.h: pool membership as Prometheus file_sd / http_sd JSON:
 * one target group per member, labelled pool, instance_id and provider, so
 * every series scraped from it carries them. Rendering is pure; writing
 * goes through file_write_atomic (temp + fsync + rename).
 * Not here: deciding who is a member (the controller publishes RUNNING ones). */
#ifndef POOLSCALE_FILESD_H
#define POOLSCALE_FILESD_H

#include <stddef.h>

#include "common/err.h"

struct sd_target {
	const char *id;
	const char *address;	/* IP, no port */
};

/* A malloc'd JSON list ("[]" when n is 0), targets sorted by id so equal
 * membership gives equal bytes. NULL when out of memory. */
char *filesd_render(const char *pool, const char *provider, const struct sd_target *t,
    size_t n, int port);

#endif
