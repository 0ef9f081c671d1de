/* The controller config's `ha:` block (docs/ha.md, docs/configuration.md):
 * etcd's endpoints, the lease, this controller's name, the key prefix, and
 * TLS and user/password options for etcd. Mistakes are FILE:LINE: ha.KEY:
 * message; the password is read at finish, from password_file or
 * POOLSCALE_ETCD_PASSWORD, and never printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "common/yamlcfg.h"
#include "controller/config.h"

#define SECTION "ha"

static bool endpoint_ok(const char *s)
{
	const char *rest;

	if (strncmp(s, "http://", 7) == 0)
		rest = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		rest = s + 8;
	else
		return false;
	/* host[:port], nothing after: the client adds /v3/... itself. */
	return *rest != '\0' && strchr(rest, '/') == NULL && strchr(rest, '?') == NULL &&
	    strchr(rest, ' ') == NULL;
}

static void read_endpoints(struct ycfg *y, yaml_node_t *n, struct ha_cfg *h)
{
	yaml_node_item_t *it;

	if (n->type != YAML_SEQUENCE_NODE) {
		ycfg_error(y, n, SECTION ".etcd_endpoints: expected a list of URLs "
		    "(http://HOST:PORT or https://HOST:PORT)");
		return;
	}
	h->etcd.nendpoints = 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *a = yaml_document_get_node(&y->doc, *it);
		const char *s = ycfg_scalar(y, a, SECTION ".etcd_endpoints");

		if (s == NULL)
			continue;
		if (h->etcd.nendpoints == ETCD_MAX_ENDPOINTS) {
			ycfg_error(y, a, SECTION ".etcd_endpoints: more than %d endpoints",
			    ETCD_MAX_ENDPOINTS);
			return;
		}
		if (!endpoint_ok(s) || strlen(s) >= sizeof(h->etcd.endpoints[0])) {
			ycfg_error(y, a, SECTION ".etcd_endpoints: \"%s\" is not http://HOST:PORT or "
			    "https://HOST:PORT", s);
			continue;
		}
		snprintf(h->etcd.endpoints[h->etcd.nendpoints++], sizeof(h->etcd.endpoints[0]), "%s",
		    s);
	}
}

static bool name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

/* A mutation is sent only while the lease has more left than the request
 * may take (controller/ha.h), and keepalives leave at least two thirds of
 * it: a request must fit in half a lease, or the leader would never act.
 * A cloud timeout left at its default is lowered to fit. */
static void check_provider_timeout(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c,
    const char *who)
{
	int64_t half = c->ha.lease_ms / 2;

	if (strcmp(c->provider, "exec") == 0) {
		if (c->exec.timeout_ms > half)
			ycfg_error(y, n, SECTION ".lease (%lld ms) must be at least twice "
			    "%sprovider.exec.timeout (%lld ms): a leader sends a command only while "
			    "its lease outlasts it", (long long)c->ha.lease_ms, who,
			    (long long)c->exec.timeout_ms);
		return;
	}
	if (c->exoscale.http.timeout_ms <= half)
		return;
	if (c->provider_timeout_given) {
		ycfg_error(y, n, SECTION ".lease (%lld ms) must be at least twice %sprovider.timeout "
		    "(%lld ms): a leader sends a request only while its lease outlasts it",
		    (long long)c->ha.lease_ms, who, (long long)c->exoscale.http.timeout_ms);
		return;
	}
	c->exoscale.http.timeout_ms = c->aws.http.timeout_ms = c->linode.http.timeout_ms = half;
}

void ctl_cfg_check_ha_pool(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c, bool named)
{
	char who[sizeof(c->pool) + 16] = "";

	if (!c->ha.enabled)
		return;		/* ha: was no mapping: said already */
	if (named)
		snprintf(who, sizeof(who), "pools[%s].", c->pool);
	/* Read after provider: (config.c). */
	if (strcmp(c->provider, "local") == 0)
		ycfg_error(y, n, SECTION ": %s%s instances are processes of this machine, which "
		    "no other controller sees; HA needs a pool every controller reaches (provider "
		    "exoscale, aws, linode or exec)", named ? who : "the local provider's",
		    named ? "provider is local: its" : "");
	check_provider_timeout(y, n, c, who);
}

void ctl_cfg_read_ha(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct ha_cfg *h = &c->ha;
	struct ymap m;
	yaml_node_t *eps;

	if (n == NULL || !ymap_init(&m, y, n, "ha"))
		return;
	h->enabled = true;
	if ((eps = ymap_get(&m, "etcd_endpoints")) != NULL)
		read_endpoints(y, eps, h);
	/* etcd grants no lease under 2 s (1.5 election timeouts); past a
	 * minute a dead leader freezes the pool too long. */
	ycfg_duration(&m, "lease", 2000, 60000, &h->lease_ms);
	if (ycfg_string(&m, "name", h->name, sizeof(h->name)) && !name_ok(h->name))
		ycfg_error(y, ymap_get(&m, "name"), SECTION ".name: \"%s\" is not letters, digits, "
		    "'.', '-' and '_'", h->name);
	if (ycfg_string(&m, "prefix", h->prefix, sizeof(h->prefix) - 8) && h->prefix[0] == '\0')
		ycfg_error(y, ymap_get(&m, "prefix"), SECTION ".prefix: empty");
	ycfg_duration(&m, "timeout", 100, 60000, &h->etcd.timeout_ms);
	if (ycfg_string(&m, "advertise_url", h->advertise_url, sizeof(h->advertise_url)) &&
	    h->advertise_url[0] != '\0' && strncmp(h->advertise_url, "http://", 7) != 0 &&
	    strncmp(h->advertise_url, "https://", 8) != 0)
		ycfg_error(y, ymap_get(&m, "advertise_url"), SECTION ".advertise_url: \"%s\" is "
		    "not an http:// or https:// URL", h->advertise_url);
	ycfg_string(&m, "ca_file", h->etcd.ca_file, sizeof(h->etcd.ca_file));
	ycfg_string(&m, "cert_file", h->etcd.cert_file, sizeof(h->etcd.cert_file));
	ycfg_string(&m, "key_file", h->etcd.key_file, sizeof(h->etcd.key_file));
	ycfg_string(&m, "username", h->etcd.username, sizeof(h->etcd.username));
	ycfg_string(&m, "password_file", h->password_file, sizeof(h->password_file));
	ymap_done(&m);
	if (h->etcd.nendpoints == 0)
		ycfg_error(y, n, SECTION ".etcd_endpoints: missing (the etcd cluster's client URLs)");
	if ((h->etcd.cert_file[0] != '\0') != (h->etcd.key_file[0] != '\0'))
		ycfg_error(y, n, SECTION ": give cert_file and key_file together");
	/* Keepalives go every lease/3; each may try every endpoint. */
	if (h->etcd.timeout_ms * 3 > h->lease_ms)
		ycfg_error(y, n, SECTION ".timeout (%lld ms) must be at most a third of ha.lease "
		    "(%lld ms)", (long long)h->etcd.timeout_ms, (long long)h->lease_ms);
	if (h->password_file[0] != '\0' && h->etcd.username[0] == '\0')
		ycfg_error(y, n, SECTION ".password_file is set but ha.username is not");
}

int ctl_cfg_finish_ha(struct ctl_cfg *c, struct buf *errors)
{
	struct ha_cfg *h = &c->ha;
	const char *env = getenv("POOLSCALE_ETCD_PASSWORD");
	struct buf b;
	struct err e;
	int n = 0;

	if (!h->enabled || h->etcd.username[0] == '\0')
		return 0;
	if (h->password_file[0] == '\0') {
		if (env == NULL || *env == '\0' || strlen(env) >= sizeof(h->etcd.password)) {
			buf_appendf(errors, "%s: ha.username is set: give ha.password_file or "
			    "POOLSCALE_ETCD_PASSWORD (at most %zu characters)\n", c->file,
			    sizeof(h->etcd.password) - 1);
			return 1;
		}
		snprintf(h->etcd.password, sizeof(h->etcd.password), "%s", env);
		return 0;
	}
	buf_init(&b, sizeof(h->etcd.password) - 1);
	if (file_read_all(h->password_file, &b, NULL, &e) == -1) {
		buf_appendf(errors, "%s: ha.password_file: %s\n", c->file, e.msg);
		n++;
	} else {
		while (b.len > 0 && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r'))
			b.len--;
		if (b.len == 0) {
			buf_appendf(errors, "%s: ha.password_file: %s is empty\n", c->file,
			    h->password_file);
			n++;
		}
		memcpy(h->etcd.password, b.p ? b.p : "", b.len);
		h->etcd.password[b.len] = '\0';
	}
	buf_fini(&b);
	return n;
}
