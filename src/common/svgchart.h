/* common/svgchart.h: time-series charts as standalone SVG: panels stacked
 * over one shared x axis, each with its own y axis, lines (or steps for
 * counts like a pool size), a legend, and labelled vertical markers across
 * all panels. For the demo's and the simulator's reports. Pure: writes
 * into a caller's buffer. Not here: where the numbers come from. */
#ifndef POOLSCALE_SVGCHART_H
#define POOLSCALE_SVGCHART_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

#define CHART_MAX_SERIES 8

struct chart_series {
	const char *label;
	const char *color;	/* any SVG colour: "#1f77b4" */
	const double *y;	/* n values; NaN leaves a gap */
	bool step;		/* hold each value until the next x */
	bool dashed;
};

struct chart_panel {
	const char *title;	/* "pool size", ... */
	const char *unit;	/* shown by the axis: "req/s", "%", ... */
	double ymax;		/* 0: from the data */
	unsigned nseries;
	struct chart_series series[CHART_MAX_SERIES];
};

struct chart_mark {
	double x;
	const char *label;
};

struct chart {
	const char *title;
	const char *subtitle;	/* NULL for none */
	const char *x_label;	/* "seconds" */
	const double *x;	/* n increasing values */
	size_t n;
	const struct chart_panel *panels;
	unsigned npanels;
	const struct chart_mark *marks;
	unsigned nmarks;
};

/* Appends the SVG document to out; -1 when out is full. */
int chart_svg(const struct chart *c, struct buf *out);

/* A "nice" axis top at or above v: 1, 2, 2.5 or 5 times a power of ten. */
double chart_nice_max(double v);

#endif
