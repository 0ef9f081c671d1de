/* provider/linode_create.h: creating one pool member exactly once, though
 * POST /linode/instances takes no idempotency key and a reply can be lost.
 * Every intended member gets a unique label before its POST; a POST is
 * never repeated blindly: a lost reply or a 5xx is resolved by looking the
 * label up, a retry goes out under the same label (so the API's "label
 * must be unique" catches a first attempt that had worked), and a label
 * whose outcome stays unknown is kept for the next call. Creates are paced
 * to the API's 10 per 30 s: the caller asks for room before each new
 * member, and a retry of one waits for it. Not here: how many to create
 * (linode.c). */
#ifndef POOLSCALE_PROVIDER_LINODE_CREATE_H
#define POOLSCALE_PROVIDER_LINODE_CREATE_H

#include <stddef.h>
#include <stdint.h>

#include "provider/linode.h"
#include "provider/linode_api.h"

#define LIN_CREATE_BUDGET 10		/* creates per LIN_CREATE_WINDOW_MS */
#define LIN_MAX_PENDING 16

struct lin_creator {
	struct lin_api *api;		/* borrowed */
	const struct linode_cfg *cfg;	/* borrowed: the template */
	const char *user_data_b64;	/* borrowed; NULL: none */
	/* Labels whose create may have worked: reused before any new one, so
	 * a retry can only meet its own instance, never make a second. */
	char pending[LIN_MAX_PENDING][LIN_LABEL_MAX + 1];
	size_t npending;
	int64_t created_ms[LIN_CREATE_BUDGET];	/* the last POSTs, oldest first */
	size_t ncreated;
};

void lin_creator_init(struct lin_creator *c, struct lin_api *api, const struct linode_cfg *cfg,
    const char *user_data_b64);
/* Forgets the pending labels that l (a fresh list) shows: made after all. */
void lin_creator_seen(struct lin_creator *c, const struct lin_instances *l);
/* The label of the next create: a pending one first, else a new
 * PREFIX-XXXXXXXX (8 random hex digits) that neither l nor pending has. */
void lin_creator_label(struct lin_creator *c, const struct lin_instances *l, char *dst,
    size_t cap);
/* 0 when the API's create limit leaves room for a POST now, else the ms
 * until it will. */
int64_t lin_creator_wait_ms(const struct lin_creator *c);
/* One instance under label: 0 when it exists (made now or before), -1
 * with e (the label stays pending when the outcome is unknown). */
int lin_creator_create(struct lin_creator *c, const char *label, struct err *e);

#endif
