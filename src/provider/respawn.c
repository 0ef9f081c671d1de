#include "provider/respawn.h"

int64_t respawn_delay_ms(int failures, int64_t base_ms, int64_t max_ms)
{
	int64_t d = base_ms;

	if (failures <= 1)
		return 0;
	for (int i = 2; i < failures && d < max_ms; i++)
		d *= 2;
	return d < max_ms ? d : max_ms;
}

void respawn_failed(struct respawn *r, int64_t now_ms, int64_t base_ms, int64_t max_ms)
{
	if (r->failures < 1000)
		r->failures++;
	r->not_before_ms = now_ms + respawn_delay_ms(r->failures, base_ms, max_ms);
}

void respawn_ok(struct respawn *r)
{
	r->failures = 0;
	r->not_before_ms = 0;
}

int64_t respawn_wait_ms(const struct respawn *r, int64_t now_ms)
{
	return r->not_before_ms > now_ms ? r->not_before_ms - now_ms : 0;
}
