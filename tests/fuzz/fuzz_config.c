/* libFuzzer target: the controller's YAML config loader (libyaml plus our
 * walker and range checks), and the simulator's, which reads the same file
 * and its `simulate:` section. Any crash or sanitizer report fails. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/config.h"
#include "sim/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_cfg *c = malloc(sizeof(*c));
	char *text = malloc(size + 1);
	struct buf errs;

	if (c == NULL || text == NULL) {
		free(c);
		free(text);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	buf_init(&errs, 1 << 16);
	if (ctl_cfg_load_string("fuzz.yml", text, c, &errs) > 0 && errs.len == 0)
		abort();	/* an error must come with its message */
	ctl_cfg_fini(c);
	{
		struct sim_cfg *sc = malloc(sizeof(*sc));

		buf_reset(&errs);
		if (sc && sim_cfg_load_string("fuzz.yml", text, sc, &errs) > 0 && errs.len == 0)
			abort();
		if (sc)
			sim_cfg_fini(sc);
		free(sc);
	}
	buf_fini(&errs);
	free(text);
	free(c);
	return 0;
}
