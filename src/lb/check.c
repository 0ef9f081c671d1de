#include "lb/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/http_client.h"
#include "common/log.h"

struct tcp_probe {
	struct lb_checker *ck;
	struct lb_backend *be;
	int fd;
	uint64_t timer;
	struct tcp_probe *next;
};

struct lb_checker {
	struct loop *loop;
	struct lb_pool *pool;
	struct lb_check_cfg cfg;
	struct http_client *http;
	struct tcp_probe *probes;
	uint64_t timer;
};

struct http_ctx {
	struct lb_checker *ck;
	struct lb_backend *be;
};

static void result(struct lb_checker *ck, struct lb_backend *be, bool ok, const char *why)
{
	be->check_running = false;
	if (lb_pool_health(ck->pool, be, ck->cfg.rise, ck->cfg.fall, ok, loop_now_ms(ck->loop)))
		log_msg(be->health.up ? LOG_INFO : LOG_WARN,
		    be->health.up ? "backend up" : "backend down", "backend=%s reason=%s",
		    be->name, ok ? "checks pass" : why);
}

static void http_done(void *ctx, int status, const char *body, size_t len, const char *err)
{
	struct http_ctx *h = ctx;
	char why[96];

	(void)body;
	(void)len;
	if (status != HTTP_CLIENT_CANCELLED) {
		if (status < 0)
			snprintf(why, sizeof(why), "%s", err);
		else
			snprintf(why, sizeof(why), "HTTP %d", status);
		result(h->ck, h->be, status >= 200 && status < 400, why);
	}
	free(h);
}

static void probe_free(struct tcp_probe *p)
{
	struct lb_checker *ck = p->ck;
	struct tcp_probe **pp;

	for (pp = &ck->probes; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	if (p->fd != -1) {
		loop_del_fd(ck->loop, p->fd);
		close(p->fd);
	}
	if (p->timer)
		loop_cancel_timer(ck->loop, p->timer);
	free(p);
}

static void probe_event(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct tcp_probe *p = ctx;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	(void)l;
	(void)events;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	result(p->ck, p->be, soerr == 0, soerr ? strerror(soerr) : "");
	probe_free(p);
}

static int64_t probe_timeout(struct loop *l, void *ctx)
{
	struct tcp_probe *p = ctx;

	(void)l;
	p->timer = 0;
	result(p->ck, p->be, false, "connect timeout");
	probe_free(p);
	return LOOP_TIMER_STOP;
}

static void start_tcp(struct lb_checker *ck, struct lb_backend *be)
{
	struct tcp_probe *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return;
	p->ck = ck;
	p->be = be;
	p->fd = socket(be->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	p->next = ck->probes;
	ck->probes = p;
	be->check_running = true;
	if (p->fd == -1) {
		result(ck, be, false, strerror(errno));
		probe_free(p);
		return;
	}
	if (connect(p->fd, (struct sockaddr *)&be->addr.ss, be->addr.len) == -1 &&
	    errno != EINPROGRESS) {
		result(ck, be, false, strerror(errno));
		probe_free(p);
		return;
	}
	if (loop_add_fd(ck->loop, p->fd, EPOLLOUT, probe_event, p, NULL) == -1 ||
	    (p->timer = loop_add_timer(ck->loop, ck->cfg.timeout_ms, probe_timeout, p)) == 0) {
		be->check_running = false;
		probe_free(p);
	}
}

static void start_http(struct lb_checker *ck, struct lb_backend *be)
{
	struct http_ctx *h = malloc(sizeof(*h));

	if (h == NULL)
		return;
	h->ck = ck;
	h->be = be;
	be->check_running = true;
	if (http_client_get(ck->http, &be->addr, ck->cfg.path, ck->cfg.timeout_ms, 4096,
	    http_done, h) == -1) {
		be->check_running = false;
		free(h);
	}
}

static int64_t round_of_checks(struct loop *l, void *ctx)
{
	struct lb_checker *ck = ctx;

	(void)l;
	/* The array only grows, and only on this thread: safe to walk. */
	for (size_t i = 0; i < ck->pool->n; i++) {
		struct lb_backend *be = ck->pool->b[i];

		if (!be->in_set || be->check_running)
			continue;
		if (ck->cfg.kind == LB_CHECK_HTTP)
			start_http(ck, be);
		else
			start_tcp(ck, be);
	}
	return ck->cfg.interval_ms;
}

struct lb_checker *lb_checker_new(struct loop *l, struct lb_pool *p,
    const struct lb_check_cfg *cfg, struct err *e)
{
	struct lb_checker *ck = calloc(1, sizeof(*ck));

	if (ck == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	ck->loop = l;
	ck->pool = p;
	ck->cfg = *cfg;
	if (cfg->kind == LB_CHECK_NONE)
		return ck;
	ck->http = http_client_new(l);
	ck->timer = loop_add_timer(l, 0, round_of_checks, ck);
	if (ck->http == NULL || ck->timer == 0) {
		lb_checker_free(ck);
		err_set(e, "out of memory");
		return NULL;
	}
	return ck;
}

void lb_checker_free(struct lb_checker *ck)
{
	if (ck == NULL)
		return;
	http_client_free(ck->http);
	while (ck->probes)
		probe_free(ck->probes);
	if (ck->timer)
		loop_cancel_timer(ck->loop, ck->timer);
	free(ck);
}
