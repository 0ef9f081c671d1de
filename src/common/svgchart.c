/* Time-series charts as SVG; see svgchart.h. */
#include <math.h>
#include <string.h>

#include "common/svgchart.h"

#define W 960
#define LEFT 78
#define RIGHT 24
#define TOP 56
#define PANEL_H 150
#define GAP 34
#define BOTTOM 46

double chart_nice_max(double v)
{
	static const double steps[] = { 1, 2, 2.5, 5, 10 };
	double p;

	if (!(v > 0) || !isfinite(v))
		return 1;
	p = pow(10, floor(log10(v)));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i] * p >= v * (1 - 1e-12))
			return steps[i] * p;
	return 10 * p;
}

/* Text content with the XML specials escaped. */
static int text(struct buf *b, const char *s)
{
	int rc = 0;

	for (; *s && rc == 0; s++) {
		switch (*s) {
		case '<': rc = buf_appends(b, "&lt;"); break;
		case '>': rc = buf_appends(b, "&gt;"); break;
		case '&': rc = buf_appends(b, "&amp;"); break;
		case '"': rc = buf_appends(b, "&quot;"); break;
		default: rc = buf_append(b, s, 1);
		}
	}
	return rc;
}

static double legend_width(const char *label)
{
	return 23 + 6.5 * (double)strlen(label) + 24;
}

static double panel_max(const struct chart *c, const struct chart_panel *p)
{
	double m = 0;

	if (p->ymax > 0)
		return p->ymax;
	for (unsigned s = 0; s < p->nseries; s++)
		for (size_t i = 0; i < c->n; i++)
			if (isfinite(p->series[s].y[i]) && p->series[s].y[i] > m)
				m = p->series[s].y[i];
	return chart_nice_max(m * 1.05);
}

/* A tick step near span/8 that is 1, 2 or 5 times a power of ten. */
static double tick_step(double span)
{
	double raw = span / 8, p = pow(10, floor(log10(raw))), m = raw / p;

	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static int series_path(struct buf *b, const struct chart *c, const struct chart_series *s,
    double x0, double xspan, double y0, double ymax)
{
	bool pen = false;
	int rc = 0;

	rc |= buf_appendf(b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\"%s d=\"",
	    s->color, s->dashed ? " stroke-dasharray=\"5 3\"" : "");
	for (size_t i = 0; i < c->n; i++) {
		double v = s->y[i], px, py;

		if (!isfinite(v)) {
			pen = false;
			continue;
		}
		if (v > ymax)
			v = ymax;
		if (v < 0)
			v = 0;
		px = LEFT + (c->x[i] - x0) / xspan * (W - LEFT - RIGHT);
		py = y0 + PANEL_H - v / ymax * PANEL_H;
		if (!pen)
			rc |= buf_appendf(b, "M%.1f %.1f", px, py);
		else if (s->step)
			rc |= buf_appendf(b, "H%.1fV%.1f", px, py);
		else
			rc |= buf_appendf(b, "L%.1f %.1f", px, py);
		pen = true;
	}
	rc |= buf_appends(b, "\"/>\n");
	return rc;
}

static int panel(struct buf *b, const struct chart *c, const struct chart_panel *p,
    double y0, double x0, double xspan)
{
	double ymax = panel_max(c, p), step = tick_step(ymax);
	int rc = 0;

	rc |= buf_appendf(b, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" "
	    "fill=\"#fbfbfb\" stroke=\"#ccc\"/>\n", LEFT, y0, W - LEFT - RIGHT, PANEL_H);
	for (double v = 0; v <= ymax * (1 + 1e-9); v += step) {
		double py = y0 + PANEL_H - v / ymax * PANEL_H;

		rc |= buf_appendf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
		    "stroke=\"#e4e4e4\"/>\n", LEFT, W - RIGHT, py, py);
		rc |= buf_appendf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
		    "class=\"tick\">%g</text>\n", LEFT - 6, py + 4, v);
	}
	rc |= buf_appendf(b, "<text x=\"%d\" y=\"%.1f\" class=\"ptitle\">", LEFT + 6, y0 - 7);
	rc |= text(b, p->title);
	if (p->unit != NULL && p->unit[0] != '\0') {
		rc |= buf_appends(b, " (");
		rc |= text(b, p->unit);
		rc |= buf_appends(b, ")");
	}
	rc |= buf_appends(b, "</text>\n");
	/* The legend, right-aligned: each entry as wide as its label (about
	 * 6.5 px a character at 11 px), so short labels leave the title room. */
	double lx = W - RIGHT;

	for (unsigned s = 0; s < p->nseries; s++)
		lx -= legend_width(p->series[s].label);
	for (unsigned s = 0; s < p->nseries; lx += legend_width(p->series[s].label), s++) {

		rc |= series_path(b, c, &p->series[s], x0, xspan, y0, ymax);
		rc |= buf_appendf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
		    "stroke=\"%s\" stroke-width=\"3\"%s/>\n", lx, lx + 18, y0 - 11, y0 - 11,
		    p->series[s].color, p->series[s].dashed ? " stroke-dasharray=\"5 3\"" : "");
		rc |= buf_appendf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">", lx + 23,
		    y0 - 7);
		rc |= text(b, p->series[s].label);
		rc |= buf_appends(b, "</text>\n");
	}
	return rc;
}

int chart_svg(const struct chart *c, struct buf *out)
{
	double x0 = c->n ? c->x[0] : 0, x1 = c->n ? c->x[c->n - 1] : 1, xspan, xstep, bottom;
	int h = TOP + (int)c->npanels * (PANEL_H + GAP) + BOTTOM - GAP, rc = 0;

	/* Time axes read best from 0. */
	if (x0 > 0)
		x0 = 0;
	if (x1 <= x0)
		x1 = x0 + 1;
	xspan = x1 - x0;
	xstep = tick_step(xspan);
	bottom = TOP + (double)c->npanels * (PANEL_H + GAP) - GAP;
	rc |= buf_appendf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\">\n"
	    "<style>.tick{font-size:11px;fill:#555}.ptitle{font-size:13px;font-weight:bold;"
	    "fill:#222}.legend{font-size:12px;fill:#333}.mark{font-size:11px;fill:#666}"
	    "</style>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, h, W, h);
	rc |= buf_appendf(out, "<text x=\"%d\" y=\"22\" font-size=\"16\" font-weight=\"bold\">",
	    LEFT);
	rc |= text(out, c->title);
	rc |= buf_appends(out, "</text>\n");
	if (c->subtitle != NULL) {
		rc |= buf_appendf(out, "<text x=\"%d\" y=\"38\" font-size=\"12\" fill=\"#555\">",
		    LEFT);
		rc |= text(out, c->subtitle);
		rc |= buf_appends(out, "</text>\n");
	}
	for (unsigned i = 0; i < c->npanels; i++)
		rc |= panel(out, c, &c->panels[i], TOP + i * (PANEL_H + GAP) + 6, x0, xspan);
	for (double v = 0; v <= xspan * (1 + 1e-9); v += xstep) {
		double px = LEFT + v / xspan * (W - LEFT - RIGHT);

		rc |= buf_appendf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
		    "class=\"tick\">%g</text>\n", px, bottom + 22, x0 + v);
	}
	rc |= buf_appendf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" "
	    "class=\"tick\">", (LEFT + W - RIGHT) / 2, bottom + 40);
	rc |= text(out, c->x_label ? c->x_label : "");
	rc |= buf_appends(out, "</text>\n");
	for (unsigned i = 0; i < c->nmarks; i++) {
		double px = LEFT + (c->marks[i].x - x0) / xspan * (W - LEFT - RIGHT);

		if (px < LEFT || px > W - RIGHT)
			continue;
		rc |= buf_appendf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\" "
		    "stroke=\"#999\" stroke-dasharray=\"3 3\"/>\n", px, px, TOP + 6, bottom + 6);
		rc |= buf_appendf(out, "<text x=\"%.1f\" y=\"%d\" class=\"mark\">", px + 3,
		    TOP + 20);
		rc |= text(out, c->marks[i].label);
		rc |= buf_appends(out, "</text>\n");
	}
	rc |= buf_appends(out, "</svg>\n");
	return rc == 0 ? 0 : -1;
}
