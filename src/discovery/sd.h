/* discovery/sd.h: `poolscale sd`, service discovery alone, for users who
 * keep another autoscaler (the seeds' "custom service discovery agent"):
 * reads a pool's members from any provider every interval and writes the
 * running ones as a Prometheus file_sd file, atomically, keeping the last
 * good file while the provider fails ([] when there is none). Takes the
 * flags of prometheus-sd-exoscale-instance-pools too, to replace it by a
 * change of command. Not here: the providers, rendering (filesd.h), zone
 * and endpoint rules (provider/exo_zone.h, provider/endpoint.h). */
#ifndef POOLSCALE_SD_H
#define POOLSCALE_SD_H

int sd_main(int argc, char **argv);

#endif
