#include "discovery/publish.h"

bool publish_member(const struct member *m, bool healthy)
{
	return healthy && !m->booting && !m->stopping;
}
