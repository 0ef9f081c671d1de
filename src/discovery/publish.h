/* discovery/publish.h: the one rule for which members go into discovery
 * files, shared by the controller and `poolscale sd` so that both publish
 * the same members: never one its provider does not report as running
 * (booting, such as AWS "Pending" or Exoscale "starting", or on its way
 * out), whatever its health check says; and never one whose health check,
 * where the caller runs one, has not passed. Pure. Not here: rendering
 * (filesd.h), health checks (the controller). */
#ifndef POOLSCALE_PUBLISH_H
#define POOLSCALE_PUBLISH_H

#include <stdbool.h>

#include "provider/provider.h"

/* m: the provider's last word on the member. healthy: the caller's own
 * verdict (the controller: its health check passed and it is not draining;
 * sd, which checks nothing, passes true). */
bool publish_member(const struct member *m, bool healthy);

#endif
