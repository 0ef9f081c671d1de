#include "provider/local.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/crashpoint.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/logonce.h"
#include "provider/cgroup.h"
#include "provider/ltable.h"
#include "provider/lstray.h"
#include "provider/procinfo.h"
#include "provider/respawn.h"

#define LOCAL_STATE_MAX (1 << 20)
/* A member that dies sooner than this after its start failed to start:
 * the next starts back off (provider/respawn.h). */
#define LOCAL_YOUNG_MS 10000
#define LOCAL_BACKOFF_BASE_MS 1000
#define LOCAL_BACKOFF_MAX_MS 60000
/* pool destroy: how long past kill_grace it waits for processes it cannot
 * see die (observations failing) before it gives up, keeping the table. */
#define LOCAL_DESTROY_SLACK_MS 10000

struct local {
	const struct local_cfg *cfg;
	char dir[1100];			/* state_dir/local */
	char absdir[PATH_MAX];		/* the same, absolute: how /proc names it */
	char table[1200];		/* dir/instances.json */
	struct ltable t;
	bool dirty;			/* the file is behind the table: write again */
	bool *busy;			/* by index: held by a process not in the table */
	struct respawn rs;
	struct log_once save_log, look_log, busy_log, backoff_log;
	int adopted, forgotten;
	char quota_note[640];
	bool quota_warned;
};

static const struct provider_ops local_ops;

/* Writes the table. Every change is written before the step that depends
 * on it (write-ahead), so the file never lags behind a process. A failure
 * leaves the table as it is in memory, marked dirty and logged once per
 * cause; the caller decides whether to go on. */
static int save(struct local *l, struct err *e)
{
	struct err se;
	char *text;
	int rc;

	crash_point("save");
	text = ltable_format(&l->t);
	if (text == NULL) {
		rc = err_set(&se, "out of memory");
	} else {
		rc = file_write_atomic(l->table, text, strlen(text), &se);
		free(text);
	}
	l->dirty = rc == -1;
	if (rc == -1) {
		log_once_fail(&l->save_log, LOG_ERROR, "could not write the instance table",
		    se.msg);
		if (e != NULL)
			*e = se;
		return -1;
	}
	log_once_ok(&l->save_log, "instance table written again");
	return 0;
}

static void forget(struct local *l, size_t i)
{
	cgroup_remove(l->t.v[i].cgroup);
	ltable_drop(&l->t, i);
}

static int address_of(const struct local *l, int index, char *dst, size_t cap)
{
	struct in_addr a;

	if (inet_pton(AF_INET, l->cfg->address_base, &a) != 1)
		return -1;
	a.s_addr = htonl(ntohl(a.s_addr) + (uint32_t)index);
	return inet_ntop(AF_INET, &a, dst, (socklen_t)cap) ? 0 : -1;
}

/* Takes into the table the processes of this pool it does not know (a
 * table lost or written by an older version): they are members like any
 * other, never started a second time. Returns how many it adopted. */
static int adopt_strays(struct local *l)
{
	struct lstray *v;
	struct err e;
	size_t n;
	int adopted = 0;

	if (lstray_find(l->absdir, l->cfg->address_base, l->cfg->max_instances, &v, &n,
	    &e) == -1) {
		log_msg(LOG_WARN, "could not look for processes of this pool", "error=%s", e.msg);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct linst in = { 0 };

		if (ltable_id_number(v[i].id) > l->t.next_id)
			l->t.next_id = ltable_id_number(v[i].id);
		if (ltable_find(&l->t, v[i].id) != NULL)
			continue;	/* a member, or a child of one */
		if (v[i].index < 0 || ltable_free_index(&l->t, v[i].index + 1, NULL,
		    v[i].index) != v[i].index) {
			log_msg(LOG_WARN, "a process of this pool has no address of its own; "
			    "pool destroy stops it", "id=%s pid=%ld", v[i].id, (long)v[i].pid);
			continue;
		}
		snprintf(in.id, sizeof(in.id), "%s", v[i].id);
		in.index = v[i].index;
		if (address_of(l, in.index, in.address, sizeof(in.address)) == -1)
			continue;
		in.pid = v[i].pid;
		in.start_ticks = v[i].start_ticks;
		in.created_unix_s = clock_wall_unix_ms() / 1000;
		if (ltable_add(&l->t, &in) == -1)
			break;
		if (l->busy != NULL)
			l->busy[in.index] = false;
		log_msg(LOG_WARN, "adopted a process of this pool the table did not know",
		    "id=%s address=%s pid=%ld", in.id, in.address, (long)in.pid);
		adopted++;
	}
	free(v);
	return adopted;
}

/* Reads the table and keeps every instance not known to be gone: one we
 * could not look at (out of descriptors, no permission) is kept, never
 * taken for dead. A missing file is an empty pool; a corrupt one is an
 * error (never guess which processes are ours). */
static int load(struct local *l, struct err *e)
{
	struct buf b;
	int missing = 0, rc;

	buf_init(&b, LOCAL_STATE_MAX);
	rc = file_read_all(l->table, &b, &missing, e);
	if (rc == 0)
		rc = ltable_parse(&l->t, b.p ? b.p : "", b.len, l->table, e);
	buf_fini(&b);
	if (rc == -1 && !missing)
		return -1;
	for (size_t i = 0; i < l->t.n;) {
		struct linst *in = &l->t.v[i];
		int err;
		enum procinfo_seen seen = procinfo_observe(in->pid, in->start_ticks, &err);

		if (seen == PROCINFO_GONE) {
			/* pid 0: recorded, never started (its start was cut short). */
			log_msg(LOG_WARN, "forgot a dead instance", "id=%s address=%s pid=%ld",
			    in->id, in->address, (long)in->pid);
			forget(l, i);
			l->forgotten++;
			l->dirty = true;
			continue;
		}
		if (seen == PROCINFO_UNKNOWN)
			log_msg(LOG_WARN, "could not look at an instance; keeping it",
			    "id=%s pid=%ld error=%s", in->id, (long)in->pid, strerror(err));
		l->adopted++;
		i++;
	}
	rc = adopt_strays(l);
	l->adopted += rc;
	l->dirty |= rc > 0;
	return 0;
}

/* 1 when something listens on (or holds) address:port, 0 when it is free,
 * -1 with e when we could not tell. */
static int port_taken(const char *address, int port, struct err *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd, one = 1, rc = 0;

	if (inet_pton(AF_INET, address, &sa.sin_addr) != 1)
		return err_set(e, "bad address %s", address);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return err_set(e, "socket: %s", strerror(errno));
	/* As the app binds: a connection in TIME_WAIT does not count. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		if (errno == EADDRINUSE)
			rc = 1;
		else
			rc = err_set(e, "bind %s:%d: %s", address, port, strerror(errno));
	}
	close(fd);
	return rc;
}

/* The lowest free index whose ports nobody holds. An address held by a
 * process not in the table is adopted when it is one of ours, otherwise
 * skipped (logged once) until it frees: never started over and over. */
static int pick_index(struct local *l, struct err *e)
{
	bool looked = false;

	for (int idx = ltable_free_index(&l->t, l->cfg->max_instances, NULL, 0); idx >= 0;
	    idx = ltable_free_index(&l->t, l->cfg->max_instances, NULL, idx + 1)) {
		char addr[16], cause[192];
		int taken;

		if (address_of(l, idx, addr, sizeof(addr)) == -1)
			return err_set(e, "bad address_base %s", l->cfg->address_base);
		taken = port_taken(addr, l->cfg->app_port, e);
		if (taken == 0 && l->cfg->metrics_port > 0)
			taken = port_taken(addr, l->cfg->metrics_port, e);
		if (taken == -1)
			return -1;
		if (taken == 0) {
			l->busy[idx] = false;
			return idx;
		}
		if (!looked && !l->busy[idx]) {
			/* Newly taken: maybe a process of ours the table lost. */
			looked = true;
			if (adopt_strays(l) > 0) {
				l->dirty = true;
				if (ltable_free_index(&l->t, idx + 1, NULL, idx) != idx)
					continue;
			}
		}
		if (!l->busy[idx]) {
			snprintf(cause, sizeof(cause), "%s (port %d or %d) is in use by a process "
			    "this pool did not start; skipping it", addr, l->cfg->app_port,
			    l->cfg->metrics_port);
			log_once_fail(&l->busy_log, LOG_WARN, "address in use", cause);
		}
		l->busy[idx] = true;
	}
	return err_set(e, "no free address: all %d are in use", l->cfg->max_instances);
}

/* An argument once its placeholders are replaced: room for two paths. */
#define LOCAL_ARG_MAX (LOCAL_MAX_ARG_LEN + 2 * sizeof(((struct local_cfg *)0)->binary))

/* Expands one placeholder-bearing argument into dst. -1 when it does not
 * fit (never run a truncated command). */
static int expand(const struct local *l, const struct linst *in, const char *arg,
    char *dst, size_t cap)
{
	size_t n = 0;

	dst[0] = '\0';
	while (*arg) {
		char val[sizeof(l->cfg->binary) + 8];
		const char *close;

		if (*arg != '{' || (close = strchr(arg, '}')) == NULL) {
			if (n + 1 >= cap)
				return -1;
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
		else if (strncmp(arg, "{binary}", 8) == 0)
			snprintf(val, sizeof(val), "%s", l->cfg->binary);
		else if (strncmp(arg, "{sd_dir}", 8) == 0)
			snprintf(val, sizeof(val), "%s", l->cfg->sd_dir);
		else {
			if (n + 1 >= cap)
				return -1;
			dst[n++] = *arg++;	/* not ours: copy the brace */
			continue;
		}
		for (const char *v = val; *v; v++) {
			if (n + 1 >= cap)
				return -1;
			dst[n++] = *v;
		}
		arg = close + 1;
		continue;
	}
	dst[n] = '\0';
	return 0;
}

/* The child, between fork and exec: only async-signal-safe calls. It runs
 * the command only once the parent has recorded its pid and says "go"; if
 * the parent dies first, the pipe reads EOF and the child exits without
 * ever starting, so no process runs that the table does not know. */
/* Closes every descriptor above stderr but a and b. The controller's
 * lock and sockets are not the child's to hold: a controller killed while
 * the child waits at its gate left its lock held until the child noticed,
 * and the controller restarted then found it taken. */
static void close_others(int a, int b)
{
	int keep[2] = { a < b ? a : b, a < b ? b : a };
	unsigned int from = 3;

	for (int i = 0; i < 2; i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned int)keep[i] > from)
			close_range(from, (unsigned int)keep[i] - 1, 0);
		from = (unsigned int)keep[i] + 1;
	}
	close_range(from, ~0U, 0);
}

static void child(int gate, int logfd, char *const argv[])
{
	int devnull;
	sigset_t none;
	char go;
	ssize_t n;

	close_others(gate, logfd);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* Its own session, so it outlives the controller as a VM outlives its
	 * management host. */
	setsid();
	do
		n = read(gate, &go, 1);
	while (n == -1 && errno == EINTR);
	if (n != 1)
		_exit(127);
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

/* Starts one member, write-ahead: the table records it (id, address) before
 * the fork and its pid before it may exec, so a crash at any step leaves no
 * process the table does not know. */
static int spawn(struct local *l, struct err *e)
{
	char args[LOCAL_MAX_ARGS][LOCAL_ARG_MAX], logpath[1200], listen[64], mlisten[64], vcpu[32],
	    work[32], boot[32];
	char *argv[LOCAL_MAX_ARGS + 1];
	struct linst in = { 0 }, *rec;
	struct err ce;
	char cgname[64];
	size_t argc = 0;
	pid_t pid;
	int logfd, gate[2], idx;

	idx = pick_index(l, e);
	if (idx < 0)
		return -1;
	in.index = idx;
	if (address_of(l, in.index, in.address, sizeof(in.address)) == -1)
		return err_set(e, "bad address_base %s", l->cfg->address_base);
	ltable_new_id(&l->t, in.id, sizeof(in.id));
	in.created_unix_s = clock_wall_unix_ms() / 1000;
	if (l->cfg->ncommand > 0) {
		for (size_t i = 0; i < l->cfg->ncommand; i++) {
			if (expand(l, &in, l->cfg->command[i], args[i], sizeof(args[i])) == -1)
				return err_set(e, "provider.local.command: argument %zu is longer than "
				    "%zu bytes once its placeholders are replaced", i + 1,
				    sizeof(args[i]) - 1);
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

	/* 1. The intent, with the id's high-water mark: a crash from here on
	 * never hands this id out again. */
	if (ltable_add(&l->t, &in) == -1)
		return err_set(e, "out of memory");
	if (save(l, e) == -1) {
		ltable_drop(&l->t, l->t.n - 1);
		return -1;
	}
	snprintf(logpath, sizeof(logpath), "%s/%s.log", l->dir, in.id);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd == -1) {
		err_set(e, "open %s: %s", logpath, strerror(errno));
		goto undo;
	}
	if (pipe2(gate, O_CLOEXEC) == -1) {
		err_set(e, "pipe: %s", strerror(errno));
		close(logfd);
		goto undo;
	}
	pid = fork();
	if (pid == -1) {
		err_set(e, "fork: %s", strerror(errno));
		close(logfd);
		close(gate[0]);
		close(gate[1]);
		goto undo;
	}
	if (pid == 0) {
		close(gate[1]);
		child(gate[0], logfd, argv);
	}
	close(gate[0]);
	close(logfd);
	crash_point("fork");
	/* 2. Its identity, before it may run. */
	rec = &l->t.v[l->t.n - 1];
	rec->pid = pid;
	if (procinfo_start_ticks(pid, &rec->start_ticks) == -1) {
		err_set(e, "could not read the start time of pid %ld: %s", (long)pid,
		    strerror(errno));
		goto kill_child;
	}
	/* The group is named for the process, not only the id: every pool on
	 * the machine has an i-0001, and instances of two pools in one group
	 * shared one quota (4 pools' i-0001 got a quarter of their vcpu each). */
	snprintf(cgname, sizeof(cgname), "%s-%ld", rec->id, (long)pid);
	if (cgroup_cpu_limit(cgname, pid, l->cfg->vcpu, rec->cgroup, sizeof(rec->cgroup),
	    &ce) == -1) {
		rec->cgroup[0] = '\0';
		snprintf(l->quota_note, sizeof(l->quota_note), "no CPU quota: %s", ce.msg);
		if (!l->quota_warned) {
			log_msg(LOG_WARN, "instances run without a CPU quota", "reason=%s", ce.msg);
			l->quota_warned = true;
		}
	} else {
		snprintf(l->quota_note, sizeof(l->quota_note), "cgroup %s", rec->cgroup);
	}
	if (save(l, e) == -1)
		goto kill_child;
	/* 3. Go. */
	if (write(gate[1], "g", 1) != 1) {
		err_set(e, "could not start pid %ld: %s", (long)pid, strerror(errno));
		goto kill_child;
	}
	close(gate[1]);
	crash_point("exec");
	rec->started_ms = clock_mono_ms();
	log_msg(LOG_INFO, "instance started", "id=%s address=%s pid=%ld", rec->id,
	    rec->address, (long)pid);
	return 0;

kill_child:
	/* It is still waiting at the gate: nothing ran. */
	close(gate[1]);
	kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	cgroup_remove(l->t.v[l->t.n - 1].cgroup);
undo:
	ltable_drop(&l->t, l->t.n - 1);
	l->dirty = true;	/* the file may still hold the intent: harmless */
	return -1;
}

/* Reaps our children, forgets the members known to be gone, escalates slow
 * stops, and feeds the start backoff. A member we could not look at is
 * kept as it is: an observation that failed is no death. */
static bool refresh(struct local *l)
{
	int64_t now = clock_mono_ms();
	bool changed = false, blind = false;
	int young_deaths = 0;
	char cause[192] = "";

	for (size_t i = 0; i < l->t.n;) {
		struct linst *in = &l->t.v[i];
		enum procinfo_seen seen;
		int err;

		if (in->pid > 0)
			(void)waitpid(in->pid, NULL, WNOHANG);	/* ECHILD when adopted */
		seen = procinfo_observe(in->pid, in->start_ticks, &err);
		if (seen == PROCINFO_GONE) {
			/* The controller logs this as an event; here only for debugging. */
			log_msg(LOG_DEBUG, in->stopping ? "instance stopped" : "instance died",
			    "id=%s address=%s pid=%ld", in->id, in->address, (long)in->pid);
			if (!in->stopping && in->started_ms != 0 &&
			    now - in->started_ms < LOCAL_YOUNG_MS)
				young_deaths++;
			forget(l, i);
			changed = true;
			continue;
		}
		i++;
		if (seen == PROCINFO_UNKNOWN) {
			blind = true;
			snprintf(cause, sizeof(cause), "/proc/%ld/stat: %s", (long)in->pid,
			    strerror(err));
			continue;	/* not even SIGKILL: the pid may be someone else's now */
		}
		if (in->started_ms != 0 && now - in->started_ms >= LOCAL_YOUNG_MS) {
			in->started_ms = 0;
			respawn_ok(&l->rs);
			log_once_ok(&l->backoff_log, "instances start again");
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
	}
	if (blind)
		log_once_fail(&l->look_log, LOG_WARN, "could not look at an instance; keeping it",
		    cause);
	else
		log_once_ok(&l->look_log, "instances can be looked at again");
	/* Each death counts: members dying together back off faster. */
	while (young_deaths-- > 0)
		respawn_failed(&l->rs, now, LOCAL_BACKOFF_BASE_MS, LOCAL_BACKOFF_MAX_MS);
	return changed;
}

/* Lists what the table holds. Writing the table is retried here, but its
 * failure fails no list: the members are known, only the file is behind. */
static int local_list(void *impl, struct member_list *out, struct err *e)
{
	struct local *l = impl;

	if (refresh(l) || l->dirty)
		(void)save(l, NULL);
	for (size_t i = 0; i < l->t.n; i++) {
		struct member m = { 0 };

		snprintf(m.id, sizeof(m.id), "%s", l->t.v[i].id);
		snprintf(m.address, sizeof(m.address), "%s", l->t.v[i].address);
		m.stopping = l->t.v[i].stopping;
		m.created_unix_s = l->t.v[i].created_unix_s;
		if (member_list_add(out, &m) == -1)
			return err_set(e, "out of memory");
	}
	return 0;
}

/* Members not stopping. */
static int live(const struct local *l)
{
	int n = 0;

	for (size_t i = 0; i < l->t.n; i++)
		n += !l->t.v[i].stopping;
	return n;
}

static int local_set_size(void *impl, int n, struct err *e)
{
	struct local *l = impl;
	int64_t wait;

	if ((refresh(l) || l->dirty) && save(l, e) == -1)
		return -1;	/* write-ahead: nothing starts that could not be recorded */
	if (live(l) >= n)
		return 0;
	wait = respawn_wait_ms(&l->rs, clock_mono_ms());
	if (wait > 0) {
		char cause[192];

		snprintf(cause, sizeof(cause), "%d instances in a row died within %d s of their "
		    "start; backing off", l->rs.failures, LOCAL_YOUNG_MS / 1000);
		log_once_fail(&l->backoff_log, LOG_WARN, "instances keep dying at start", cause);
		return err_set(e, "%s", cause);	/* stable: the controller logs it once */
	}
	/* A start that fails before its process runs (no address, a full
	 * disk) is retried by the controller at its next interval, not here. */
	while (live(l) < n)	/* counted again: a start may adopt a lost member */
		if (spawn(l, e) == -1)
			return -1;
	return 0;
}

static int local_remove(void *impl, const char *id, struct err *e)
{
	struct local *l = impl;
	struct linst *in = ltable_find(&l->t, id);
	int err;

	(void)e;
	if (in == NULL || in->stopping)
		return 0;
	/* Recorded first: after a crash the next run goes on stopping it. A
	 * full disk does not keep it running (the file catches up later). */
	in->stopping = true;
	in->term_sent_ms = clock_mono_ms();
	(void)save(l, NULL);
	if (procinfo_observe(in->pid, in->start_ticks, &err) == PROCINFO_ALIVE)
		kill(in->pid, SIGTERM);
	else
		in->term_sent_ms = 0;	/* refresh sends it once it can tell */
	crash_point("kill");
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

/* Signals every process the pool ever started that still runs: the table's
 * members and any process writing to one of our log files. Returns how
 * many were not yet seen gone. */
static int stop_all(struct local *l, int sig)
{
	struct lstray *v = NULL;
	struct err e;
	size_t n = 0;
	int left = 0;

	refresh(l);
	for (size_t i = 0; i < l->t.n; i++) {
		int err;

		if (procinfo_observe(l->t.v[i].pid, l->t.v[i].start_ticks, &err) ==
		    PROCINFO_ALIVE)
			kill(l->t.v[i].pid, sig);
		left++;
	}
	if (lstray_find(l->absdir, l->cfg->address_base, l->cfg->max_instances, &v, &n,
	    &e) == -1)
		return left + 1;	/* cannot tell: not done */
	for (size_t i = 0; i < n; i++) {
		int err;

		(void)waitpid(v[i].pid, NULL, WNOHANG);
		if (procinfo_observe(v[i].pid, v[i].start_ticks, &err) != PROCINFO_ALIVE)
			continue;
		if (ltable_find(&l->t, v[i].id) == NULL || sig == SIGKILL)
			kill(v[i].pid, sig);
		left++;
	}
	free(v);
	return left;
}

static int local_destroy(void *impl, struct err *e)
{
	struct local *l = impl;
	int64_t t0 = clock_mono_ms(), kill_at = t0 + l->cfg->kill_grace_ms;
	int64_t give_up = kill_at + LOCAL_DESTROY_SLACK_MS;
	struct timespec tick = { 0, 50 * 1000000L };
	int left;

	for (size_t i = 0; i < l->t.n; i++) {
		l->t.v[i].stopping = true;
		l->t.v[i].term_sent_ms = 0;
	}
	/* Not on an event loop: `pool destroy` may wait for the grace period. */
	left = stop_all(l, SIGTERM);
	while (left > 0) {
		int64_t now;

		nanosleep(&tick, NULL);
		now = clock_mono_ms();
		if (now >= give_up) {
			(void)save(l, NULL);
			return err_set(e, "%d processes of the pool could not be seen to stop; "
			    "the instance table is kept", left);
		}
		left = stop_all(l, now >= kill_at ? SIGKILL : 0);
	}
	/* The table stays, empty, with its high-water mark: ids are never
	 * handed out twice, not even across pools in the same state dir. */
	if (save(l, e) == -1)
		return -1;
	remove_logs(l);
	return 0;
}

static void local_free(void *impl)
{
	struct local *l = impl;

	if (l == NULL)
		return;
	ltable_fini(&l->t);
	free(l->busy);
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
	ltable_init(&l->t);
	snprintf(l->dir, sizeof(l->dir), "%s/local", cfg->state_dir);
	snprintf(l->table, sizeof(l->table), "%s/instances.json", l->dir);
	snprintf(l->quota_note, sizeof(l->quota_note), "no instance started yet");
	l->busy = calloc(cfg->max_instances > 0 ? (size_t)cfg->max_instances : 1, sizeof(bool));
	if (l->busy == NULL) {
		local_free(l);
		return err_set(e, "out of memory");
	}
	if (file_mkdirs(l->dir, e) == -1) {
		local_free(l);
		return -1;
	}
	if (realpath(l->dir, l->absdir) == NULL) {
		err_set(e, "%s: %s", l->dir, strerror(errno));
		local_free(l);
		return -1;
	}
	if (load(l, e) == -1) {
		local_free(l);
		return -1;
	}
	/* A full disk does not stop the start: the file catches up later, and
	 * nothing new starts before it can be written. */
	if (l->dirty)
		(void)save(l, NULL);
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
