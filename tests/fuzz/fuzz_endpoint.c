/* libFuzzer target: the endpoint and zone checks (provider/endpoint.c,
 * provider/exo_zone.c), which read whatever a config, a flag or
 * EXOSCALE_ZONE holds. Any crash or sanitizer report fails, and so does a
 * refusal without a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provider/endpoint.h"
#include "provider/exo_zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char zone[EXO_ZONE_MAX + 1];
	struct err e;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	e.msg[0] = '\0';
	if (prov_endpoint_check(s, &e) == -1 && e.msg[0] == '\0')
		abort();
	e.msg[0] = '\0';
	if (exo_endpoint_check(s, &e) == -1 && e.msg[0] == '\0')
		abort();
	/* Anything v2 accepts, the generic rule accepts. */
	if (exo_endpoint_check(s, &e) == 0 && prov_endpoint_check(s, &e) == -1)
		abort();
	e.msg[0] = '\0';
	if (exo_zone_check(s, &e) == -1 && e.msg[0] == '\0')
		abort();
	if (exo_zone_from_id(s, zone, sizeof(zone), &e) == 0 && exo_zone_check(zone, &e) == -1)
		abort();
	free(s);
	return 0;
}
