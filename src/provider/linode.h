/* provider/linode.h: a pool of Linode instances through the API v4
 * (../shared/reference/linode-api-v4.md). Linode has no instance pool, so
 * this provider is one: the pool is every instance carrying a tag; it
 * creates instances from a template (region, type, image, keys, firewall,
 * cloud-init), deletes the ones the controller chose, and keeps one
 * NodeBalancer config's nodes equal to the running members' private
 * addresses (linode_nb.h). Creation is idempotent without the API's help:
 * each intended member gets a unique label before its POST, and a create
 * whose reply was lost is resolved by finding that label, never by
 * creating again. The nodes of the members the controller drains go to
 * mode drain for as long as it drains them. Not here: when to drain (the
 * controller), HTTP (linode_api.h), JSON (linode_json.h). */
#ifndef POOLSCALE_PROVIDER_LINODE_H
#define POOLSCALE_PROVIDER_LINODE_H

#include <stdint.h>

#include "provider/cloudhttp.h"
#include "provider/linode_json.h"
#include "provider/provider.h"

#define LIN_DEFAULT_ENDPOINT "https://api.linode.com/v4"
#define LIN_PREFIX_MAX 40	/* leaves room for "-" and an 8-digit suffix */
#define LIN_KEY_MAX 1024

struct linode_cfg {
	char endpoint[256];		/* "": LIN_DEFAULT_ENDPOINT */
	char token_file[1024];		/* "": LINODE_TOKEN */
	char region[32];
	char type[64];
	char image[128];
	char label_prefix[LIN_PREFIX_MAX + 1];
	char tag[51];			/* the pool: every instance with this tag */
	char authorized_keys[LIN_MAX_KEYS][LIN_KEY_MAX];
	int nkeys;
	int64_t firewall_id;		/* 0: none */
	char user_data_file[1024];	/* "": no cloud-init */
	int64_t nodebalancer_id;	/* 0: no NodeBalancer */
	int64_t nodebalancer_config_id;
	int node_port;			/* the nodes' port; 0: provider.app_port */
	bool read_only;			/* never mutate, not even the nodes (sd) */
	struct cloud_http_cfg http;
};

void linode_cfg_default(struct linode_cfg *c);
/* 0 when tag is a tag poolscale can filter on (3..50 printable ASCII, no
 * quote or backslash), else -1 with the reason. */
int linode_tag_check(const char *tag, struct err *e);
/* Reads the token (file, then LINODE_TOKEN) and the cloud-init file; the
 * provider keeps its own copy of cfg. Errors never show the token. */
int prov_linode_new(const struct linode_cfg *cfg, struct provider *out, struct err *e);

#endif
