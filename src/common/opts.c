#include "common/opts.h"

#include <stddef.h>

const char *opts_name(const struct option *opts, int val)
{
	for (const struct option *o = opts; o->name != NULL; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

int opts_reject(int opt, char **argv, const char *cmd, struct err *e)
{
	if (opt == ':')
		return err_set(e, "%s needs a value", argv[optind - 1]);
	return err_set(e, "unknown option %s (see poolscale %s --help)", argv[optind - 1], cmd);
}

int opts_no_operands(int argc, char **argv, const char *cmd, struct err *e)
{
	if (optind < argc)
		return err_set(e, "unexpected argument \"%s\" (see poolscale %s --help)",
		    argv[optind], cmd);
	return 0;
}
