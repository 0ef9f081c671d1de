/* common/yamlcfg.h: reading a YAML config file into typed values, with every
 * error reported as "FILE:LINE: key: message" and collected (not only the
 * first). A component walks its mappings with ymap_*, reads scalars with
 * ycfg_* (each range-checked), and calls ymap_done() to report unknown keys.
 * Nothing outside the config loaders sees YAML. */
#ifndef POOLSCALE_YAMLCFG_H
#define POOLSCALE_YAMLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "common/buf.h"

#define YMAP_MAX_KEYS 64
#define YCFG_DEPTH_MAX 32			/* mappings and lists in one another */
#define YCFG_FILE_MAX_BYTES (1024 * 1024)	/* a config is a few KB */
#define YCFG_ANCHORS_MAX 32			/* &name: a config needs few, if any */
#define YCFG_ALIASES_MAX 32			/* *name */

struct ycfg {
	yaml_document_t doc;
	bool loaded;
	const char *file;
	unsigned nerrors;
	struct buf errors;	/* one "file:line: message\n" per error */
	/* Put before every message ("pools[web]" makes "min: ..." read
	 * "pools[web].min: ..."), so a reader used for one part of a file
	 * serves it in a list too. "" (the start): none. */
	char scope[80];
};

/* Reads and parses file: one YAML document, at most YCFG_FILE_MAX_BYTES,
 * nested at most YCFG_DEPTH_MAX deep, with at most YCFG_ANCHORS_MAX
 * anchors and YCFG_ALIASES_MAX aliases. On a syntax error, one of those
 * limits or an I/O failure the error is recorded and the root is NULL.
 * Always pair with ycfg_fini(). */
void ycfg_load(struct ycfg *c, const char *file);
/* For tests: parses a string as if it were the file `name`. */
void ycfg_load_string(struct ycfg *c, const char *name, const char *text);
void ycfg_fini(struct ycfg *c);
yaml_node_t *ycfg_root(struct ycfg *c);
/* Records "file:line: msg" for node (NULL: line 1). */
void ycfg_error(struct ycfg *c, const yaml_node_t *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets c->scope (NULL or "": none); longer than it holds is cut. */
void ycfg_scope(struct ycfg *c, const char *scope);

struct ymap {
	struct ycfg *c;
	yaml_node_t *node;
	char path[128];		/* "provider.local", for messages */
	bool used[YMAP_MAX_KEYS];
};

/* false (and an error recorded) when node is not a mapping. NULL node: an
 * empty mapping, so absent sections take their defaults. */
bool ymap_init(struct ymap *m, struct ycfg *c, yaml_node_t *node, const char *path);
/* The value of key, or NULL when absent; marks the key known. */
yaml_node_t *ymap_get(struct ymap *m, const char *key);
/* Reports every key nobody asked for. */
void ymap_done(struct ymap *m);
/* "path.key" for messages, into dst. */
const char *ymap_key_path(const struct ymap *m, const char *key, char *dst, size_t cap);

/* Typed reads of m's key; absent keys leave *out unchanged and return true.
 * A wrong value records an error and returns false. */
bool ycfg_int(struct ymap *m, const char *key, int64_t min, int64_t max, int64_t *out);
bool ycfg_double(struct ymap *m, const char *key, double min, double max, double *out);
bool ycfg_duration(struct ymap *m, const char *key, int64_t min_ms, int64_t max_ms,
    int64_t *out_ms);
bool ycfg_bool(struct ymap *m, const char *key, bool *out);
bool ycfg_string(struct ymap *m, const char *key, char *dst, size_t cap);
/* The scalar text of node, or NULL (error recorded) when not a scalar. */
const char *ycfg_scalar(struct ycfg *c, yaml_node_t *node, const char *what);

#endif
