#include "provider/local.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "common/log.h"
#include "provider/cgroup.h"
#include "provider/procinfo.h"

#define LOCAL_STATE_MAX (1 << 20)

struct inst {
	char id[40];
	int index;			/* address = base + index */
	char address[16];
	pid_t pid;
	uint64_t start_ticks;
	int64_t created_unix_s;
	bool stopping;
	int64_t term_sent_ms;		/* 0: not yet in this run */
	char cgroup[512];
};

struct local {
	const struct local_cfg *cfg;
	char dir[1100];			/* state_dir/local */
	char table[1200];		/* dir/instances.json */
	struct inst *v;
	size_t n, cap;
	uint64_t next_id;
	int adopted, forgotten;
	char quota_note[640];
	bool quota_warned;
};

static const struct provider_ops local_ops;

static int save(struct local *l, struct err *e)
{
	json_t *root = json_object(), *arr = json_array();
	char *text;
	int rc;

	json_object_set_new(root, "next_id", json_integer((json_int_t)l->next_id));
	for (size_t i = 0; i < l->n; i++) {
		struct inst *in = &l->v[i];

		json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:I, s:I, s:I, s:b, s:s}",
		    "id", in->id, "index", in->index, "address", in->address,
		    "pid", (json_int_t)in->pid, "start_ticks", (json_int_t)in->start_ticks,
		    "created_unix_s", (json_int_t)in->created_unix_s, "stopping", in->stopping,
		    "cgroup", in->cgroup));
	}
	json_object_set_new(root, "instances", arr);
	text = json_dumps(root, JSON_INDENT(1));
	json_decref(root);
	if (text == NULL)
		return err_set(e, "out of memory");
	rc = file_write_atomic(l->table, text, strlen(text), e);
	free(text);
	return rc;
}

static int push(struct local *l, const struct inst *in)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct inst *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *in;
	return 0;
}

static void drop(struct local *l, size_t i)
{
	cgroup_remove(l->v[i].cgroup);
	l->v[i] = l->v[--l->n];
}

/* Reads the table; keeps the instances still alive. A missing file is an
 * empty pool; a corrupt one is an error (never guess which processes are ours). */
static int load(struct local *l, struct err *e)
{
	struct buf b;
	json_t *root, *arr, *it;
	json_error_t je;
	size_t i;
	int missing = 0;

	buf_init(&b, LOCAL_STATE_MAX);
	if (file_read_all(l->table, &b, &missing, e) == -1) {
		buf_fini(&b);
		return missing ? 0 : -1;
	}
	root = json_loadb(b.p, b.len, 0, &je);
	buf_fini(&b);
	if (root == NULL)
		return err_set(e, "%s:%d: %s", l->table, je.line, je.text);
	arr = json_object_get(root, "instances");
	l->next_id = (uint64_t)json_integer_value(json_object_get(root, "next_id"));
	if (!json_is_array(arr)) {
		json_decref(root);
		return err_set(e, "%s: no \"instances\" list", l->table);
	}
	json_array_foreach(arr, i, it) {
		struct inst in = { 0 };
		const char *id = NULL, *addr = NULL, *cg = "";
		json_int_t pid = 0, ticks = 0, created = 0;
		int index = 0, stopping = 0;

		if (json_unpack_ex(it, &je, 0, "{s:s, s:i, s:s, s:I, s:I, s:I, s:b, s?s}",
		    "id", &id, "index", &index, "address", &addr, "pid", &pid,
		    "start_ticks", &ticks, "created_unix_s", &created, "stopping", &stopping,
		    "cgroup", &cg) == -1) {
			json_decref(root);
			return err_set(e, "%s: instance %zu: %s", l->table, i, je.text);
		}
		snprintf(in.id, sizeof(in.id), "%s", id);
		snprintf(in.address, sizeof(in.address), "%s", addr);
		snprintf(in.cgroup, sizeof(in.cgroup), "%s", cg);
		in.index = index;
		in.pid = (pid_t)pid;
		in.start_ticks = (uint64_t)ticks;
		in.created_unix_s = created;
		in.stopping = stopping;
		if (!procinfo_is_alive(in.pid, in.start_ticks)) {
			log_msg(LOG_WARN, "forgot a dead instance", "id=%s address=%s pid=%ld",
			    in.id, in.address, (long)in.pid);
			cgroup_remove(in.cgroup);
			l->forgotten++;
			continue;
		}
		if (push(l, &in) == -1) {
			json_decref(root);
			return err_set(e, "out of memory");
		}
		l->adopted++;
	}
	json_decref(root);
	return 0;
}

static int address_of(const struct local *l, int index, char *dst, size_t cap)
{
	struct in_addr a;

	if (inet_pton(AF_INET, l->cfg->address_base, &a) != 1)
		return -1;
	a.s_addr = htonl(ntohl(a.s_addr) + (uint32_t)index);
	return inet_ntop(AF_INET, &a, dst, (socklen_t)cap) ? 0 : -1;
}

static int free_index(const struct local *l)
{
	for (int idx = 0; idx < l->cfg->max_instances; idx++) {
		bool used = false;

		for (size_t i = 0; i < l->n && !used; i++)
			used = l->v[i].index == idx;
		if (!used)
			return idx;
	}
	return -1;
}

/* Expands one placeholder-bearing argument into dst. */
static void expand(const struct local *l, const struct inst *in, const char *arg,
    char *dst, size_t cap)
{
	size_t n = 0;

	dst[0] = '\0';
	while (*arg && n + 1 < cap) {
		char val[64];
		const char *close;

		if (*arg != '{' || (close = strchr(arg, '}')) == NULL) {
			dst[n++] = *arg++;
			continue;
		}
		val[0] = '\0';
		if (strncmp(arg, "{id}", 4) == 0)
			snprintf(val, sizeof(val), "%s", in->id);
		else if (strncmp(arg, "{address}", 9) == 0)
			snprintf(val, sizeof(val), "%s", in->address);
		else if (strncmp(arg, "{port}", 6) == 0)
			snprintf(val, sizeof(val), "%d", l->cfg->app_port);
		else if (strncmp(arg, "{metrics_port}", 14) == 0)
			snprintf(val, sizeof(val), "%d", l->cfg->metrics_port);
		else if (strncmp(arg, "{vcpu}", 6) == 0)
			snprintf(val, sizeof(val), "%g", l->cfg->vcpu);
		else if (strncmp(arg, "{work_ms}", 9) == 0)
			snprintf(val, sizeof(val), "%g", l->cfg->work_ms);
		else if (strncmp(arg, "{boot_delay}", 12) == 0)
			snprintf(val, sizeof(val), "%lldms", (long long)l->cfg->boot_delay_ms);
		else {
			dst[n++] = *arg++;	/* not ours: copy the brace */
			continue;
		}
		for (const char *v = val; *v && n + 1 < cap; v++)
			dst[n++] = *v;
		arg = close + 1;
	}
	dst[n] = '\0';
}

static int spawn(struct local *l, struct err *e)
{
	char args[LOCAL_MAX_ARGS][256], logpath[1200], listen[64], mlisten[64], vcpu[32],
	    work[32], boot[32];
	char *argv[LOCAL_MAX_ARGS + 1];
	struct inst in = { 0 };
	struct err ce;
	size_t argc = 0;
	pid_t pid;
	int logfd;

	in.index = free_index(l);
	if (in.index < 0)
		return err_set(e, "no free address: all %d are in use", l->cfg->max_instances);
	if (address_of(l, in.index, in.address, sizeof(in.address)) == -1)
		return err_set(e, "bad address_base %s", l->cfg->address_base);
	snprintf(in.id, sizeof(in.id), "i-%04llu", (unsigned long long)++l->next_id);
	in.created_unix_s = clock_wall_unix_ms() / 1000;
	if (l->cfg->ncommand > 0) {
		for (size_t i = 0; i < l->cfg->ncommand; i++) {
			expand(l, &in, l->cfg->command[i], args[i], sizeof(args[i]));
			argv[argc++] = args[i];
		}
	} else {
		snprintf(listen, sizeof(listen), "%s:%d", in.address, l->cfg->app_port);
		snprintf(mlisten, sizeof(mlisten), "%s:%d", in.address, l->cfg->metrics_port);
		snprintf(vcpu, sizeof(vcpu), "%g", l->cfg->vcpu);
		snprintf(work, sizeof(work), "%g", l->cfg->work_ms);
		snprintf(boot, sizeof(boot), "%lldms", (long long)l->cfg->boot_delay_ms);
		{
			char *def[] = { (char *)l->cfg->binary, "app", "--listen", listen,
			    "--metrics-listen", mlisten, "--vcpu", vcpu, "--work-ms", work,
			    "--boot-delay", boot };

			for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++)
				argv[argc++] = def[i];
		}
	}
	argv[argc] = NULL;
	snprintf(logpath, sizeof(logpath), "%s/%s.log", l->dir, in.id);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd == -1)
		return err_set(e, "open %s: %s", logpath, strerror(errno));
	pid = fork();
	if (pid == -1) {
		close(logfd);
		return err_set(e, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		/* Child: its own session, so it outlives the controller as a VM
		 * outlives its management host; only async-signal-safe calls. */
		int devnull = open("/dev/null", O_RDONLY);
		sigset_t none;

		setsid();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (devnull != -1)
			dup2(devnull, STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(logfd);
	in.pid = pid;
	if (procinfo_start_ticks(pid, &in.start_ticks) == -1)
		in.start_ticks = 0;
	if (cgroup_cpu_limit(in.id, pid, l->cfg->vcpu, in.cgroup, sizeof(in.cgroup), &ce) == -1) {
		in.cgroup[0] = '\0';
		snprintf(l->quota_note, sizeof(l->quota_note), "no CPU quota: %s", ce.msg);
		if (!l->quota_warned) {
			log_msg(LOG_WARN, "instances run without a CPU quota", "reason=%s", ce.msg);
			l->quota_warned = true;
		}
	} else {
		snprintf(l->quota_note, sizeof(l->quota_note), "cgroup %s", in.cgroup);
	}
	if (push(l, &in) == -1) {
		kill(pid, SIGKILL);
		return err_set(e, "out of memory");
	}
	log_msg(LOG_INFO, "instance started", "id=%s address=%s pid=%ld", in.id, in.address,
	    (long)pid);
	return 0;
}

/* Reaps our children, forgets the dead, escalates slow stops. */
static bool refresh(struct local *l)
{
	int64_t now = clock_mono_ms();
	bool changed = false;

	for (size_t i = 0; i < l->n;) {
		struct inst *in = &l->v[i];

		(void)waitpid(in->pid, NULL, WNOHANG);	/* ECHILD when adopted */
		if (!procinfo_is_alive(in->pid, in->start_ticks)) {
			/* The controller logs this as an event; here only for debugging. */
			log_msg(LOG_DEBUG, in->stopping ? "instance stopped" : "instance died",
			    "id=%s address=%s pid=%ld", in->id, in->address, (long)in->pid);
			drop(l, i);
			changed = true;
			continue;
		}
		if (in->stopping) {
			if (in->term_sent_ms == 0) {
				kill(in->pid, SIGTERM);
				in->term_sent_ms = now;
			} else if (now - in->term_sent_ms >= l->cfg->kill_grace_ms) {
				log_msg(LOG_WARN, "instance ignored SIGTERM: killing", "id=%s pid=%ld",
				    in->id, (long)in->pid);
				kill(in->pid, SIGKILL);
			}
		}
		i++;
	}
	return changed;
}

static int local_list(void *impl, struct member_list *out, struct err *e)
{
	struct local *l = impl;

	if (refresh(l) && save(l, e) == -1)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		struct member m = { 0 };

		snprintf(m.id, sizeof(m.id), "%s", l->v[i].id);
		snprintf(m.address, sizeof(m.address), "%s", l->v[i].address);
		m.stopping = l->v[i].stopping;
		m.created_unix_s = l->v[i].created_unix_s;
		if (member_list_add(out, &m) == -1)
			return err_set(e, "out of memory");
	}
	return 0;
}

static int local_set_size(void *impl, int n, struct err *e)
{
	struct local *l = impl;
	int live = 0, rc = 0;

	refresh(l);
	for (size_t i = 0; i < l->n; i++)
		live += !l->v[i].stopping;
	while (live < n && rc == 0) {
		rc = spawn(l, e);
		live += rc == 0;
	}
	if (save(l, rc == 0 ? e : NULL) == -1 && rc == 0)
		return -1;
	return rc;
}

static int local_remove(void *impl, const char *id, struct err *e)
{
	struct local *l = impl;

	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].id, id) != 0 || l->v[i].stopping)
			continue;
		l->v[i].stopping = true;
		l->v[i].term_sent_ms = clock_mono_ms();
		kill(l->v[i].pid, SIGTERM);
		return save(l, e);
	}
	return 0;
}

/* The instances' log files: gone with the pool. */
static void remove_logs(const struct local *l)
{
	DIR *d = opendir(l->dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char path[1400];

		if (n < 5 || strcmp(de->d_name + n - 4, ".log") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", l->dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

static int local_destroy(void *impl, struct err *e)
{
	struct local *l = impl;
	int64_t deadline = clock_mono_ms() + l->cfg->kill_grace_ms;
	struct timespec tick = { 0, 50 * 1000000L };

	for (size_t i = 0; i < l->n; i++) {
		l->v[i].stopping = true;
		kill(l->v[i].pid, SIGTERM);
		l->v[i].term_sent_ms = clock_mono_ms();
	}
	/* Not on an event loop: `pool destroy` may wait for the grace period. */
	while (l->n > 0) {
		refresh(l);
		if (l->n == 0)
			break;
		if (clock_mono_ms() >= deadline) {
			for (size_t i = 0; i < l->n; i++)
				kill(l->v[i].pid, SIGKILL);
		}
		nanosleep(&tick, NULL);
	}
	if (unlink(l->table) == -1 && errno != ENOENT)
		return err_set(e, "unlink %s: %s", l->table, strerror(errno));
	l->next_id = 0;
	remove_logs(l);
	return 0;
}

static void local_free(void *impl)
{
	struct local *l = impl;

	if (l == NULL)
		return;
	free(l->v);
	free(l);
}

static const struct provider_ops local_ops = {
	.name = "local",
	.list = local_list,
	.set_size = local_set_size,
	.remove = local_remove,
	.destroy = local_destroy,
	.free = local_free,
};

int prov_local_new(const struct local_cfg *cfg, struct provider *out, struct err *e)
{
	struct local *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return err_set(e, "out of memory");
	l->cfg = cfg;
	snprintf(l->dir, sizeof(l->dir), "%s/local", cfg->state_dir);
	snprintf(l->table, sizeof(l->table), "%s/instances.json", l->dir);
	snprintf(l->quota_note, sizeof(l->quota_note), "no instance started yet");
	if (file_mkdirs(l->dir, e) == -1 || load(l, e) == -1) {
		local_free(l);
		return -1;
	}
	if (l->forgotten > 0 && save(l, e) == -1) {
		local_free(l);
		return -1;
	}
	out->ops = &local_ops;
	out->impl = l;
	return 0;
}

void prov_local_adopted(const struct provider *p, int *adopted, int *forgotten)
{
	const struct local *l = p->ops == &local_ops ? p->impl : NULL;

	*adopted = l ? l->adopted : 0;
	*forgotten = l ? l->forgotten : 0;
}

const char *prov_local_quota_note(const struct provider *p)
{
	if (p->ops != &local_ops)
		return NULL;
	return ((const struct local *)p->impl)->quota_note;
}
