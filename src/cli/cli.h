/* cli/cli.h: commands that talk to a running controller's API (status,
 * scale, events) and `pool destroy`, the local cloud's "terraform destroy".
 * Blocking calls are fine here: these are short-lived commands. */
#ifndef POOLSCALE_CLI_H
#define POOLSCALE_CLI_H

int cli_status_main(int argc, char **argv);
int cli_scale_main(int argc, char **argv);
int cli_events_main(int argc, char **argv);
int cli_pool_main(int argc, char **argv);

#endif
