/* libFuzzer target: HTTP request handling's pure code, the request parser,
 * the head-end scanner fed in pieces, query parameters and the chunked
 * decoder on whatever follows a parsed head. Any crash, sanitizer report or
 * broken invariant (abort) fails. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_request req;
	size_t scanned = 0, end = 0;
	int status = 0;
	int rc;

	/* The scanner fed 7 bytes at a time finds what one call over all finds. */
	for (size_t n = 0; n < size && end == 0; n += 7)
		end = http_find_head_end(buf, n, &scanned);
	if (end == 0) {
		size_t once = 0;

		end = http_find_head_end(buf, size, &once);
	}
	rc = http_parse_request(buf, size, 8192, &req, &status);
	if (rc == HTTP_PARSE_BAD && (status < 400 || status > 505))
		abort();
	if (rc > 0) {
		struct slice v;
		char *body;
		struct http_chunked d = { 0 };
		size_t rest = size - (size_t)rc;
		int64_t n;

		if ((size_t)rc != req.head_len || (size_t)rc > size || req.path.p == NULL)
			abort();
		(void)http_query_param(req.query, "ms", &v);
		(void)http_header_find(&req, "content-type");
		if (req.chunked) {
			body = malloc(rest ? rest : 1);
			if (body == NULL)
				return 0;
			memcpy(body, buf + rc, rest);
			n = http_chunked_decode(&d, body, rest, 65536);
			if (n >= 0 && ((size_t)n > rest || d.out_len > (size_t)n))
				abort();
			free(body);
		}
	}
	return 0;
}
