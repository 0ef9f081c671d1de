#include "common/opts.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

const char *opts_name(const struct option *opts, int val)
{
	for (const struct option *o = opts; o->name != NULL; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

static bool is_cluster(const char *a)
{
	return a != NULL && a[0] == '-' && a[1] != '-' && a[1] != '\0';
}

/* The argument getopt was reading when it met the unknown short option c.
 * Inside a cluster ("-instance-pool-id" stops at its 'i') optind still
 * points at it; past the cluster's last letter, at the next argument. */
static const char *failed_arg(char **argv, int c)
{
	const char *prev = optind > 0 ? argv[optind - 1] : NULL;
	const char *cur = argv[optind];

	if (c != 0 && is_cluster(prev) && prev[strlen(prev) - 1] == c)
		return prev;
	if (c != 0 && is_cluster(cur) && strchr(cur + 1, c) != NULL)
		return cur;
	return prev != NULL ? prev : "?";
}

int opts_reject(int opt, char **argv, const char *cmd, struct err *e)
{
	const char *a;
	int name_len;

	if (opt == ':')
		return err_set(e, "%s needs a value", argv[optind - 1]);
	a = failed_arg(argv, optopt);
	/* The name only, never what follows '=': it may be a secret
	 * (-exoscale-api-secret=...), and errors reach logs and journals. */
	name_len = (int)strcspn(a, "=");
	if (name_len > 64)
		name_len = 64;
	/* Go's flag package, which the seeds' tools use, takes -name too. */
	if (is_cluster(a) && strlen(a) > 2 && isalpha((unsigned char)a[1]))
		return err_set(e, "unknown option %.*s: long options take two dashes, "
		    "try -%.*s (see poolscale %s --help)", name_len, a, name_len, a, cmd);
	return err_set(e, "unknown option %.*s (see poolscale %s --help)", name_len, a, cmd);
}

int opts_no_operands(int argc, char **argv, const char *cmd, struct err *e)
{
	if (optind < argc)
		return err_set(e, "unexpected argument \"%s\" (see poolscale %s --help)",
		    argv[optind], cmd);
	return 0;
}
