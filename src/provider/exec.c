#include "provider/exec.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/subproc.h"

#define EXEC_OUT_MAX (4 << 20)
#define EXEC_ERR_MAX (16 << 10)

struct execp {
	const struct exec_cfg *cfg;
};

void exec_cfg_default(struct exec_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = 120000;
	c->kill_grace_ms = 5000;
}

static void cmd_fini(struct exec_cmd *c)
{
	for (size_t i = 0; i < c->argc; i++)
		free(c->argv[i]);
	c->argc = 0;
}

void exec_cfg_fini(struct exec_cfg *c)
{
	cmd_fini(&c->list);
	cmd_fini(&c->set_size);
	cmd_fini(&c->remove);
}

/* The last non-empty line of stderr, for the error message. */
static void last_line(const struct buf *b, char *dst, size_t cap)
{
	size_t end = b->len, start;

	while (end > 0 && (b->p[end - 1] == '\n' || b->p[end - 1] == '\r' || b->p[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && b->p[start - 1] != '\n')
		start--;
	snprintf(dst, cap, "%.*s", (int)(end - start), b->p ? b->p + start : "");
}

/* Runs one command with {key} replaced; 0 with its stdout in r, or -1 with e
 * naming the command and why it failed. */
static int run(const struct exec_cfg *cfg, const char *what, const struct exec_cmd *cmd,
    const char *key, const char *value, struct subproc_result *r, struct err *e)
{
	const char *keys[1] = { key }, *values[1] = { value };
	struct buf quoted;
	char **argv = NULL, tail[160];
	int rc;

	buf_init(&quoted, 4096);
	/* With a shell, a substituted value is one quoted word, whatever it holds. */
	if (cfg->shell && value != NULL) {
		if (subproc_shell_quote(&quoted, value) == -1 || buf_append(&quoted, "", 1) == -1) {
			buf_fini(&quoted);
			return err_set(e, "exec %s: value too long", what);
		}
		values[0] = quoted.p;
	}
	rc = subproc_expand(cmd->argv, cmd->argc, keys, values, key ? 1 : 0, &argv, e);
	buf_fini(&quoted);
	if (rc == -1)
		return -1;
	if (cfg->shell) {
		char *sh[4] = { "/bin/sh", "-c", argv[0], NULL };

		rc = subproc_run(sh, NULL, cfg->timeout_ms, cfg->kill_grace_ms, r, e);
	} else {
		rc = subproc_run(argv, NULL, cfg->timeout_ms, cfg->kill_grace_ms, r, e);
	}
	subproc_argv_free(argv);
	if (rc == -1) {
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s", e->msg);
		return err_set(e, "exec %s: %s", what, why);
	}
	last_line(&r->err, tail, sizeof(tail));
	if (r->timed_out)
		return err_set(e, "exec %s: killed after its %lld ms timeout%s%s", what,
		    (long long)cfg->timeout_ms, tail[0] ? ": " : "", tail);
	if (r->term_signal != 0)
		return err_set(e, "exec %s: killed by signal %d%s%s", what, r->term_signal,
		    tail[0] ? ": " : "", tail);
	if (r->exit_code != 0)
		return err_set(e, "exec %s: exit status %d%s%s", what, r->exit_code,
		    tail[0] ? ": " : "", tail);
	return 0;
}

static bool stopping_state(const char *s)
{
	static const char *const gone[] = {
		"stopping", "stopped", "terminating", "terminated", "destroying", "deleting",
		"removing", "shutting-down",
	};

	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		if (strcmp(s, gone[i]) == 0)
			return true;
	return false;
}

static bool booting_state(const char *s)
{
	return strcmp(s, "pending") == 0 || strcmp(s, "starting") == 0 ||
	    strcmp(s, "booting") == 0 || strcmp(s, "provisioning") == 0;
}

static bool valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 40)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == '"' || s[i] == '\\' || s[i] == 0x7f)
			return false;
	return true;
}

int exec_parse_members(const char *out, size_t len, struct member_list *l, struct err *e)
{
	json_error_t je;
	json_t *root = json_loadb(out, len, JSON_REJECT_DUPLICATES, &je), *it;
	size_t i;
	int rc = -1;

	if (root == NULL)
		return err_set(e, "output is not JSON: %s (line %d)", je.text, je.line);
	if (!json_is_array(root)) {
		err_set(e, "output is not a JSON list of members");
		goto out;
	}
	json_array_foreach(root, i, it) {
		const char *id = json_string_value(json_object_get(it, "id"));
		const char *addr = json_string_value(json_object_get(it, "address"));
		const char *state = json_string_value(json_object_get(it, "state"));
		json_t *created = json_object_get(it, "created");
		unsigned char ip[16];
		struct member m;

		if (!json_is_object(it) || id == NULL || addr == NULL) {
			err_set(e, "member %zu: needs string \"id\" and \"address\"", i);
			goto out;
		}
		if (!valid_id(id)) {
			err_set(e, "member %zu: id must be 1 to 39 printable bytes", i);
			goto out;
		}
		if (inet_pton(AF_INET, addr, ip) != 1 && inet_pton(AF_INET6, addr, ip) != 1) {
			err_set(e, "member %s: address \"%.64s\" is not an IP address", id, addr);
			goto out;
		}
		memset(&m, 0, sizeof(m));
		snprintf(m.id, sizeof(m.id), "%s", id);
		snprintf(m.address, sizeof(m.address), "%s", addr);
		m.stopping = state != NULL && stopping_state(state);
		m.booting = state != NULL && booting_state(state);
		m.created_unix_s = json_is_integer(created) ? json_integer_value(created) : 0;
		for (size_t j = 0; j < l->n; j++)
			if (strcmp(l->v[j].id, m.id) == 0) {
				err_set(e, "member %s listed twice", m.id);
				goto out;
			}
		if (member_list_add(l, &m) == -1) {
			err_set(e, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static int x_list(void *impl, struct member_list *out, struct err *e)
{
	struct execp *x = impl;
	struct subproc_result r;
	int rc;

	subproc_result_init(&r, EXEC_OUT_MAX, EXEC_ERR_MAX);
	rc = run(x->cfg, "list", &x->cfg->list, NULL, NULL, &r, e);
	if (rc == 0) {
		struct err pe;

		if (exec_parse_members(r.out.p ? r.out.p : "", r.out.len, out, &pe) == -1)
			rc = err_set(e, "exec list: %s", pe.msg);
	}
	subproc_result_fini(&r);
	return rc;
}

/* set_size and remove: only the exit status and stderr matter. */
static int act(const struct exec_cfg *cfg, const char *what, const struct exec_cmd *cmd,
    const char *key, const char *value, struct err *e)
{
	struct subproc_result r;
	int rc;

	subproc_result_init(&r, EXEC_ERR_MAX, EXEC_ERR_MAX);
	rc = run(cfg, what, cmd, key, value, &r, e);
	subproc_result_fini(&r);
	return rc;
}

static int x_set_size(void *impl, int n, struct err *e)
{
	const struct execp *x = impl;
	char num[16];

	snprintf(num, sizeof(num), "%d", n);
	return act(x->cfg, "set_size", &x->cfg->set_size, "size", num, e);
}

static int x_remove(void *impl, const char *id, struct err *e)
{
	const struct execp *x = impl;

	return act(x->cfg, "remove", &x->cfg->remove, "id", id, e);
}

static void x_free(void *impl)
{
	free(impl);
}

static const struct provider_ops exec_ops = {
	.name = "exec",
	.list = x_list,
	.set_size = x_set_size,
	.remove = x_remove,
	.free = x_free,
};

int prov_exec_new(const struct exec_cfg *cfg, struct provider *out, struct err *e)
{
	struct execp *x;

	if (cfg->list.argc == 0 || cfg->set_size.argc == 0 || cfg->remove.argc == 0)
		return err_set(e, "exec: provider.exec needs list, set_size and remove commands");
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return err_set(e, "out of memory");
	x->cfg = cfg;
	out->ops = &exec_ops;
	out->impl = x;
	return 0;
}
