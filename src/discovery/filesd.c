#include "discovery/filesd.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/net.h"

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct sd_target *)a)->id, ((const struct sd_target *)b)->id);
}

char *filesd_render(const char *pool, const char *provider, const struct sd_target *t,
    size_t n, int port)
{
	struct sd_target *sorted = NULL;
	json_t *list = json_array();
	char *out;

	if (list == NULL)
		return NULL;
	if (n > 0) {
		sorted = malloc(n * sizeof(*sorted));
		if (sorted == NULL) {
			json_decref(list);
			return NULL;
		}
		memcpy(sorted, t, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), by_id);
	}
	for (size_t i = 0; i < n; i++) {
		char target[96];

		net_host_port(sorted[i].address, port, target, sizeof(target));
		json_array_append_new(list, json_pack("{s:[s], s:{s:s, s:s, s:s}}",
		    "targets", target, "labels", "pool", pool, "instance_id", sorted[i].id,
		    "provider", provider));
	}
	free(sorted);
	out = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	return out;
}
