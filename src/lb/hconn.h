/* lb/hconn.h: the state of the HTTP mode's worker (lb/hproxy.c): client
 * connections with the request in flight, backend connections, and the
 * worker's pool of idle keep-alive connections per backend (lb/hconn.c).
 * A worker's connections are its own: no locks here.
 * Not here: what is done with them (lb/hproxy.c). */
#ifndef POOLSCALE_LB_HCONN_H
#define POOLSCALE_LB_HCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/http_parse.h"
#include "common/loop.h"
#include "lb/framing.h"
#include "lb/proxy.h"

/* 64 KiB: a 1 MiB response took 0.60-0.81x haproxy's req/s with 16 KiB
 * buffers and 1.14-1.26x with these (bench/lb.sh, loaded machine). Only
 * the pages data passes through are touched. */
#define LB_HBUF (64 * 1024)
#define LB_HTTP_MAX_TRIES 8

struct hbuf {
	size_t off, len;	/* bytes at data[off, off + len) */
	char data[LB_HBUF];
};

struct hconn;

struct bconn {
	struct lb_hworker *w;
	struct lb_backend *be;
	struct hconn *hc;		/* the exchange using it; NULL while pooled */
	struct bconn *prev, *next;	/* the backend's idle list */
	int fd;
	uint32_t interest;
	bool connected, reused, in_idle;
	int64_t idle_since_ms;
	struct hbuf in;			/* response bytes; last: not zeroed */
};

enum hstate {
	H_HEAD = 0,	/* reading a request head (or idle between requests) */
	H_XCHG,		/* a request in flight */
	H_ERROR,	/* writing the balancer's error page, then close */
	H_LINGER,	/* error sent: reading and dropping until EOF or a deadline */
};

struct hconn {
	struct lb_hworker *w;
	struct hconn *prev, *next;
	int fd;
	uint32_t interest;
	enum hstate state;
	bool c_eof;			/* the client sent FIN */
	bool head_started;		/* the head's request timeout runs */
	int64_t deadline_ms;
	char ip[48];

	/* The request in flight. */
	int64_t start_us;
	bool recorded, idem, is_head, http10, close_after;
	struct buf reqhead;		/* the head as the backend gets it */
	size_t reqhead_sent;
	struct lb_framing reqf;
	size_t body_scanned;		/* body bytes found in `in`, from in.off */
	size_t body_sent;		/* of those, written to the backend */
	bool replayable;		/* every body byte sent is still in `in` */
	bool sent_any;			/* a byte went to the current backend */
	bool retried_after_send;
	struct lb_backend *tried[LB_HTTP_MAX_TRIES];
	int ntried;
	struct lb_backend *be;		/* of the current (or last) attempt */
	bool in_active;			/* be->active counts this request */
	bool held;			/* waiting for a first healthy backend */
	int64_t held_until_ms;
	struct bconn *bc;

	/* Its response. */
	bool resp_any;			/* a response byte arrived: never retry */
	bool resp_head;			/* the final head was parsed */
	int status;
	bool bc_keeps;			/* the backend connection may serve again */
	struct lb_framing respf;
	size_t resp_scanned;		/* body bytes at the start of bc->in, to write */
	struct buf out;			/* response head(s) or an error page */
	size_t out_sent;

	struct hbuf in;			/* client bytes; last: not zeroed */
};

struct lb_hworker {
	struct lb_proxy_cfg cfg;
	struct loop *loop;
	struct hconn *conns;
	struct bconn **idle;		/* per backend (lb_backend.idx), most recent first */
	size_t nidle;
	struct http_request req;	/* parse scratch */
	struct http_response_head resp;
	bool stopping;			/* the listener is gone; ends with the last conn */
};

static inline void hx_want(struct lb_hworker *w, int fd, uint32_t *have, uint32_t ev)
{
	if (fd >= 0 && *have != ev && loop_mod_fd(w->loop, fd, ev, NULL) == 0)
		*have = ev;
}

static inline int64_t hx_now_ms(const struct hconn *hc)
{
	return loop_now_ms(hc->w->loop);
}

/* The client side (lb/hproxy.c). */
/* Answers with the balancer's error page and closes; closes at once when a
 * response byte already went out. */
void hx_error(struct hconn *hc, int status);
/* Counts the request as broken and closes the client connection. */
void hx_abort(struct hconn *hc);
/* Writes pending response bytes to the client; ends the exchange when all
 * of the response went out. */
void hx_flush(struct hconn *hc);
void hx_client_interest(struct hconn *hc);
/* Sets the exchange's deadline after progress. */
void hx_deadline(struct hconn *hc);

/* The backend side (lb/hbackend.c). */
/* Picks a backend (skipping those tried) and sends the request there;
 * fail_status is the answer when none is left. */
void hx_send(struct hconn *hc, int fail_status);
/* Ends a hold (--hold-when-empty) without sending: the count goes down. */
void hx_unhold(struct hconn *hc);
/* Writes what it can of the request to the backend. */
void hx_req_pump(struct hconn *hc);
/* The backend connection failed before any response byte; sent: request
 * bytes went to it. Sends the request again when that is safe, else 502. */
void hx_backend_failed(struct hconn *hc, bool sent, bool connect_failure);
/* Reads the response and passes it on. */
void hx_resp_read(struct hconn *hc);
/* Drops the exchange's backend connection (closed) and its in-flight hold. */
void hx_drop_backend(struct hconn *hc);
void hx_release_backend(struct hconn *hc);

/* A pooled connection to be, or NULL. */
struct bconn *hw_idle_pop(struct lb_hworker *w, struct lb_backend *be);
void hw_idle_push(struct lb_hworker *w, struct bconn *bc, int64_t now_ms);
void hw_idle_remove(struct lb_hworker *w, struct bconn *bc);
/* Closes pooled connections idle too long or to backends that left. */
void hw_idle_sweep(struct lb_hworker *w, int64_t now_ms);
void hw_idle_free(struct lb_hworker *w);

#endif
