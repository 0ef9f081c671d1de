/* provider/linode_json.h: the Linode API v4 JSON the linode provider reads
 * and writes (../shared/reference/linode-api-v4.md): a page of instances,
 * an instance's address split (/ips), a page of NodeBalancer nodes, the
 * error body, the create body, and what an instance status means to
 * poolscale. Pure: bytes in, structs out; unknown fields are ignored (real
 * replies carry more than the spec lists), a missing or wrong required one
 * is an error. Not here: HTTP (linode_api.h), what the provider does. */
#ifndef POOLSCALE_PROVIDER_LINODE_JSON_H
#define POOLSCALE_PROVIDER_LINODE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define LIN_PAGE_MAX 500	/* the API's largest page_size */
#define LIN_LABEL_MAX 64
#define LIN_MAX_KEYS 8

enum lin_phase {
	LIN_PHASE_PENDING = 0,	/* provisioning, booting, or a status not known */
	LIN_PHASE_RUNNING,
	LIN_PHASE_STOPPING,	/* offline, shutting_down, deleting, stopped */
};

/* What an instance status string means for the pool. */
enum lin_phase lin_status_phase(const char *status);
const char *lin_phase_name(enum lin_phase p);

struct lin_instance {
	int64_t id;
	char label[LIN_LABEL_MAX + 1];
	char status[24];
	int64_t created_unix_s;	/* 0 when absent */
};

struct lin_instances {
	size_t n;
	struct lin_instance *v;
	int64_t page, pages;
	int64_t results;	/* every page's items, as of this page; -1 absent */
};

/* One page of GET /linode/instances. */
int lin_parse_instances(const char *body, size_t len, struct lin_instances *out,
    struct err *e);
void lin_instances_fini(struct lin_instances *l);

/* GET /linode/instances/{id}/ips: the first private IPv4 into priv ("" when
 * none). */
int lin_parse_private_ip(const char *body, size_t len, char *priv, size_t cap,
    struct err *e);

struct lin_node {
	int64_t id;
	char address[72];	/* "IP:PORT" */
	char mode[12];
};

struct lin_nodes {
	size_t n;
	struct lin_node *v;
	int64_t page, pages;
	int64_t results;	/* every page's items, as of this page; -1 absent */
};

/* One page of GET /nodebalancers/{nb}/configs/{cfg}/nodes. */
int lin_parse_nodes(const char *body, size_t len, struct lin_nodes *out, struct err *e);
void lin_nodes_fini(struct lin_nodes *l);
/* The id of the object in a reply (a created node or instance). */
int lin_parse_id(const char *body, size_t len, int64_t *id, struct err *e);

/* The reasons of an error body, "field: reason; ..." (else the text's first
 * line). Never fails. */
void lin_error_message(const char *body, size_t len, char *dst, size_t cap);
/* Whether an error body says the label is taken (a create that had worked). */
bool lin_error_label_taken(const char *body, size_t len);
/* Whether an error body is "Linode busy." (worth retrying). */
bool lin_error_busy(const char *body, size_t len);

struct lin_create {
	const char *region, *type, *image, *label, *tag, *root_pass;
	const char *const *keys;	/* authorized_keys */
	size_t nkeys;
	int64_t firewall_id;		/* 0: none */
	const char *user_data_b64;	/* NULL: none */
};

/* The POST /linode/instances body; the caller frees it. NULL when memory is
 * out. */
char *lin_create_body(const struct lin_create *c);

/* Whether s is a label poolscale may give an instance: a letter first, then
 * lower-case letters, digits and single dashes, no dash last, 3..64. */
bool lin_label_ok(const char *s);

#endif
