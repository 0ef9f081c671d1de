/* libFuzzer target: Prometheus query answers (instant and range), with the
 * statuses a server may send, and the same bytes as a member's /metrics page
 * (the text format a drain reads). An accepted answer must be internally
 * consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/promtext.h"
#include "promql/query.h"
#include "promql/range.h"

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
		{
			struct prom_matrix m;
			size_t total = 0;

			if (prom_parse_range((const char *)data, size, statuses[i], &m, &e) == 0) {
				if (statuses[i] != 200 || (m.n > 0 && m.s == NULL))
					abort();
				for (size_t j = 0; j < m.n; j++) {
					if (m.s[j].n > 0 && m.s[j].p == NULL)
						abort();
					total += m.s[j].n;
				}
				if (total > PROM_RANGE_MAX_POINTS)
					abort();
				prom_matrix_free(&m);
			}
		}
	}
	{
		double sum;
		int n = prom_text_sum((const char *)data, size, "poolscale_lb_requests_in_flight",
		    &sum);

		if (n < -1 || (n == 0 && sum != 0))
			abort();
	}
	return 0;
}
