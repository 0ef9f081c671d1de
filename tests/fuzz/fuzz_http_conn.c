/* libFuzzer target: common/http_server's connection code (reads, buffer
 * growth and compaction, pipelining, chunked bodies, limits) driven over a
 * socketpair with the stream cut into reads where the fuzzer chooses. The
 * handler's record of the requests must not depend on the cuts; any
 * sanitizer report (a stale view into a moved buffer) fails too.
 * Input: byte 0 = number of cuts (mod 17), then 2 bytes per cut (little
 * endian offset into the stream, mod its length + 1), then the stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../http_feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed_log whole = { 0 }, cut = { 0 };
	size_t cuts[16], ncuts, hdr;
	const char *stream;
	size_t len;

	if (size < 1)
		return 0;
	ncuts = data[0] % 17;
	hdr = 1 + 2 * ncuts;
	if (size < hdr)
		return 0;
	stream = (const char *)data + hdr;
	len = size - hdr;
	for (size_t i = 0; i < ncuts; i++)
		cuts[i] = ((size_t)data[1 + 2 * i] | (size_t)data[2 + 2 * i] << 8) % (len + 1);
	qsort(cuts, ncuts, sizeof(cuts[0]), cmp_size);
	if (feed_run(stream, len, NULL, 0, &whole) == 0 &&
	    feed_run(stream, len, cuts, ncuts, &cut) == 0 &&
	    (whole.len != cut.len || (whole.len > 0 && memcmp(whole.p, cut.p, whole.len) != 0)))
		abort();
	free(whole.p);
	free(cut.p);
	return 0;
}
