/* poolscale: one binary, one subcommand per component. */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "cli/cli.h"
#include "controller/cmd.h"
#include "demo/demo.h"
#include "discovery/sd.h"
#include "lb/lb.h"
#include "load/cmd.h"
#include "sim/cmd.h"

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "controller", "keeps the pool at its size, publishes it, serves the API", controller_main },
	{ "lb", "TCP load balancer that follows the pool, health-checks, drains", lb_main },
	{ "app", "the deliberately slow web app that runs on every instance", app_main },
	{ "load", "open-loop HTTP load: constant, profile or trace replay", load_main },
	{ "simulate", "replay a load through the policies under a virtual clock, scored", simulate_main },
	{ "demo", "the whole system on this machine, scaling under a load profile", demo_main },
	{ "sd", "service discovery alone: a provider's members as a file_sd file", sd_main },
	{ "status", "show a running controller's pool", cli_status_main },
	{ "scale", "set a running controller's desired size", cli_scale_main },
	{ "events", "show a running controller's recent events", cli_events_main },
	{ "pool", "pool destroy: stop every instance and clear the state", cli_pool_main },
};

static void usage(FILE *f)
{
	fputs("Usage: poolscale COMMAND [OPTIONS]\n"
	    "\n"
	    "Prometheus-driven autoscaling for pools of servers.\n"
	    "\n"
	    "Commands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	    "Options:\n"
	    "  -h, --help     this text; `poolscale COMMAND --help` for a command's\n"
	    "  --version      print the version\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("poolscale %s\n", POOLSCALE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "poolscale: unknown command \"%s\" (see poolscale --help)\n", argv[1]);
	return 2;
}
