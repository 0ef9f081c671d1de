/* load/cmd.h: the `poolscale load` command. */
#ifndef POOLSCALE_LOAD_CMD_H
#define POOLSCALE_LOAD_CMD_H

int load_main(int argc, char **argv);

#endif
