/* libFuzzer target: the controller's YAML config loader (libyaml plus our
 * walker and range checks), both as one pool (ctl_cfg_load) and as a file
 * of pools (ctl_pools_load, with flags that override it), and the
 * simulator's, which reads the same file and its `simulate:` section. Any
 * crash or sanitizer report fails. */
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
	/* ctl_pools_load reads the secrets' files (api.bearer_token_file,
	 * ha.password_file): not a path the input names, which could be a
	 * FIFO that blocks (a backslash could spell the key in an escape).
	 * ctl_cfg_load_string above read the rest of such input. */
	if (strstr(text, "_file") == NULL && strchr(text, '\\') == NULL) {
		/* The flags' state_dir is what pools derive their dirs from. */
		const struct ctl_overrides o = { "127.0.0.1:9999", "/tmp/fuzz-state", NULL, true };
		struct ctl_pools p;

		buf_reset(&errs);
		if (ctl_pools_load("fuzz.yml", text, size % 2 ? &o : NULL, &p, &errs) > 0) {
			if (errs.len == 0 || p.n != 0)
				abort();	/* a message for each error, no pool kept */
		} else if (p.n == 0 || p.n > CTL_MAX_POOLS) {
			abort();
		}
		for (size_t i = 0; i < p.n; i++) {
			char path[1200];

			for (int s = 0; s < p.pool[i]->nsets; s++)
				ctl_sd_path(p.pool[i], s, path, sizeof(path));
			if (ctl_pools_find(&p, p.pool[i]->pool) != p.pool[i])
				abort();	/* names are unique */
		}
		ctl_pools_fini(&p);
	}
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
