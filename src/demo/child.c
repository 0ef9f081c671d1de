/* The demo's child processes; see child.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "demo/child.h"

int child_start(struct child *c, const char *name, char *const argv[], const char *log,
    struct err *e)
{
	int fd, pipefd[2], child_errno = 0;
	pid_t parent = getpid(), pid;
	sigset_t none;
	ssize_t n;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->log, sizeof(c->log), "%s", log);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1)
		return err_set(e, "%s: %s", log, strerror(errno));
	/* The child reports a failed exec through this close-on-exec pipe. */
	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		close(fd);
		return err_set(e, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid == -1) {
		close(fd);
		close(pipefd[0]);
		close(pipefd[1]);
		return err_set(e, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)	/* the demo died before prctl */
			_exit(127);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		{
			int nul = open("/dev/null", O_RDONLY);

			if (nul != -1)
				dup2(nul, STDIN_FILENO);
		}
		execvp(argv[0], argv);
		child_errno = errno;
		if (write(pipefd[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	close(fd);
	close(pipefd[1]);
	do
		n = read(pipefd[0], &child_errno, sizeof(child_errno));
	while (n == -1 && errno == EINTR);
	close(pipefd[0]);
	if (n == (ssize_t)sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		return err_set(e, "cannot run %s: %s", argv[0], strerror(child_errno));
	}
	c->pid = pid;
	return 0;
}

bool child_running(struct child *c)
{
	pid_t r;

	if (c->pid == 0)
		return false;
	r = waitpid(c->pid, &c->status, WNOHANG);
	if (r == c->pid || (r == -1 && errno == ECHILD)) {
		c->pid = 0;
		return false;
	}
	return true;
}

/* Waits up to ms for the child to exit; true when it did. */
static bool wait_exit(struct child *c, int ms)
{
	int64_t end = clock_mono_ms() + ms;

	while (child_running(c)) {
		struct timespec ts = { 0, 20 * 1000000L };

		if (clock_mono_ms() >= end)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

int child_stop(struct child *c, int grace_ms)
{
	if (!child_running(c))
		return c->status;
	kill(c->pid, SIGTERM);
	if (!wait_exit(c, grace_ms)) {
		kill(c->pid, SIGKILL);
		wait_exit(c, 5000);
	}
	return c->status;
}

int child_run(const char *name, char *const argv[], const char *log, int timeout_ms,
    struct err *e)
{
	struct child c;

	if (child_start(&c, name, argv, log, e) == -1)
		return -1;
	if (!wait_exit(&c, timeout_ms)) {
		child_stop(&c, 1000);
		return err_set(e, "%s took longer than %d ms", name, timeout_ms);
	}
	if (!WIFEXITED(c.status))
		return err_set(e, "%s was killed by signal %d", name, WTERMSIG(c.status));
	return WEXITSTATUS(c.status);
}
