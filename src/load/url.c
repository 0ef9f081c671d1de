/* URL parsing for the load generator; see url.h. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "load/url.h"

int load_url_parse(const char *s, struct load_url *u, struct err *e)
{
	const char *host, *slash;
	char hostport[96];
	size_t hlen;
	struct err ae = { "" };

	memset(u, 0, sizeof(*u));
	if (strncmp(s, "https://", 8) == 0)
		return err_set(e, "\"%s\": https is not supported (plain http only)", s);
	if (strncmp(s, "http://", 7) != 0)
		return err_set(e, "\"%s\" is not an http:// URL", s);
	host = s + 7;
	slash = strchr(host, '/');
	hlen = slash ? (size_t)(slash - host) : strlen(host);
	if (hlen == 0)
		return err_set(e, "\"%s\": no host", s);
	if (hlen >= sizeof(u->host))
		return err_set(e, "\"%s\": host too long", s);
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	if (strchr(u->host, '@') != NULL)
		return err_set(e, "\"%s\": user info is not supported", s);
	/* A port is there unless the last ':' sits inside an IPv6 literal. */
	if (strrchr(u->host, ':') == NULL ||
	    (u->host[0] == '[' && strrchr(u->host, ':') < strchr(u->host, ']')))
		snprintf(hostport, sizeof(hostport), "%s:80", u->host);
	else
		snprintf(hostport, sizeof(hostport), "%s", u->host);
	if (net_addr_parse(hostport, &u->addr, &ae) == -1)
		return err_set(e, "\"%s\": %s (the host must be a numeric address)", s, ae.msg);
	/* sin_port and sin6_port sit at the same offset. */
	if (((const struct sockaddr_in *)&u->addr.ss)->sin_port == 0)
		return err_set(e, "\"%s\": port 0", s);
	if (slash == NULL)
		snprintf(u->path, sizeof(u->path), "/");
	else {
		if (strlen(slash) >= sizeof(u->path))
			return err_set(e, "\"%s\": path too long", s);
		for (const char *c = slash; *c; c++)
			if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '#')
				return err_set(e, "\"%s\": the path has a space, control "
				    "character or fragment", s);
		snprintf(u->path, sizeof(u->path), "%s", slash);
	}
	return 0;
}
