/* discovery/sd.h: `poolscale sd`, service discovery alone, for users who
 * keep another autoscaler (the seeds' "custom service discovery agent"):
 * reads a pool's members from any provider every interval and writes the
 * running ones as a Prometheus file_sd file, atomically, keeping the last
 * good file while the provider fails. Not here: the providers, rendering
 * (filesd.h). */
#ifndef POOLSCALE_SD_H
#define POOLSCALE_SD_H

int sd_main(int argc, char **argv);

#endif
