/* libFuzzer target: the controller's YAML config loader (libyaml plus our
 * walker and range checks). Any crash or sanitizer report fails. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/config.h"

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
	buf_fini(&errs);
	free(text);
	free(c);
	return 0;
}
