#include "common/crashpoint.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char want[32];
static long want_n;
static atomic_long seen;

static void parse(void)
{
	const char *v = getenv("POOLSCALE_CRASH_AT");
	const char *colon = v ? strrchr(v, ':') : NULL;
	char *end;

	if (colon == NULL || (size_t)(colon - v) >= sizeof(want))
		return;
	want_n = strtol(colon + 1, &end, 10);
	if (*end != '\0' || want_n < 1) {
		want_n = 0;
		return;
	}
	memcpy(want, v, (size_t)(colon - v));
	want[colon - v] = '\0';
}

void crash_point(const char *name)
{
	pthread_once(&once, parse);
	if (want_n == 0 || strcmp(name, want) != 0)
		return;
	if (atomic_fetch_add(&seen, 1) + 1 == want_n) {
		static const char msg[] = "POOLSCALE_CRASH_AT: killing myself here\n";

		(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
		kill(getpid(), SIGKILL);
	}
}
