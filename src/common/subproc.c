/* Running a program with a timeout; see subproc.h. fork and execve rather
 * than posix_spawn, so the child can tell why it could not start: it writes
 * its errno to a close-on-exec pipe that a successful exec closes unread. */
#include "common/subproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

#define SUBPROC_POLL_MS 10	/* how often exit is checked without a pidfd */

/* What a child that could not exec writes to its parent. */
struct subproc_report {
	int setup;	/* 1 when a step before the exec failed, 0 for the exec */
	int err;	/* its errno */
};

/* The pipes of one run. The child's ends go to its 0, 1 and 2. */
struct subproc_fds {
	int child_in, child_out, child_err, report_w;
	int in;		/* ours: writes input to its stdin; -1 without input */
	int out, err;	/* ours: read its stdout and stderr */
	int report;	/* ours: reads a struct subproc_report */
};

/* What the child needs, all made before fork: it may not allocate. */
struct subproc_child {
	char *const *argv;
	char **paths;		/* where to look for argv[0], in order */
	struct sigaction dfl;	/* SIG_DFL */
	sigset_t none;
};

void subproc_result_init(struct subproc_result *r, size_t out_max, size_t err_max)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->out, out_max);
	buf_init(&r->err, err_max);
}

void subproc_result_fini(struct subproc_result *r)
{
	buf_fini(&r->out);
	buf_fini(&r->err);
}

static void subproc_close(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

static void subproc_close_all(struct subproc_fds *f)
{
	subproc_close(&f->child_in);
	subproc_close(&f->child_out);
	subproc_close(&f->child_err);
	subproc_close(&f->report_w);
	subproc_close(&f->in);
	subproc_close(&f->out);
	subproc_close(&f->err);
	subproc_close(&f->report);
}

/* Moves fd above 2, so that dup2 onto 0, 1 and 2 in the child never meets
 * one of its sources (with our stdin closed, pipe2 may hand out 0). */
static int subproc_high(int *fd)
{
	int high;

	if (*fd > 2)
		return 0;
	high = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (high == -1)
		return -1;
	close(*fd);
	*fd = high;
	return 0;
}

/* A close-on-exec pipe with both ends above 2; *ours is made non-blocking. */
static int subproc_pipe(int *rd, int *wr, int *ours)
{
	int fds[2], flags;

	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	*rd = fds[0];
	*wr = fds[1];
	if (subproc_high(rd) == -1 || subproc_high(wr) == -1)
		return -1;
	if (ours == NULL)
		return 0;
	flags = fcntl(*ours, F_GETFL);
	if (flags == -1 || fcntl(*ours, F_SETFL, flags | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

static int subproc_open_fds(struct subproc_fds *f, bool with_input, struct err *e)
{
	*f = (struct subproc_fds){ -1, -1, -1, -1, -1, -1, -1, -1 };
	if (subproc_pipe(&f->out, &f->child_out, &f->out) == -1 ||
	    subproc_pipe(&f->err, &f->child_err, &f->err) == -1 ||
	    subproc_pipe(&f->report, &f->report_w, NULL) == -1)
		goto fail;
	if (with_input) {
		if (subproc_pipe(&f->child_in, &f->in, &f->in) == -1)
			goto fail;
	} else {
		f->child_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (f->child_in == -1 || subproc_high(&f->child_in) == -1)
			goto fail;
	}
	return 0;
fail:
	err_set(e, "pipe: %s", strerror(errno));
	subproc_close_all(f);
	return -1;
}

/* The paths execvp would try for name, in order: name itself when it holds
 * a '/', else each PATH directory (an empty one is the current directory)
 * joined with it. One allocation, NULL-terminated; the caller frees it. */
static char **subproc_candidates(const char *name)
{
	const char *path = getenv("PATH"), *p, *colon;
	size_t dirs = 1, nlen = strlen(name), i = 0;
	char **v, *s;

	if (strchr(name, '/') != NULL)
		path = "";
	else if (path == NULL)
		path = "/bin:/usr/bin";	/* glibc's default, confstr(_CS_PATH) */
	for (p = path; *p != '\0'; p++)
		dirs += *p == ':';
	v = malloc((dirs + 1) * sizeof(*v) + strlen(path) + dirs * (nlen + 2));
	if (v == NULL)
		return NULL;
	s = (char *)(v + dirs + 1);
	for (p = path;; p = colon + 1) {
		size_t dlen;

		colon = strchrnul(p, ':');
		dlen = (size_t)(colon - p);
		v[i++] = s;
		memcpy(s, p, dlen);
		s += dlen;
		if (dlen > 0)
			*s++ = '/';
		memcpy(s, name, nlen + 1);
		s += nlen + 1;
		if (*colon == '\0')
			break;
	}
	v[i] = NULL;
	return v;
}

static void subproc_exec(const struct subproc_child *c, const struct subproc_fds *f)
	__attribute__((noreturn));

/* In the child, between fork and exec: async-signal-safe calls only, since
 * another thread of the parent may have held a lock (malloc's) at fork. */
static void subproc_exec(const struct subproc_child *c, const struct subproc_fds *f)
{
	struct subproc_report rep = { 1, 0 };
	bool eacces = false;

	/* Our signal handling is not the program's: a signal we ignore or
	 * block (SIGPIPE, the ones sigwatch reads) would stay ignored or
	 * blocked across exec. */
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &c->dfl, NULL);	/* EINVAL for some: fine */
	if (sigprocmask(SIG_SETMASK, &c->none, NULL) == -1 || setpgid(0, 0) == -1 ||
	    dup2(f->child_in, 0) == -1 || dup2(f->child_out, 1) == -1 ||
	    dup2(f->child_err, 2) == -1) {
		rep.err = errno;
		goto report;
	}
	rep.setup = 0;
	rep.err = ENOENT;
	/* As glibc's execvp: go on past the directories where it is not,
	 * remember one where it was not allowed. */
	for (char **p = c->paths; *p != NULL; p++) {
		execve(*p, c->argv, environ);
		rep.err = errno;
		if (errno == EACCES)
			eacces = true;
		else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE &&
		    errno != ENODEV && errno != ETIMEDOUT)
			goto report;
	}
	if (eacces)
		rep.err = EACCES;
report:
	if (write(f->report_w, &rep, sizeof(rep)) == -1)
		_exit(127);
	_exit(127);
}

/* Writes to a pipe whose reader may be gone without dying of SIGPIPE: the
 * signal is blocked in this thread for the write, and the one the write
 * raised, if any, is taken off the pending set. */
static ssize_t subproc_write(int fd, const char *p, size_t len)
{
	struct timespec zero = { 0, 0 };
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t n;
	int saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE) == 1;
	n = write(fd, p, len);
	saved = errno;
	if (n == -1 && saved == EPIPE && !was_pending)
		while (sigtimedwait(&pipe_set, NULL, &zero) == -1 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

/* Reads a chunk from fd into b, keeping what fits under b's max. -1 at end
 * of file (or on an error, which ends the stream the same way). */
static int subproc_read(int fd, struct buf *b, bool *truncated)
{
	char chunk[16384];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	size_t keep;

	if (n == 0)
		return -1;
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	keep = b->max - b->len < (size_t)n ? b->max - b->len : (size_t)n;
	if (buf_append(b, chunk, keep) == -1 || keep < (size_t)n)
		*truncated = true;
	return 0;
}

/* now + ms, saturating: a timeout of INT64_MAX means never. */
static int64_t subproc_after(int64_t now, int64_t ms)
{
	if (ms <= 0)
		return now;
	return ms > INT64_MAX - now ? INT64_MAX : now + ms;
}

/* Sends sig to the child's group, or to the child when it left the group. */
static void subproc_signal(pid_t pid, int sig)
{
	if (kill(-pid, sig) == -1)
		(void)kill(pid, sig);
}

/* Whether the child has exited, leaving it unreaped: while it is a zombie
 * its pid, and so its group id, cannot be reused, which keeps kill(-pid)
 * aimed at its group. */
static bool subproc_has_exited(pid_t pid)
{
	siginfo_t si;

	si.si_pid = 0;
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1)
		return errno == ECHILD;
	return si.si_pid == pid;
}

/* A descriptor that polls readable when the child exits, or -1 (before
 * Linux 5.3, or where a sandbox refuses it: then we poll every 10 ms). */
static int subproc_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/* Feeds input, collects output and enforces the timeout until the child has
 * exited and its output is read, then reaps it into *status. */
static int subproc_supervise(pid_t pid, struct subproc_fds *f, const char *input,
    int64_t deadline_ms, int64_t kill_grace_ms, struct subproc_result *r, int *status,
    struct err *e)
{
	size_t in_off = 0, in_len = input != NULL ? strlen(input) : 0;
	int64_t now, kill_at = -1, linger_until = -1;
	int pidfd = subproc_pidfd(pid), rc = 0;
	bool exited = false;

	if (in_len == 0)
		subproc_close(&f->in);
	for (;;) {
		struct pollfd pfd[4];
		int64_t wake = -1;
		nfds_t n = 0;
		int ms;

		now = clock_mono_ms();
		if (!exited && subproc_has_exited(pid)) {
			exited = true;
			subproc_signal(pid, SIGKILL);	/* what it left running */
			subproc_close(&f->in);
			linger_until = now + SUBPROC_LINGER_MS;
		}
		if (exited && ((f->out == -1 && f->err == -1) || now >= linger_until))
			break;
		if (!exited && !r->timed_out && now >= deadline_ms) {
			r->timed_out = true;
			subproc_signal(pid, SIGTERM);
			kill_at = subproc_after(now, kill_grace_ms);
		}
		if (!exited && kill_at != -1 && now >= kill_at) {
			subproc_signal(pid, SIGKILL);
			kill_at = -1;
		}
		if (exited)
			wake = linger_until;
		else if (!r->timed_out)
			wake = deadline_ms;
		else if (kill_at != -1)
			wake = kill_at;
		if (wake == -1)
			ms = -1;
		else if (wake - now > 60000)
			ms = 60000;
		else
			ms = wake > now ? (int)(wake - now) : 0;
		if (!exited && pidfd == -1 && (ms == -1 || ms > SUBPROC_POLL_MS))
			ms = SUBPROC_POLL_MS;
		if (f->out != -1)
			pfd[n++] = (struct pollfd){ .fd = f->out, .events = POLLIN };
		if (f->err != -1)
			pfd[n++] = (struct pollfd){ .fd = f->err, .events = POLLIN };
		if (f->in != -1)
			pfd[n++] = (struct pollfd){ .fd = f->in, .events = POLLOUT };
		if (!exited && pidfd != -1)
			pfd[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		if (poll(pfd, n, ms) == -1) {
			if (errno == EINTR)
				continue;
			rc = err_set(e, "poll: %s", strerror(errno));
			break;
		}
		for (nfds_t i = 0; i < n; i++) {
			int fd = pfd[i].fd;
			ssize_t w;

			if (pfd[i].revents == 0)
				continue;
			if (fd == f->out &&
			    subproc_read(fd, &r->out, &r->out_truncated) == -1)
				subproc_close(&f->out);
			if (fd == f->err &&
			    subproc_read(fd, &r->err, &r->err_truncated) == -1)
				subproc_close(&f->err);
			if (fd != f->in)
				continue;
			w = subproc_write(fd, input + in_off, in_len - in_off);
			if (w > 0)
				in_off += (size_t)w;
			/* EPIPE: it stopped reading, which is its business. */
			if (in_off == in_len || (w == -1 && errno != EAGAIN && errno != EINTR))
				subproc_close(&f->in);
		}
	}
	if (!exited)
		subproc_signal(pid, SIGKILL);
	subproc_close(&pidfd);
	while (waitpid(pid, status, 0) == -1) {
		if (errno != EINTR) {
			*status = -1;	/* ECHILD: another waitpid took it */
			break;
		}
	}
	return rc;
}

int subproc_run(char *const argv[], const char *input, int64_t timeout_ms,
    int64_t kill_grace_ms, struct subproc_result *r, struct err *e)
{
	struct subproc_report rep;
	struct subproc_child c;
	struct subproc_fds f;
	int64_t start;
	int status = 0, rc;
	ssize_t n;
	pid_t pid;

	buf_reset(&r->out);
	buf_reset(&r->err);
	r->exit_code = -1;
	r->term_signal = 0;
	r->timed_out = false;
	r->out_truncated = false;
	r->err_truncated = false;
	r->elapsed_ms = 0;
	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
		return err_set(e, "exec: empty command");
	memset(&c, 0, sizeof(c));
	c.argv = argv;
	c.dfl.sa_handler = SIG_DFL;
	sigemptyset(&c.dfl.sa_mask);
	sigemptyset(&c.none);
	c.paths = subproc_candidates(argv[0]);
	if (c.paths == NULL)
		return err_set(e, "exec %s: out of memory", argv[0]);
	if (subproc_open_fds(&f, input != NULL, e) == -1) {
		free(c.paths);
		return -1;
	}
	start = clock_mono_ms();
	pid = fork();
	if (pid == -1) {
		rc = err_set(e, "fork: %s", strerror(errno));
		free(c.paths);
		subproc_close_all(&f);
		return rc;
	}
	if (pid == 0)
		subproc_exec(&c, &f);
	free(c.paths);
	subproc_close(&f.child_in);
	subproc_close(&f.child_out);
	subproc_close(&f.child_err);
	subproc_close(&f.report_w);
	/* End of file once the exec has closed the child's end. */
	do
		n = read(f.report, &rep, sizeof(rep));
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)sizeof(rep)) {
		subproc_close_all(&f);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		if (rep.setup)
			return err_set(e, "start %s: %s", argv[0], strerror(rep.err));
		return err_set(e, "exec %s: %s", argv[0], strerror(rep.err));
	}
	rc = subproc_supervise(pid, &f, input, subproc_after(start, timeout_ms), kill_grace_ms,
	    r, &status, e);
	subproc_close_all(&f);
	r->elapsed_ms = clock_mono_ms() - start;
	if (status != -1 && WIFEXITED(status) && !r->timed_out)
		r->exit_code = WEXITSTATUS(status);
	if (status != -1 && WIFSIGNALED(status))
		r->term_signal = WTERMSIG(status);
	return rc;
}

/* Appends tmpl with its placeholders replaced. */
static int subproc_expand_arg(const char *tmpl, const char *const keys[],
    const char *const values[], size_t nkeys, struct buf *b, struct err *e)
{
	const char *p = tmpl, *brace, *name, *end;
	size_t len, k;

	while (*p != '\0') {
		brace = strchrnul(p, '{');
		if (buf_append(b, p, (size_t)(brace - p)) == -1)
			goto too_long;
		if (*brace == '\0')
			break;
		if (brace[1] == '{') {
			if (buf_append(b, "{", 1) == -1)
				goto too_long;
			p = brace + 2;
			continue;
		}
		name = brace + 1;
		end = strchr(name, '}');
		if (end == NULL)
			return err_set(e, "unclosed '{' in \"%.60s\" (write {{ for a literal {)",
			    tmpl);
		len = (size_t)(end - name);
		for (k = 0; k < nkeys; k++)
			if (strlen(keys[k]) == len && memcmp(keys[k], name, len) == 0)
				break;
		if (k == nkeys)
			return err_set(e, "unknown placeholder {%.*s} in \"%.60s\"",
			    len < 60 ? (int)len : 60, name, tmpl);
		if (buf_appends(b, values[k]) == -1)
			goto too_long;
		p = end + 1;
	}
	return 0;
too_long:
	return err_set(e, "argument \"%.60s\" expands past %d bytes", tmpl, SUBPROC_ARG_MAX);
}

int subproc_expand(char *const tmpl[], size_t n, const char *const keys[],
    const char *const values[], size_t nkeys, char ***out_argv, struct err *e)
{
	char **argv = calloc(n + 1, sizeof(*argv));
	struct buf b;

	if (argv == NULL)
		return err_set(e, "out of memory");
	buf_init(&b, SUBPROC_ARG_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&b);
		if (subproc_expand_arg(tmpl[i], keys, values, nkeys, &b, e) == -1)
			goto fail;
		argv[i] = strndup(b.len > 0 ? b.p : "", b.len);
		if (argv[i] == NULL) {
			err_set(e, "out of memory");
			goto fail;
		}
	}
	buf_fini(&b);
	*out_argv = argv;
	return 0;
fail:
	buf_fini(&b);
	subproc_argv_free(argv);
	return -1;
}

void subproc_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}

int subproc_shell_quote(struct buf *b, const char *s)
{
	size_t before = b->len, n;
	int rc = buf_append(b, "'", 1);

	while (rc == 0 && *s != '\0') {
		n = strcspn(s, "'");
		rc = buf_append(b, s, n);
		s += n;
		if (rc == 0 && *s == '\'') {
			rc = buf_appends(b, "'\\''");	/* close, an escaped quote, reopen */
			s++;
		}
	}
	if (rc == 0)
		rc = buf_append(b, "'", 1);
	if (rc == -1)
		b->len = before;
	return rc;
}
