#include "provider/linode_create.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/buf.h"
#include "common/clock.h"

/* POST /linode/instances: 10 per 30 s per token [reference §7]. */
#define LIN_CREATE_WINDOW_MS 30000
/* POSTs of one label whose outcome stayed unknown before giving up the call. */
#define LIN_CREATE_ATTEMPTS 3

void lin_creator_init(struct lin_creator *x, struct lin_api *api, const struct linode_cfg *cfg,
    const char *user_data_b64)
{
	memset(x, 0, sizeof(*x));
	x->api = api;
	x->cfg = cfg;
	x->user_data_b64 = user_data_b64;
}

static void random_bytes(unsigned char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);

		if (r > 0)
			got += (size_t)r;
	}
}

static bool label_used(const struct lin_creator *x, const struct lin_instances *l,
    const char *label)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].label, label) == 0)
			return true;
	for (size_t i = 0; i < x->npending; i++)
		if (strcmp(x->pending[i], label) == 0)
			return true;
	return false;
}

/* PREFIX-XXXXXXXX, 8 random hex digits: unique among the account's
 * instances by construction, checked against the ones listed. */
static void new_label(const struct lin_creator *x, const struct lin_instances *l, char *dst,
    size_t cap)
{
	do {
		unsigned char r[4];

		random_bytes(r, sizeof(r));
		snprintf(dst, cap, "%s-%02x%02x%02x%02x", x->cfg->label_prefix, r[0], r[1], r[2],
		    r[3]);
	} while (label_used(x, l, dst));
}

static void pending_add(struct lin_creator *x, const char *label)
{
	for (size_t i = 0; i < x->npending; i++)
		if (strcmp(x->pending[i], label) == 0)
			return;
	if (x->npending == LIN_MAX_PENDING) {
		/* The oldest has waited longest to show up: the list counts it
		 * if it ever does, the controller then removes the surplus. */
		memmove(x->pending[0], x->pending[1], sizeof(x->pending[0]) * (LIN_MAX_PENDING - 1));
		x->npending--;
	}
	snprintf(x->pending[x->npending++], sizeof(x->pending[0]), "%s", label);
}

static void pending_drop(struct lin_creator *x, const char *label)
{
	for (size_t i = 0; i < x->npending; i++)
		if (strcmp(x->pending[i], label) == 0) {
			memmove(x->pending[i], x->pending[i + 1],
			    sizeof(x->pending[0]) * (x->npending - i - 1));
			x->npending--;
			return;
		}
}

int64_t lin_creator_wait_ms(const struct lin_creator *x)
{
	int64_t since;

	if (x->ncreated < LIN_CREATE_BUDGET)
		return 0;
	since = clock_mono_ms() - x->created_ms[0];
	return since >= LIN_CREATE_WINDOW_MS ? 0 : LIN_CREATE_WINDOW_MS - since;
}

/* Waits, when the last LIN_CREATE_BUDGET creates all fell in the window,
 * until the oldest leaves it: a retry is paced instead of refused. */
static int create_budget(struct lin_creator *x, struct err *e)
{
	int64_t wait = lin_creator_wait_ms(x);

	if (x->ncreated == LIN_CREATE_BUDGET) {
		if (wait > 0)
			cloud_http_nap(&x->api->http, wait);
		if (cloud_http_cancelled(&x->api->http))
			return err_set(e, "cancelled");
		memmove(x->created_ms, x->created_ms + 1, sizeof(x->created_ms[0]) *
		    (LIN_CREATE_BUDGET - 1));
		x->ncreated--;
	}
	x->created_ms[x->ncreated++] = clock_mono_ms();
	return 0;
}

/* Whether an instance with this label exists: 1 yes, 0 no, -1 unknown. */
static int label_exists(struct lin_creator *x, const char *label, struct err *e)
{
	struct lin_instances l;
	int found;

	if (lin_list_instances(x->api, "label", label, &l, e) == -1)
		return -1;
	found = 0;
	for (size_t i = 0; i < l.n; i++)
		found |= strcmp(l.v[i].label, label) == 0;
	lin_instances_fini(&l);
	return found;
}

int lin_creator_create(struct lin_creator *x, const char *label, struct err *e)
{
	char pass[33];
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_+=.";
	unsigned char r[32];
	const char *keys[LIN_MAX_KEYS];
	struct lin_create lc = {
		.region = x->cfg->region, .type = x->cfg->type, .image = x->cfg->image,
		.label = label, .tag = x->cfg->tag, .root_pass = pass, .keys = keys,
		.nkeys = (size_t)x->cfg->nkeys, .firewall_id = x->cfg->firewall_id,
		.user_data_b64 = x->user_data_b64,
	};
	struct lin_call c = { .method = "POST", .path = "/linode/instances", .create = true };
	char *body;
	int rc = -1;

	/* Required with an image; never used (keys log in), never logged. */
	random_bytes(r, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++)
		pass[i] = set[r[i] % (sizeof(set) - 1)];
	/* One of each class for sure: the API scores strength. */
	pass[0] = (char)('A' + r[0] % 26);
	pass[1] = (char)('a' + r[1] % 26);
	pass[2] = (char)('0' + r[2] % 10);
	pass[3] = '-';
	pass[32] = '\0';
	for (int i = 0; i < x->cfg->nkeys; i++)
		keys[i] = x->cfg->authorized_keys[i];
	body = lin_create_body(&lc);
	explicit_bzero(pass, sizeof(pass));
	if (body == NULL)
		return err_set(e, "out of memory");
	c.body = body;
	pending_add(x, label);
	for (int attempt = 0; attempt < LIN_CREATE_ATTEMPTS; attempt++) {
		struct buf b;
		long st;
		int found;

		if (create_budget(x, e) == -1)
			break;
		buf_init(&b, 0);
		st = lin_api_do(x->api, &c, &b, e);
		if (st >= 200 && st < 300) {
			buf_fini(&b);
			pending_drop(x, label);
			rc = 0;
			break;
		}
		if (st == 400 && lin_error_label_taken(b.p ? b.p : "", b.len)) {
			/* An earlier POST of this label worked after all. */
			buf_fini(&b);
			found = label_exists(x, label, e);
			if (found == 1) {
				pending_drop(x, label);
				rc = 0;
			} else if (found == 0) {
				pending_drop(x, label);
				err_set(e, "linode: label %s is taken but no instance shows it", label);
			}
			break;
		}
		if (st != -1 && st != 429 && st < 500) {
			/* Refused: nothing was made. */
			lin_api_error(&c, st, &b, e);
			buf_fini(&b);
			pending_drop(x, label);
			break;
		}
		if (st != -1)
			lin_api_error(&c, st, &b, e);
		buf_fini(&b);
		if (st == 429)
			break;		/* out of retries, and not done: next call */
		/* No answer, or a 5xx: done or not, the label tells. */
		found = label_exists(x, label, e);
		if (found == 1) {
			pending_drop(x, label);
			rc = 0;
			break;
		}
		if (found == -1)
			break;		/* still pending: the next call resolves it */
		if (attempt + 1 == LIN_CREATE_ATTEMPTS)
			err_set(e, "linode: create %s: no answer after %d attempts", label,
			    LIN_CREATE_ATTEMPTS);
	}
	explicit_bzero(body, strlen(body));	/* it holds the root password */
	free(body);
	return rc;
}

void lin_creator_seen(struct lin_creator *x, const struct lin_instances *l)
{
	for (size_t i = 0; i < l->n; i++)
		pending_drop(x, l->v[i].label);
}

void lin_creator_label(struct lin_creator *x, const struct lin_instances *l, char *dst,
    size_t cap)
{
	if (x->npending > 0)
		snprintf(dst, cap, "%s", x->pending[0]);
	else
		new_label(x, l, dst, cap);
}
