/* sim/cmd.h: `poolscale simulate`: flags, config and load in, the runs,
 * the table and the report folder out; `simulate calibrate` measures an
 * instance's capacity (sim/calibrate.h). */
#ifndef POOLSCALE_SIM_CMD_H
#define POOLSCALE_SIM_CMD_H

int simulate_main(int argc, char **argv);

#endif
