#include "common/sigwatch.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/log.h"

/* The stop signal read from fd (SIGHUP logged and ignored), or 0. */
static int read_stop(int fd, const char *stopping)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGHUP) {
		log_msg(LOG_INFO, "SIGHUP ignored: restart to reload", "signal=%s", "SIGHUP");
		return 0;
	}
	log_msg(LOG_INFO, stopping, "signal=%s", strsignal((int)si.ssi_signo));
	return (int)si.ssi_signo;
}

static void on_signal(struct loop *l, int fd, uint32_t events, void *ctx)
{
	(void)events;
	if (read_stop(fd, ctx) != 0)
		loop_stop(l);
}

static void on_signal_hook(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct sigwatch_hook *h = ctx;

	(void)l;
	(void)events;
	if (read_stop(fd, h->stopping) != 0)
		h->on_stop(h->ctx, ++h->n);
}

static int start(struct loop *l, loop_fd_fn fn, void *ctx, struct err *e)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return err_set(e, "signalfd: %s", strerror(errno));
	if (loop_add_fd(l, fd, EPOLLIN, fn, ctx, e) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int sigwatch_start(struct loop *l, const char *stopping, struct err *e)
{
	return start(l, on_signal, (void *)stopping, e);
}

int sigwatch_start_hook(struct loop *l, struct sigwatch_hook *h, struct err *e)
{
	h->n = 0;
	return start(l, on_signal_hook, h, e);
}

void sigwatch_stop(struct loop *l, int fd)
{
	if (fd < 0)
		return;
	loop_del_fd(l, fd);
	close(fd);
}
