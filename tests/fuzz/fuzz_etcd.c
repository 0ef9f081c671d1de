/* libFuzzer target: every etcd gateway reply reader (common/etcd_json.h) on
 * the same bytes. A refused reply leaves nothing half-read: no lease, no
 * win, no kv found; an accepted keepalive never says a negative TTL. */
#include <stdint.h>
#include <stdlib.h>

#include "common/etcd_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct etcd_json_error je;
	struct etcd_kv kv;
	char token[256];
	int64_t a, b;
	bool flag;
	int rc;

	etcd_kv_init(&kv, 4096);
	(void)etcd_json_parse_error(p, size, &je);
	if (etcd_json_parse_grant(p, size, &a, &b, NULL) == -1 ? (a != 0 || b != 0) :
	    (a == 0 || b <= 0))
		abort();
	rc = etcd_json_parse_keepalive(p, size, &a, &b, &je, NULL);
	if (b < 0 || (rc == -1 && b != 0))
		abort();
	(void)etcd_json_parse_header(p, size, &a, NULL);
	if (etcd_json_parse_range(p, size, &kv, &a, NULL) == -1 && kv.found)
		abort();
	for (int read = 0; read <= 1; read++) {
		rc = etcd_json_parse_create_if_absent(p, size, read, &flag, &a, &kv, NULL);
		if ((rc == -1 && (flag || kv.found || a != 0)) || (rc == 0 && flag && a <= 0))
			abort();
	}
	if (etcd_json_parse_put_if(p, size, &flag, &kv, NULL) == -1 && (flag || kv.found))
		abort();
	if (etcd_json_parse_delete_if(p, size, &flag, NULL) == -1 && flag)
		abort();
	if (etcd_json_parse_token(p, size, token, sizeof(token), NULL) == -1 && token[0] != '\0')
		abort();
	if (kv.value.len > kv.value.max)
		abort();
	etcd_kv_fini(&kv);
	return 0;
}
