/* controller/statuspage.h: the status page served at GET /: one HTML page
 * with its CSS and script inline, nothing loaded from elsewhere, that
 * reads the JSON API every 2 s (members, policy, events, the last hour's
 * chart) and asks for the bearer token when the API wants one. It holds no
 * data itself. Not here: the routes and the auth (controller/api.c). */
#ifndef POOLSCALE_STATUSPAGE_H
#define POOLSCALE_STATUSPAGE_H

extern const char ctl_status_page[];

#endif
