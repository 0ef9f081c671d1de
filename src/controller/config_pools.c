/* controller/config_pools.c: the layout of a controller config file
 * (docs/configuration.md, "Several pools"). Without `pools:` the file is
 * one pool, its keys at the top level. With it, each entry is one pool's
 * keys plus its `name`, and the shared keys (state_dir, log_level,
 * dry_run, api, prometheus, webhook, ha, simulate) stay at the top level,
 * copied into every pool. Here: reading that list; what each pool derives
 * (state_dir/NAME, the discovery files' prefix, a local address range of
 * its own); the checks between pools; the flags that override the file
 * (struct ctl_overrides); and ctl_cfg_load, the view of the commands that
 * take one pool. config.c reads the keys themselves. Errors inside a pool
 * name it through the reader's scope: "FILE:LINE: pools[web].min: ...". */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/net.h"
#include "common/yamlcfg.h"
#include "controller/config.h"

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

struct parse {
	struct ycfg y;
	const struct ctl_overrides *o;
	struct ctl_pools *out;
	struct ctl_cfg *shared;		/* defaults, the shared keys and the flags */
	yaml_node_t *entry[CTL_MAX_POOLS];	/* each pool's mapping (the root without pools:) */
	bool named[CTL_MAX_POOLS];	/* its name is valid and its own */
	struct buf flag_errors;		/* the overrides', after the file's */
	int nflag_errors;
};

/* The key node (or the value node) of key in mapping map, or NULL. For
 * lines: a value that is a mapping starts on the line after its key. */
static yaml_node_t *find_node(struct ycfg *y, yaml_node_t *map, const char *key, bool want_key)
{
	yaml_node_pair_t *pr;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, pr->key);

		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return want_key ? k : yaml_document_get_node(&y->doc, pr->value);
	}
	return NULL;
}

/* The first of path's keys (a NULL-ended walk into entry) found, deepest
 * first: where an error about that part of a pool is reported. */
static yaml_node_t *line_of(struct ycfg *y, yaml_node_t *entry, const char *const *path)
{
	yaml_node_t *at = entry, *map = entry;

	for (; *path && map; path++) {
		yaml_node_t *k = find_node(y, map, *path, true);

		if (k == NULL)
			break;
		at = k;
		map = find_node(y, map, *path, false);
	}
	return at;
}

/* listen, log_level and dry_run; state_dir is set_dirs()'s. */
static void apply_overrides(struct parse *p)
{
	const struct ctl_overrides *o = p->o;
	struct ctl_cfg *s = p->shared;
	struct net_addr a;
	struct err e;

	if (o == NULL)
		return;
	if (o->listen) {
		if (strlen(o->listen) >= sizeof(s->api_listen)) {
			buf_appendf(&p->flag_errors, "--listen: longer than %zu characters\n",
			    sizeof(s->api_listen) - 1);
			p->nflag_errors++;
		} else if (net_addr_parse(o->listen, &a, &e) == -1) {
			buf_appendf(&p->flag_errors, "--listen: %s\n", e.msg);
			p->nflag_errors++;
		} else {
			snprintf(s->api_listen, sizeof(s->api_listen), "%s", o->listen);
		}
	}
	if (o->log_level && log_level_parse(o->log_level, &s->log_level) == -1) {
		buf_appendf(&p->flag_errors, "--log-level: \"%s\" is not error, warn, info or "
		    "debug\n", o->log_level);
		p->nflag_errors++;
	}
	s->dry_run |= o->dry_run;
}

/* A new pool i: the shared values, and what a pool's index sets. */
static struct ctl_cfg *new_pool(struct parse *p, yaml_node_t *entry, int i)
{
	struct ctl_cfg *c = calloc(1, sizeof(*c));	/* as config.h says */

	if (c == NULL)
		return NULL;
	*c = *p->shared;
	c->index = i;
	if (p->out->listed)	/* each pool its own 127.0.X.0/24 */
		snprintf(c->local.address_base, sizeof(c->local.address_base), "127.0.%d.1", 1 + i);
	p->out->pool[p->out->n++] = c;
	p->entry[i] = entry;
	return c;
}

/* Entry i's name: its scope from here on is pools[NAME], or pools[i]
 * while it has no name of its own. */
static void read_pool_name(struct parse *p, yaml_node_t *entry, int i, struct ctl_cfg *c)
{
	struct ycfg *y = &p->y;
	yaml_node_t *n = find_node(y, entry, "name", false);
	const char *s;
	char scope[sizeof(y->scope)];

	snprintf(scope, sizeof(scope), "pools[%d]", i);
	ycfg_scope(y, scope);
	c->pool[0] = '\0';
	if (entry->type != YAML_MAPPING_NODE) {
		/* "- " alone would read as an empty mapping: no name */
		if (entry->type == YAML_SCALAR_NODE && entry->data.scalar.length == 0)
			ycfg_error(y, entry, "name: missing");
		return;		/* else ymap_init says what is wrong */
	}
	if (n == NULL) {
		ycfg_error(y, entry, "name: missing");
		return;
	}
	if ((s = ycfg_scalar(y, n, "name")) == NULL)
		return;
	if (!ctl_name_ok(s, sizeof(c->pool))) {
		ycfg_error(y, n, "name: \"%s\" is not a name (letters, digits, - and _, under "
		    "%zu characters)", s, sizeof(c->pool));
		return;
	}
	for (int j = 0; j < i; j++) {
		if (p->named[j] && strcmp(p->out->pool[j]->pool, s) == 0) {
			ycfg_error(y, n, "name: \"%s\" is already pools[%d]'s name", s, j);
			return;
		}
	}
	snprintf(c->pool, sizeof(c->pool), "%s", s);
	snprintf(c->sd_prefix, sizeof(c->sd_prefix), "%s-", s);
	p->named[i] = true;
	snprintf(scope, sizeof(scope), "pools[%s]", s);
	ycfg_scope(y, scope);
}

static void read_pool_entry(struct parse *p, yaml_node_t *entry, int i)
{
	/* The top level's alone (ctl_cfg_read_shared, and ha: here). */
	static const char *const shared_keys[] = {
		"state_dir", "log_level", "dry_run", "api", "prometheus", "webhook", "ha",
		"simulate"
	};
	struct ycfg *y = &p->y;
	struct ctl_cfg *c = new_pool(p, entry, i);
	struct ymap m;

	if (c == NULL) {
		ycfg_error(y, entry, "pools[%d]: out of memory", i);
		return;
	}
	read_pool_name(p, entry, i, c);
	if (ymap_init(&m, y, entry, "")) {
		(void)ymap_get(&m, "name");
		if (ymap_get(&m, "pool") != NULL)
			ycfg_error(y, find_node(y, entry, "pool", true),
			    "pool: a pool of pools: takes its name as name:");
		for (size_t k = 0; k < NKEYS(shared_keys); k++)
			if (ymap_get(&m, shared_keys[k]) != NULL)
				ycfg_error(y, find_node(y, entry, shared_keys[k], true),
				    "%s: give it at the top level (every pool shares it)",
				    shared_keys[k]);
		ctl_cfg_read_pool(y, &m, c);
		ymap_done(&m);
	}
	ycfg_scope(y, NULL);
}

static void read_pools_list(struct parse *p, struct ymap *root, yaml_node_t *list)
{
	/* Each pool's alone (ctl_cfg_read_pool, and pool: as name:). */
	static const char *const pool_keys[] = {
		"pool", "min", "max", "initial", "interval", "health", "drain", "provider",
		"discovery", "policy", "schedule"
	};
	struct ycfg *y = &p->y;
	yaml_node_item_t *it;
	int i = 0;

	for (size_t k = 0; k < NKEYS(pool_keys); k++) {
		if (ymap_get(root, pool_keys[k]) == NULL)
			continue;
		if (strcmp(pool_keys[k], "pool") == 0)
			ycfg_error(y, find_node(y, root->node, "pool", true),
			    "pool: give each pool's name as name: in pools: (the file has pools:)");
		else
			ycfg_error(y, find_node(y, root->node, pool_keys[k], true),
			    "%s: give it in each pool (the file has pools:)", pool_keys[k]);
	}
	if (list->type == YAML_SCALAR_NODE && list->data.scalar.length == 0) {
		ycfg_error(y, list, "pools: empty (give at least one pool)");
		return;
	}
	if (list->type != YAML_SEQUENCE_NODE) {
		ycfg_error(y, list, "pools: expected a list of pools, each a mapping with name:");
		return;
	}
	for (it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++, i++) {
		yaml_node_t *entry = yaml_document_get_node(&y->doc, *it);

		if (i == CTL_MAX_POOLS) {
			ycfg_error(y, entry, "pools: more than %d pools", CTL_MAX_POOLS);
			return;
		}
		read_pool_entry(p, entry, i);
	}
	if (i == 0)
		ycfg_error(y, list, "pools: empty (give at least one pool)");
}

/* Drops "//", "/./" and a trailing "/", so two spellings of a path
 * compare equal (".." and links are left alone). */
static void normalize(char *s)
{
	char *w = s;

	for (const char *r = s; *r; ) {
		if (r[0] == '/' && (r[1] == '/' || (r[1] == '.' && (r[2] == '/' || r[2] == '\0')))) {
			r += r[1] == '/' ? 1 : 2;
			continue;
		}
		*w++ = *r++;
	}
	while (w > s + 1 && w[-1] == '/')
		w--;
	*w = '\0';
}

/* state_dir after the flag; each pool's state_dir/NAME (with pools:),
 * its local table there, and its discovery dir, which is the shared
 * state_dir unless given (and follows --state-dir while it is that). */
static void set_dirs(struct parse *p)
{
	struct ctl_cfg *s = p->shared;
	char file_dir[sizeof(s->state_dir)], dir[sizeof(s->state_dir)];

	snprintf(file_dir, sizeof(file_dir), "%s", s->state_dir);
	ctl_cfg_resolve(file_dir, sizeof(file_dir), s->file);
	snprintf(dir, sizeof(dir), "%s", p->o && p->o->state_dir ? p->o->state_dir : file_dir);
	for (size_t i = 0; i < p->out->n; i++) {
		struct ctl_cfg *c = p->out->pool[i];

		if (!p->out->listed)
			snprintf(c->state_dir, sizeof(c->state_dir), "%s", dir);
		else if (snprintf(c->state_dir, sizeof(c->state_dir), "%s/%s", dir, c->pool) >=
		    (int)sizeof(c->state_dir))
			ycfg_error(&p->y, p->entry[i], "pools[%s]: state_dir/%s is longer than %zu "
			    "characters", c->pool, c->pool, sizeof(c->state_dir) - 1);
		snprintf(c->local.state_dir, sizeof(c->local.state_dir), "%s", c->state_dir);
		if (c->sd_dir[0] == '\0') {
			snprintf(c->sd_dir, sizeof(c->sd_dir), "%s", dir);
		} else {
			ctl_cfg_resolve(c->sd_dir, sizeof(c->sd_dir), c->file);
			if (p->o && p->o->state_dir && strcmp(c->sd_dir, file_dir) == 0)
				snprintf(c->sd_dir, sizeof(c->sd_dir), "%s", dir);
		}
	}
}

void ctl_sd_path(const struct ctl_cfg *cfg, int set, char *dst, size_t cap)
{
	snprintf(dst, cap, "%s/targets-%s%s.json", cfg->sd_dir, cfg->sd_prefix,
	    cfg->sets[set].name);
}

/* No two pools may write the same discovery file: the later one's write
 * would replace the other's targets. */
static void check_sd_paths(struct parse *p)
{
	typedef char paths_t[CTL_MAX_SETS][sizeof(((struct ctl_cfg *)0)->sd_dir) + 128];
	paths_t *path;

	if (p->out->n < 2)
		return;
	if ((path = calloc(p->out->n, sizeof(*path))) == NULL) {
		ycfg_error(&p->y, NULL, "out of memory");
		return;
	}
	for (size_t i = 0; i < p->out->n; i++) {
		const struct ctl_cfg *c = p->out->pool[i];

		for (int s = 0; s < c->nsets && p->named[i]; s++) {
			ctl_sd_path(c, s, path[i][s], sizeof(path[i][s]));
			normalize(path[i][s]);
			for (size_t j = 0; j < i; j++) {
				const struct ctl_cfg *d = p->out->pool[j];
				const char *at[] = { "discovery", "sets", c->sets[s].name, NULL };

				for (int t = 0; t < d->nsets && p->named[j]; t++) {
					if (strcmp(path[i][s], path[j][t]) != 0)
						continue;
					ycfg_error(&p->y, line_of(&p->y, p->entry[i], at),
					    "pools[%s].discovery: set %s's file %s is also pools[%s]'s "
					    "(set %s)", c->pool, c->sets[s].name, path[i][s], d->pool,
					    d->sets[t].name);
					j = i;		/* once per set */
					break;
				}
			}
		}
	}
	free(path);
}

/* The addresses a local pool may give its instances, [lo, hi]. */
static bool local_range(const struct ctl_cfg *c, uint64_t *lo, uint64_t *hi)
{
	struct in_addr a;

	if (strcmp(c->provider, "local") != 0 || inet_pton(AF_INET, c->local.address_base, &a) != 1)
		return false;
	*lo = ntohl(a.s_addr);
	*hi = *lo + (uint64_t)c->local.max_instances - 1;
	return true;
}

static void format_range(uint64_t lo, uint64_t hi, char *dst, size_t cap)
{
	snprintf(dst, cap, "%u.%u.%u.%u-%u.%u.%u.%u", (unsigned)(lo >> 24) & 255,
	    (unsigned)(lo >> 16) & 255, (unsigned)(lo >> 8) & 255, (unsigned)lo & 255,
	    (unsigned)(hi >> 24) & 255, (unsigned)(hi >> 16) & 255, (unsigned)(hi >> 8) & 255,
	    (unsigned)hi & 255);
}

/* Two local pools with one address would start two instances on one
 * address and port. */
static void check_local_ranges(struct parse *p)
{
	static const char *const at[] = { "provider", "local", "address_base", NULL };

	for (size_t i = 0; i < p->out->n; i++) {
		const struct ctl_cfg *c = p->out->pool[i];
		uint64_t lo, hi, lo2, hi2;
		char mine[40], theirs[40];

		if (!p->named[i] || !local_range(c, &lo, &hi))
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct ctl_cfg *d = p->out->pool[j];

			if (!p->named[j] || !local_range(d, &lo2, &hi2) || lo > hi2 || lo2 > hi)
				continue;
			format_range(lo, hi, mine, sizeof(mine));
			format_range(lo2, hi2, theirs, sizeof(theirs));
			ycfg_error(&p->y, line_of(&p->y, p->entry[i], at),
			    "pools[%s].provider.local: addresses %s overlap pools[%s]'s %s "
			    "(address_base and max_instances)",
			    c->pool, mine, d->pool, theirs);
			break;
		}
	}
}

/* For the commands that take one pool: a list of more is an error that
 * names them. */
static void check_one(struct parse *p, yaml_node_t *pools_key)
{
	char names[320] = "";
	size_t len = 0;

	for (size_t i = 0; i < p->out->n && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "",
		    p->out->pool[i]->pool[0] ? p->out->pool[i]->pool : "?");
	ycfg_error(&p->y, pools_key, "pools: this command takes one pool; the file has %zu (%s%s)",
	    p->out->n, names, len >= sizeof(names) ? "..." : "");
}

/* Everything but ctl_cfg_finish. Returns the number of errors, their
 * text appended to errors; out holds the pools read, even with errors
 * (the caller decides). one: the caller takes one pool. */
static int pools_parse(const char *file, const char *text, const struct ctl_overrides *o, bool one,
    struct ctl_pools *out, struct buf *errors)
{
	struct parse p;
	struct ymap root;
	yaml_node_t *list = NULL, *ha = NULL;
	int n;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.o = o;
	p.out = out;
	buf_init(&p.flag_errors, 1 << 12);
	if (text != NULL)
		ycfg_load_string(&p.y, file, text);
	else
		ycfg_load(&p.y, file);
	p.shared = calloc(1, sizeof(*p.shared));
	if (p.shared == NULL) {
		ycfg_error(&p.y, NULL, "out of memory");
		goto out;
	}
	ctl_cfg_defaults(p.shared);
	snprintf(p.shared->file, sizeof(p.shared->file), "%s", file);
	/* An empty or unparsable file reads as an empty mapping: defaults. */
	if (ymap_init(&root, &p.y, ycfg_root(&p.y), "")) {
		ctl_cfg_read_shared(&p.y, &root, p.shared);
		list = ymap_get(&root, "pools");
		ha = ymap_get(&root, "ha");
	}
	apply_overrides(&p);
	out->listed = list != NULL;
	if (list != NULL) {
		read_pools_list(&p, &root, list);
	} else {
		struct ctl_cfg *c = new_pool(&p, root.node, 0);

		if (c == NULL) {
			ycfg_error(&p.y, NULL, "out of memory");
			goto out;
		}
		p.named[0] = true;
		ycfg_string(&root, "pool", c->pool, sizeof(c->pool));
		ctl_cfg_read_pool(&p.y, &root, c);
	}
	/* One ha: block for the file: read once, checked against each pool. */
	if (out->n >= 1 && ha != NULL) {
		ctl_cfg_read_ha(&p.y, ha, out->pool[0]);
		for (size_t i = 0; i < out->n; i++) {
			if (i > 0)
				out->pool[i]->ha = out->pool[0]->ha;
			ctl_cfg_check_ha_pool(&p.y, ha, out->pool[i], out->n > 1);
		}
	}
	ymap_done(&root);
	set_dirs(&p);
	for (size_t i = 0; i < out->n; i++)
		ctl_cfg_derive(out->pool[i]);
	check_sd_paths(&p);
	check_local_ranges(&p);
	if (one && out->n > 1)
		check_one(&p, find_node(&p.y, root.node, "pools", true));
out:
	n = (int)p.y.nerrors + p.nflag_errors;
	buf_append(errors, p.y.errors.p, p.y.errors.len);
	buf_append(errors, p.flag_errors.p, p.flag_errors.len);
	buf_fini(&p.flag_errors);
	ycfg_fini(&p.y);
	free(p.shared);
	return n;
}

int ctl_pools_load(const char *file, const char *text, const struct ctl_overrides *o,
    struct ctl_pools *out, struct buf *errors)
{
	int n = pools_parse(file, text, o, false, out, errors);

	/* The secrets and the listen check are the same for every pool (api:
	 * and ha: are shared): read and checked once, copied. */
	if (n == 0 && out->n > 0) {
		n = ctl_cfg_finish(out->pool[0], errors);
		for (size_t i = 1; i < out->n; i++) {
			memcpy(out->pool[i]->token, out->pool[0]->token, sizeof(out->pool[i]->token));
			memcpy(out->pool[i]->ha.etcd.password, out->pool[0]->ha.etcd.password,
			    sizeof(out->pool[i]->ha.etcd.password));
		}
	}
	if (n > 0)
		ctl_pools_fini(out);
	return n;
}

void ctl_pools_fini(struct ctl_pools *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->pool[i] != NULL)
			ctl_cfg_fini(p->pool[i]);
		free(p->pool[i]);
		p->pool[i] = NULL;
	}
	p->n = 0;
}

struct ctl_cfg *ctl_pools_find(const struct ctl_pools *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->pool[i]->pool, name) == 0)
			return p->pool[i];
	return NULL;
}

/* The one pool moves into cfg (its command strings with it); without
 * one (a broken pools:), cfg holds the defaults. */
static int load_one(const char *file, const char *text, struct ctl_cfg *cfg, struct buf *errors)
{
	struct ctl_pools p;
	int n = pools_parse(file, text, NULL, true, &p, errors);

	if (p.n > 0) {
		*cfg = *p.pool[0];
		free(p.pool[0]);
		p.pool[0] = NULL;
	} else {
		ctl_cfg_defaults(cfg);
		snprintf(cfg->file, sizeof(cfg->file), "%s", file);
	}
	ctl_pools_fini(&p);
	return n;
}

int ctl_cfg_load(const char *file, struct ctl_cfg *cfg, struct buf *errors)
{
	return load_one(file, NULL, cfg, errors);
}

int ctl_cfg_load_string(const char *name, const char *text, struct ctl_cfg *cfg,
    struct buf *errors)
{
	return load_one(name, text, cfg, errors);
}
