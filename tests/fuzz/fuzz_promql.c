/* libFuzzer target: Prometheus query answers, with the statuses a server
 * may send. An accepted answer must be internally consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promql/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int statuses[] = { 200, 400, 503 };

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct prom_result r;
		struct err e;
		char host[128];

		if (prom_parse_query((const char *)data, size, statuses[i], &r, &e) == 0) {
			if (statuses[i] != 200 || (r.n > 0 && r.v == NULL))
				abort();
			for (size_t j = 0; j < r.n; j++)
				if (strlen(prom_instance_host(r.v[j].instance, host, sizeof(host))) >=
				    sizeof(host))
					abort();
			prom_result_free(&r);
		}
	}
	return 0;
}
