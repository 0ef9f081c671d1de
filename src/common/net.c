#include "common/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int net_addr_parse(const char *s, struct net_addr *out, struct err *e)
{
	char host[64];
	const char *colon, *port_s;
	char *end;
	long port;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return err_set(e, "\"%s\" is not ADDR:PORT", s);
		hlen = (size_t)(rb - s - 1);
		if (hlen >= sizeof(host))
			return err_set(e, "\"%s\": address too long", s);
		memcpy(host, s + 1, hlen);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return err_set(e, "\"%s\" is not ADDR:PORT", s);
		hlen = (size_t)(colon - s);
		if (hlen >= sizeof(host))
			return err_set(e, "\"%s\": address too long", s);
		memcpy(host, s, hlen);
	}
	host[hlen] = '\0';
	port_s = colon + 1;
	errno = 0;
	port = strtol(port_s, &end, 10);
	if (*port_s == '\0' || *end != '\0' || errno != 0 || port < 0 || port > 65535)
		return err_set(e, "\"%s\": port must be 0..65535", s);
	if (s[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return err_set(e, "\"%s\": not an IPv6 address", s);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&out->ss;

		if (hlen == 0 || strcmp(host, "*") == 0)
			in->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (strcmp(host, "localhost") == 0)
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return err_set(e, "\"%s\": not an IPv4 address (names are not resolved)", s);
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		out->len = sizeof(*in);
	}
	return 0;
}

char *net_addr_format(const struct sockaddr *sa, char *dst, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(dst, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(dst, cap, "%s:%u", host, ntohs(in->sin_port));
	} else {
		snprintf(dst, cap, "?");
	}
	return dst;
}

int net_listen(const struct net_addr *a, int backlog, struct err *e)
{
	char name[80];
	int fd, one = 1;

	net_addr_format((const struct sockaddr *)&a->ss, name, sizeof(name));
	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return err_set(e, "socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1) {
		err_set(e, "setsockopt SO_REUSEADDR: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		err_set(e, "bind %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, backlog) == -1) {
		err_set(e, "listen %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	net_set_nodelay(fd);
	return fd;
}

char *net_host_port(const char *host, int port, char *dst, size_t cap)
{
	snprintf(dst, cap, strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d", host, port);
	return dst;
}

int net_free_port(const char *host)
{
	char spec[96];
	struct net_addr a;
	int fd, port = -1;

	if (net_addr_parse(net_host_port(host, 0, spec, sizeof(spec)), &a, NULL) == -1)
		return -1;
	fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&a.ss, a.len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a.ss, &a.len) == 0)
		port = a.ss.ss_family == AF_INET ?
		    ntohs(((struct sockaddr_in *)&a.ss)->sin_port) :
		    ntohs(((struct sockaddr_in6 *)&a.ss)->sin6_port);
	close(fd);
	return port;
}

char *net_local_addr(int fd, char *dst, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		snprintf(dst, cap, "?");
		return dst;
	}
	return net_addr_format((struct sockaddr *)&ss, dst, cap);
}

void net_set_nodelay(int fd)
{
	int one = 1;

	/* Best effort: a socket without it still works, only slower. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int net_listen_freeze(int fd, struct err *e)
{
	/* A socket filter that drops every packet: on a listener it sees the
	 * SYNs and the handshakes' last ACKs, never the queued connections'
	 * traffic (those are sockets of their own already). One window stays:
	 * a handshake half done at the freeze loses its last ACK, so that
	 * client, connected on its side, is reset when the listener closes. */
	static struct sock_filter drop_all[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = drop_all };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) == -1)
		return err_set(e, "SO_ATTACH_FILTER: %s", strerror(errno));
	return 0;
}

bool net_listen_has_pending(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}
