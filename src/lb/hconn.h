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

#define LB_HBUF (16 * 1024)
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
	bool holding;			/* be->active counts this request */
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
};

/* A pooled connection to be, or NULL. */
struct bconn *hw_idle_pop(struct lb_hworker *w, struct lb_backend *be);
void hw_idle_push(struct lb_hworker *w, struct bconn *bc, int64_t now_ms);
void hw_idle_remove(struct lb_hworker *w, struct bconn *bc);
/* Closes pooled connections idle too long or to backends that left. */
void hw_idle_sweep(struct lb_hworker *w, int64_t now_ms);
void hw_idle_free(struct lb_hworker *w);

#endif
