#include "common/opts.h"

#include <stddef.h>

const char *opts_name(const struct option *opts, int val)
{
	for (const struct option *o = opts; o->name != NULL; o++)
		if (o->val == val)
			return o->name;
	return "?";
}
