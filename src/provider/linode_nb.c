#include "provider/linode_nb.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/linode_json.h"

#define NODE_WEIGHT 100

/* Every node of the config, all pages, into out (the caller finis it). */
static int list_nodes(const struct lin_nb *nb, struct lin_nodes *out, struct err *e)
{
	char path[128], query[64];
	struct lin_call c = { .method = "GET", .path = path, .query = query };
	struct buf b;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/nodebalancers/%lld/configs/%lld/nodes",
	    (long long)nb->nb_id, (long long)nb->config_id);
	buf_init(&b, 0);
	for (int64_t page = 1, pages = 1; rc == 0 && page <= pages; page++) {
		struct lin_nodes p;
		struct lin_node *v;

		snprintf(query, sizeof(query), "page=%lld&page_size=%d", (long long)page,
		    LIN_PAGE_SIZE);
		rc = lin_api_call(nb->api, &c, &b, e);
		if (rc == 0)
			rc = lin_parse_nodes(b.p ? b.p : "", b.len, &p, e);
		if (rc == -1)
			break;
		pages = p.pages;
		v = reallocarray(out->v, out->n + p.n + 1, sizeof(*v));
		if (v == NULL) {
			lin_nodes_fini(&p);
			rc = err_set(e, "out of memory");
			break;
		}
		out->v = v;
		memcpy(out->v + out->n, p.v, p.n * sizeof(*v));
		out->n += p.n;
		lin_nodes_fini(&p);
	}
	buf_fini(&b);
	if (rc == -1)
		lin_nodes_fini(out);
	return rc;
}

/* A 404 on a node means someone else deleted it first: done. */
static int node_call(const struct lin_nb *nb, const char *method, int64_t id, const char *body,
    struct err *e)
{
	char path[160];
	struct lin_call c = { .method = method, .path = path, .body = body };
	struct buf b;
	long st;

	snprintf(path, sizeof(path), "/nodebalancers/%lld/configs/%lld/nodes/%lld",
	    (long long)nb->nb_id, (long long)nb->config_id, (long long)id);
	buf_init(&b, 0);
	st = lin_api_do(nb->api, &c, &b, e);
	if (st != -1 && !(st >= 200 && st < 300) && st != 404)
		lin_api_error(&c, st, &b, e);
	buf_fini(&b);
	return st == -1 || (!(st >= 200 && st < 300) && st != 404) ? -1 : 0;
}

static int add_node(const struct lin_nb *nb, const char *address, const char *mode,
    struct err *e)
{
	char path[128], body[256], label[33], host[64];
	struct lin_call c = { .method = "POST", .path = path, .body = body, .create = true };
	struct buf b;
	int rc;

	snprintf(path, sizeof(path), "/nodebalancers/%lld/configs/%lld/nodes",
	    (long long)nb->nb_id, (long long)nb->config_id);
	/* Labels are 3..32 of [a-zA-Z0-9-_.]: "ps-" and the address fit. */
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(address, ":"), address);
	snprintf(label, sizeof(label), "ps-%.28s", host);
	/* Weight and mode sent: their defaults are observed, not specified.
	 * Not repeated blindly (a lost reply would make two nodes): the next
	 * reconcile lists and adds what is still missing. */
	snprintf(body, sizeof(body),
	    "{\"label\":\"%s\",\"address\":\"%s\",\"weight\":%d,\"mode\":\"%s\"}", label,
	    address, NODE_WEIGHT, mode);
	buf_init(&b, 0);
	rc = lin_api_call(nb->api, &c, &b, e);
	buf_fini(&b);
	return rc;
}

static const char *mode_for(enum lin_node_want w, const char *have)
{
	if (w == LIN_NODE_KEEP)
		return have;
	if (w == LIN_NODE_DRAIN)
		return strcmp(have, "reject") == 0 ? have : "drain";
	return strcmp(have, "drain") == 0 ? "accept" : have;
}

static int set_mode(const struct lin_nb *nb, int64_t id, const char *mode, struct err *e)
{
	char body[48];

	snprintf(body, sizeof(body), "{\"mode\":\"%s\"}", mode);
	return node_call(nb, "PUT", id, body, e);
}

int lin_nb_reconcile(const struct lin_nb *nb, const struct lin_nb_want *v, size_t n,
    struct err *e)
{
	struct lin_nodes nodes;
	char want[72];
	int rc = 0;

	if (list_nodes(nb, &nodes, e) == -1)
		return -1;
	/* Removed first: an address a gone member held may come back on a
	 * new one, and then its node must be new too. */
	for (size_t i = 0; rc == 0 && i < nodes.n; i++) {
		const struct lin_nb_want *w = NULL;
		const char *mode;

		for (size_t j = 0; j < n && w == NULL; j++) {
			snprintf(want, sizeof(want), "%s:%d", v[j].addr, nb->port);
			if (strcmp(nodes.v[i].address, want) == 0)
				w = &v[j];
		}
		/* One node per address: a duplicate goes too. */
		for (size_t k = 0; w != NULL && k < i; k++)
			if (strcmp(nodes.v[k].address, nodes.v[i].address) == 0)
				w = NULL;
		if (w == NULL) {
			rc = node_call(nb, "DELETE", nodes.v[i].id, NULL, e);
			continue;
		}
		mode = mode_for(w->want, nodes.v[i].mode);
		if (strcmp(mode, nodes.v[i].mode) != 0)
			rc = set_mode(nb, nodes.v[i].id, mode, e);
	}
	for (size_t j = 0; rc == 0 && j < n; j++) {
		bool have = false;

		if (v[j].want == LIN_NODE_KEEP)
			continue;
		snprintf(want, sizeof(want), "%s:%d", v[j].addr, nb->port);
		for (size_t i = 0; i < nodes.n && !have; i++)
			have = strcmp(nodes.v[i].address, want) == 0;
		if (!have)
			rc = add_node(nb, want, v[j].want == LIN_NODE_DRAIN ? "drain" : "accept", e);
	}
	lin_nodes_fini(&nodes);
	return rc;
}

int lin_nb_take_out(const struct lin_nb *nb, const char *addr, struct err *e)
{
	struct lin_nodes nodes;
	char host[64];
	int rc = 0;

	if (list_nodes(nb, &nodes, e) == -1)
		return -1;
	for (size_t i = 0; rc == 0 && i < nodes.n; i++) {
		const char *a = nodes.v[i].address;

		snprintf(host, sizeof(host), "%.*s", (int)strcspn(a, ":"), a);
		if (strcmp(host, addr) != 0)
			continue;
		if (strcmp(nodes.v[i].mode, "drain") != 0)
			rc = set_mode(nb, nodes.v[i].id, "drain", e);
		if (rc == 0)
			rc = node_call(nb, "DELETE", nodes.v[i].id, NULL, e);
	}
	lin_nodes_fini(&nodes);
	return rc;
}
