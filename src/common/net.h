/* common/net.h: socket addresses and listening sockets. Resolution is
 * numeric only (plus "localhost"), so nothing here blocks on DNS.
 * Not here: reading and writing connections (their owners do that). */
#ifndef POOLSCALE_NET_H
#define POOLSCALE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/err.h"

struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* "ADDR:PORT", ":PORT" (all IPv4 addresses), "[V6]:PORT", "localhost:PORT". */
int net_addr_parse(const char *s, struct net_addr *out, struct err *e);
/* "127.0.0.1:8080" or "[::1]:8080" into dst; returns dst. */
char *net_addr_format(const struct sockaddr *sa, char *dst, size_t cap);
/* host (a name, IPv4 or IPv6 address) and port as "host:port", with the
 * brackets an IPv6 address needs, into dst; returns dst. */
char *net_host_port(const char *host, int port, char *dst, size_t cap);
/* A non-blocking, close-on-exec listening TCP socket; fd or -1. It has
 * TCP_NODELAY, which the sockets accepted from it inherit: one setsockopt
 * fewer per connection. */
int net_listen(const struct net_addr *a, int backlog, struct err *e);
/* A TCP port the kernel says is free now on the numeric IPv4 or IPv6
 * address host (bind to port 0, read it, close), or -1. For tools that
 * start servers on free ports; a port may of course be taken again before
 * it is used. */
int net_free_port(const char *host);
/* The address a socket is bound to, formatted; returns dst. */
char *net_local_addr(int fd, char *dst, size_t cap);
void net_set_nodelay(int fd);
/* Freezes a listening socket's accept queue: the kernel completes no new
 * connection on it (their SYNs are dropped, so clients retry and are refused
 * once the socket is closed), while connections already queued stay there
 * for accept(). Closing a listener resets what it still queues: freeze,
 * accept until the queue is empty, then close. 0, or -1 with e set. */
int net_listen_freeze(int fd, struct err *e);
/* True while connections wait in a listening socket's accept queue. */
bool net_listen_has_pending(int fd);

#endif
