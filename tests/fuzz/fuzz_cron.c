/* libFuzzer target: cron expressions (common/cron.h) and the windows they
 * open (policy/schedule.h) under an odd time zone, TZif files and POSIX TZ
 * rules (common/tz.h). The first byte picks which. Any crash, sanitizer
 * report, endless scan or error without a message fails. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cron.h"
#include "common/tz.h"
#include "policy/schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A zone whose offset jumps by 45 min twice a day: gaps and repeats. */
static long odd_offset(void *ctx, const char *zone, int64_t t)
{
	(void)ctx;
	(void)zone;
	return ((t % 86400) + 86400) % 86400 < 43200 ? 3600 : 3600 + 2700;
}

static char *text_of(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1);

	if (t != NULL) {
		memcpy(t, data, size);
		t[size] = '\0';
	}
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t at[] = { 0, 1767571200, 1774746000, -86400 * 365, 4102444800LL };
	struct err e = { "" };
	char *t;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0: {
		struct sched_entry s = { .duration_s = 7200, .min = 2, .max = -1 };
		struct sched_clock clk = { odd_offset, NULL };
		struct sched_memo memo = { 0 };

		if ((t = text_of(data + 1, size - 1)) == NULL)
			return 0;
		if (cron_parse(t, &s.start, &e) == -1) {
			if (e.msg[0] == '\0')
				abort();
		} else {
			s.end = s.start;
			for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
				bool a = sched_entry_active(&s, &memo, at[i], &clk, NULL);

				if (a != sched_entry_active(&s, NULL, at[i], &clk, NULL) && i == 0)
					abort();	/* a fresh memo answers as no memo */
			}
			s.has_end = true;
			(void)sched_entry_active(&s, NULL, at[1], &clk, NULL);
		}
		free(t);
		break;
	}
	case 1: {
		struct tz_zone z;

		if (tz_zone_parse(data + 1, size - 1, &z, &e) == -1) {
			if (e.msg[0] == '\0')
				abort();
			break;
		}
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
			(void)tz_zone_offset_s(&z, at[i]);
		tz_zone_fini(&z);
		break;
	}
	default: {
		struct tz_zone z = { .has_rule = true };

		if ((t = text_of(data + 1, size - 1)) == NULL)
			return 0;
		if (tz_rule_parse(t, &z.rule, &e) == -1 && e.msg[0] == '\0')
			abort();
		/* a failed parse leaves UTC, safe to evaluate */
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
				(void)tz_zone_offset_s(&z, at[i]);
		free(t);
		break;
	}
	}
	return 0;
}
