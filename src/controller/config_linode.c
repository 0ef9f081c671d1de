/* The controller config's `provider.linode:` section (docs/configuration.md,
 * docs/cloud.md): the instance template, the pool's tag and the optional
 * NodeBalancer, every mistake reported as FILE:LINE: provider.linode.KEY:
 * message. A separate file so the main config reader stays one screenful
 * per section. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/yamlcfg.h"
#include "controller/config.h"
#include "provider/endpoint.h"

#define SECTION "provider.linode"

static void read_keys(struct ycfg *y, yaml_node_t *n, struct linode_cfg *l)
{
	yaml_node_item_t *it;

	if (n->type != YAML_SEQUENCE_NODE) {
		ycfg_error(y, n, SECTION ".authorized_keys: expected a list of public keys");
		return;
	}
	l->nkeys = 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *a = yaml_document_get_node(&y->doc, *it);
		const char *s = ycfg_scalar(y, a, SECTION ".authorized_keys");

		if (s == NULL)
			continue;
		if (l->nkeys == LIN_MAX_KEYS) {
			ycfg_error(y, a, SECTION ".authorized_keys: more than %d keys", LIN_MAX_KEYS);
			return;
		}
		if (strlen(s) >= LIN_KEY_MAX || (strncmp(s, "ssh-", 4) != 0 &&
		    strncmp(s, "ecdsa-", 6) != 0 && strncmp(s, "sk-", 3) != 0)) {
			ycfg_error(y, a, SECTION ".authorized_keys: not an OpenSSH public key line "
			    "(ssh-ed25519 AAAA... comment) of at most %d bytes", LIN_KEY_MAX - 1);
			continue;
		}
		snprintf(l->authorized_keys[l->nkeys++], LIN_KEY_MAX, "%s", s);
	}
}

static void read_id(struct ymap *m, const char *key, int64_t *out)
{
	ycfg_int(m, key, 1, INT64_MAX, out);
}

void ctl_cfg_read_linode(struct ycfg *y, yaml_node_t *n, struct ctl_cfg *c)
{
	struct linode_cfg *l = &c->linode;
	struct ymap m;
	struct err e;
	yaml_node_t *keys;
	char label[LIN_LABEL_MAX + 16];
	int64_t port = l->node_port;

	if (!ymap_init(&m, y, n, "provider.linode"))
		return;
	ycfg_string(&m, "token_file", l->token_file, sizeof(l->token_file));
	ycfg_string(&m, "region", l->region, sizeof(l->region));
	ycfg_string(&m, "type", l->type, sizeof(l->type));
	ycfg_string(&m, "image", l->image, sizeof(l->image));
	/* ycfg_string is true when absent too: a default needs no check. */
	if (ymap_get(&m, "label_prefix") != NULL &&
	    ycfg_string(&m, "label_prefix", l->label_prefix, sizeof(l->label_prefix))) {
		snprintf(label, sizeof(label), "%s-00000000", l->label_prefix);
		if (!lin_label_ok(label))
			ycfg_error(y, ymap_get(&m, "label_prefix"), SECTION ".label_prefix: \"%s\" "
			    "is not lower-case letters, digits and single dashes, a letter first",
			    l->label_prefix);
	}
	if (ycfg_string(&m, "tag", l->tag, sizeof(l->tag)) && l->tag[0] != '\0' &&
	    linode_tag_check(l->tag, &e) == -1)
		ycfg_error(y, ymap_get(&m, "tag"), SECTION ".tag: %s", e.msg);
	if ((keys = ymap_get(&m, "authorized_keys")) != NULL)
		read_keys(y, keys, l);
	read_id(&m, "firewall_id", &l->firewall_id);
	ycfg_string(&m, "user_data_file", l->user_data_file, sizeof(l->user_data_file));
	read_id(&m, "nodebalancer_id", &l->nodebalancer_id);
	read_id(&m, "nodebalancer_config_id", &l->nodebalancer_config_id);
	if (ycfg_int(&m, "node_port", 1, 65535, &port))
		l->node_port = (int)port;
	if (ycfg_string(&m, "endpoint", l->endpoint, sizeof(l->endpoint)) &&
	    l->endpoint[0] != '\0' && prov_endpoint_check(l->endpoint, &e) == -1)
		ycfg_error(y, ymap_get(&m, "endpoint"), SECTION ".endpoint: %s", e.msg);
	ymap_done(&m);
	if (strcmp(c->provider, "linode") != 0)
		return;
	/* What a create cannot go without; the rest has defaults. */
	if (l->region[0] == '\0')
		ycfg_error(y, n, SECTION ".region: missing");
	if (l->type[0] == '\0')
		ycfg_error(y, n, SECTION ".type: missing");
	if (l->image[0] == '\0')
		ycfg_error(y, n, SECTION ".image: missing");
	if (l->tag[0] == '\0')
		ycfg_error(y, n, SECTION ".tag: missing (the pool is every instance with it)");
	if ((l->nodebalancer_id > 0) != (l->nodebalancer_config_id > 0))
		ycfg_error(y, n, SECTION ": give nodebalancer_id and nodebalancer_config_id "
		    "together");
}
