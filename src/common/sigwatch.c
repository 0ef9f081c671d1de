#include "common/sigwatch.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/log.h"

static void on_signal(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct signalfd_siginfo si;
	const char *stopping = ctx;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		log_msg(LOG_INFO, "SIGHUP ignored: restart to reload", "signal=%s", "SIGHUP");
		return;
	}
	log_msg(LOG_INFO, stopping, "signal=%s", strsignal((int)si.ssi_signo));
	loop_stop(l);
}

int sigwatch_start(struct loop *l, const char *stopping, struct err *e)
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
	if (loop_add_fd(l, fd, EPOLLIN, on_signal, (void *)stopping, e) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

void sigwatch_stop(struct loop *l, int fd)
{
	if (fd < 0)
		return;
	loop_del_fd(l, fd);
	close(fd);
}
