/* The SVG chart writer: axis tops, escaping, gaps, steps, markers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/svgchart.h"

static void test_nice_max(void **state)
{
	static const struct {
		double in, out;
	} cases[] = {
		{ 0.7, 1 }, { 1, 1 }, { 1.2, 2 }, { 2.1, 2.5 }, { 3, 5 }, { 7, 10 },
		{ 63, 100 }, { 1800, 2000 }, { 0, 1 }, { -5, 1 }, { NAN, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%g\n", cases[i].in);
		assert_true(fabs(chart_nice_max(cases[i].in) - cases[i].out) < 1e-9);
	}
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_chart(void **state)
{
	double x[] = { 0, 1, 2, 3, 4 };
	double a[] = { 1, 2, NAN, 4, 5 };
	double b[] = { 1, 1, 2, 2, 3 };
	const struct chart_panel panels[] = {
		{ .title = "load <&>", .unit = "req/s", .nseries = 1,
		  .series = { { "a \"quoted\"", "#123456", a, false, false } } },
		{ .title = "pool", .unit = "", .ymax = 4, .nseries = 1,
		  .series = { { "size", "#654321", b, true, true } } },
	};
	const struct chart_mark marks[] = { { 2, "ramp" }, { 99, "outside" } };
	struct chart c = { .title = "t", .subtitle = "s", .x_label = "seconds", .x = x, .n = 5,
		.panels = panels, .npanels = 2, .marks = marks, .nmarks = 2 };
	struct buf out;
	const char *p;

	(void)state;
	buf_init(&out, 1 << 20);
	assert_int_equal(chart_svg(&c, &out), 0);
	assert_int_equal(buf_append(&out, "", 1), 0);
	assert_true(strncmp(out.p, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
	assert_non_null(strstr(out.p, "</svg>\n"));
	/* Text is escaped. */
	assert_non_null(strstr(out.p, "load &lt;&amp;&gt; (req/s)"));
	assert_non_null(strstr(out.p, "a &quot;quoted&quot;"));
	assert_null(strstr(out.p, "load <&>"));
	/* The NaN splits the first series into two runs: two moves. */
	p = strstr(out.p, "stroke=\"#123456\" stroke-width=\"1.8\"");
	assert_non_null(p);
	p = strstr(p, " d=\"");
	assert_int_equal(count(p, "M") - count(strstr(p, "\"/>"), "M"), 2);
	/* The step series draws horizontal-then-vertical and is dashed. */
	assert_non_null(strstr(out.p, "stroke=\"#654321\" stroke-width=\"1.8\" "
	    "stroke-dasharray=\"5 3\" d=\"M"));
	assert_true(count(out.p, "H") >= 4);
	/* A marker inside the range is drawn, one outside is not. */
	assert_non_null(strstr(out.p, ">ramp</text>"));
	assert_null(strstr(out.p, "outside"));
	/* The fixed ymax of 4 gives integer ticks. */
	assert_non_null(strstr(out.p, "class=\"tick\">4</text>"));
	assert_null(strstr(out.p, "class=\"tick\">0.8</text>"));
	buf_fini(&out);

	/* A full buffer is an error, not a truncated document. */
	buf_init(&out, 200);
	assert_int_equal(chart_svg(&c, &out), -1);
	buf_fini(&out);
}

/* One panel of one series: the path's d="..." (NUL-terminated in out). */
static const char *one_series_path(struct buf *out, const double *x, const double *y, size_t n)
{
	const struct chart_panel panel = { .title = "p", .nseries = 1,
		.series = { { "s", "#111111", y, false, false } } };
	struct chart c = { .title = "t", .x = x, .n = n, .panels = &panel, .npanels = 1 };

	assert_int_equal(chart_svg(&c, out), 0);
	assert_int_equal(buf_append(out, "", 1), 0);
	return strstr(out->p, "stroke=\"#111111\" stroke-width=\"1.8\" d=\"");
}

/* The plot area spans x 78..936 (LEFT to W - RIGHT) and, for the first
 * panel, y 62..212 (TOP + 6, plus PANEL_H 150). */
static void test_chart_clamps_and_axis_from_zero(void **state)
{
	static const double x1[] = { 0, 10 }, y1[] = { -1, 1 };
	static const double x2[] = { 100, 200 }, y2[] = { 1, 1 };
	struct buf out;
	const char *p;

	(void)state;
	/* A negative value sits on the axis, not below the panel: y = 212.
	 * The top is nice_max(1 x 1.05) = 2, so 1 is half way up: 212 - 75. */
	buf_init(&out, 1 << 20);
	p = one_series_path(&out, x1, y1, 2);
	assert_non_null(p);
	assert_non_null(strstr(p, "d=\"M78.0 212.0L936.0 137.0\""));
	buf_fini(&out);
	/* The time axis starts at 0 even when the data starts at 100: x = 100
	 * of 0..200 is half way, 78 + 858 / 2 = 507. */
	buf_init(&out, 1 << 20);
	p = one_series_path(&out, x2, y2, 2);
	assert_non_null(p);
	assert_non_null(strstr(p, "d=\"M507.0 "));
	buf_fini(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nice_max),
		cmocka_unit_test(test_chart),
		cmocka_unit_test(test_chart_clamps_and_axis_from_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
