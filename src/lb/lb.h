/* lb/lb.h: the `poolscale lb` command: flags, threads, the control loop
 * (targets file, health checks, metrics) beside the workers (lb/proxy.h). */
#ifndef POOLSCALE_LB_H
#define POOLSCALE_LB_H

int lb_main(int argc, char **argv);

#endif
