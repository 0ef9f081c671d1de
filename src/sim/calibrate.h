/* sim/calibrate.h: `poolscale simulate calibrate`: measures the capacity
 * of one real `poolscale app` instance on this machine (the `capacity` a
 * simulation needs), the way BUNGEE's system analysis does: rising
 * constant rates until the p95 latency breaks the SLO or requests fail.
 * Not here: the simulation. */
#ifndef POOLSCALE_SIM_CALIBRATE_H
#define POOLSCALE_SIM_CALIBRATE_H

int calibrate_main(int argc, char **argv);

#endif
