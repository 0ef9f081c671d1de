/* libFuzzer target: the load balancer's file_sd parser. Accepted targets
 * must be unique, short enough and parse as addresses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/net.h"
#include "lb/targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_targets t;
	struct err e;

	if (lb_targets_parse((const char *)data, size, &t, &e) == -1)
		return 0;
	for (size_t i = 0; i < t.n; i++) {
		struct net_addr a;

		if (strlen(t.addr[i]) >= LB_ADDR_MAX || net_addr_parse(t.addr[i], &a, &e) == -1)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(t.addr[i], t.addr[j]) == 0)
				abort();
	}
	lb_targets_free(&t);
	return 0;
}
