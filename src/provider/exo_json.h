/* provider/exo_json.h: reads the Exoscale API v2 replies the exoscale
 * provider uses (instance pool, instance list, operation, error body), as
 * documented in ../shared/reference/exoscale-api-v2.md. Pure: bytes in,
 * structs out; anything malformed or missing is an error, never a guess.
 * Not here: HTTP, signing (exo_sign.h), what the provider does with it. */
#ifndef POOLSCALE_PROVIDER_EXO_JSON_H
#define POOLSCALE_PROVIDER_EXO_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define EXO_MAX_MEMBERS 1024

struct exo_pool {
	int64_t size;
	char state[24];
	size_t n;			/* member ids */
	char (*ids)[40];
};

struct exo_instance {
	char id[40];
	char state[24];
	char public_ip[48];		/* "" when none */
	char ipv6[64];			/* "" when none */
	int64_t created_unix_s;		/* 0 when absent */
};

struct exo_instances {
	size_t n;
	struct exo_instance *v;
};

struct exo_operation {
	char id[40];
	char state[16];			/* pending, success, failure, timeout */
	char reason[24];
	char message[160];
};

int exo_parse_pool(const char *body, size_t len, struct exo_pool *out, struct err *e);
void exo_pool_fini(struct exo_pool *p);
int exo_parse_instances(const char *body, size_t len, struct exo_instances *out, struct err *e);
void exo_instances_fini(struct exo_instances *l);
int exo_parse_operation(const char *body, size_t len, struct exo_operation *out, struct err *e);
/* The message of an error body (message, error, detail or title; else the
 * text itself, trimmed to dst). Never fails. */
void exo_error_message(const char *body, size_t len, char *dst, size_t cap);
/* Whether s is a UUID in its canonical 8-4-4-4-12 lower-case hex form. */
int exo_is_uuid(const char *s);

#endif
