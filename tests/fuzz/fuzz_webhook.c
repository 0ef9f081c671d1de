/* libFuzzer target: webhook bodies on each of the three routes. A rejected
 * body must say why and carry no signal. */
#include <stdint.h>
#include <stdlib.h>

#include "controller/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int route = -1; route <= 1; route++) {
		struct webhook_signal sig;

		if (webhook_parse((const char *)data, size, route, "poolscale_action", &sig) == -1 &&
		    (sig.error[0] == '\0' || sig.up != 0 || sig.down != 0))
			abort();
		if (sig.up < 0 || sig.down < 0)
			abort();
	}
	return 0;
}
