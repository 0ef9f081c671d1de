"""The cost–violations frontiers as one SVG, a panel per trace, for
bench/elasticity.py (stdlib only). x: instance-hours; y: SLO violations in
% of requests on a log scale. Each family: its runs as dots and its
frontier (lower convex hull) as a line; poolscale's default config as a
large dot."""

import math

import frontier as fr

COLOURS = {
    "target": "#1f77b4", "seed-step": "#8c564b", "aws-target": "#ff7f0e",
    "aws-target-req": "#d62728", "hpa": "#2ca02c", "hpa-ext": "#17becf",
    "aws-predictive": "#e377c2", "fixed": "#7f7f7f", "oracle": "#000000",
}
PW, PH, ML, MR, MT, MB = 460, 300, 62, 12, 28, 40


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;")


def panel(out, x0, y0, title, fams, dflt, n):
    # the x range of the autoscalers: a fixed pool's dearest sizes would
    # squeeze them into a corner, so its line is clipped to the panel
    allp = [(h, v) for f, ps in fams.items() if f != "fixed" for _, h, v in ps] + [dflt]
    hs = [h for h, _ in allp]
    vs = [max(v, 1e-4) for _, v in allp]
    xmin, xmax = min(hs) * 0.95, max(hs) * 1.05
    lmin, lmax = math.floor(math.log10(min(vs))), math.ceil(math.log10(max(vs)))
    if lmax == lmin:
        lmax += 1

    def X(h):
        return x0 + ML + (h - xmin) / (xmax - xmin) * (PW - ML - MR)

    def Y(v):
        lv = min(max(math.log10(max(v, 1e-4)), lmin - 0.5), lmax + 0.5)
        return y0 + MT + (lmax - lv) / (lmax - lmin) * (PH - MT - MB)

    out.append(f'<clipPath id="p{n}"><rect x="{x0 + ML}" y="{y0 + MT}" '
               f'width="{PW - ML - MR}" height="{PH - MT - MB}"/></clipPath>')
    out.append(f'<text x="{x0 + PW / 2}" y="{y0 + 16}" text-anchor="middle" '
               f'font-weight="bold">{esc(title)}</text>')
    out.append(f'<rect x="{x0 + ML}" y="{y0 + MT}" width="{PW - ML - MR}" '
               f'height="{PH - MT - MB}" fill="none" stroke="#999"/>')
    for e in range(lmin, lmax + 1):
        y = Y(10 ** e)
        out.append(f'<line x1="{x0 + ML}" x2="{x0 + PW - MR}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#eee"/>')
        out.append(f'<text x="{x0 + ML - 4}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{10 ** e:g}%</text>')
    for k in range(5):
        h = xmin + (xmax - xmin) * k / 4
        out.append(f'<text x="{X(h):.1f}" y="{y0 + PH - MB + 14}" text-anchor="middle">'
                   f'{h:.0f}</text>')
    out.append(f'<text x="{x0 + ML + (PW - ML - MR) / 2}" y="{y0 + PH - 8}" '
               f'text-anchor="middle">instance-hours</text>')
    out.append(f'<g clip-path="url(#p{n})">')
    for fam, ps in fams.items():
        c = COLOURS.get(fam, "#bcbd22")
        hull = fr.lower_hull([(h, v) for _, h, v in ps])
        pts = " ".join(f"{X(h):.1f},{Y(v):.1f}" for h, v in hull)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.5"/>')
        for _, h, v in ps:
            out.append(f'<circle cx="{X(h):.1f}" cy="{Y(v):.1f}" r="2.5" fill="{c}"/>')
    out.append("</g>")
    out.append(f'<circle cx="{X(dflt[0]):.1f}" cy="{Y(dflt[1]):.1f}" r="6" fill="none" '
               f'stroke="{COLOURS["target"]}" stroke-width="2.5"/>')


def write(path, pts, peers):
    traces = sorted(pts)
    cols = 2
    rows = (len(traces) + cols - 1) // cols
    fams_order = ["target"] + peers + ["fixed", "oracle"]
    w, h = cols * PW, rows * PH + 50
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    for i, t in enumerate(traces):
        fams = {f: pts[t][f] for f in fams_order if f in pts[t]}
        (_, h0, v0), = pts[t]["poolscale"]
        panel(out, (i % cols) * PW, (i // cols) * PH, t, fams, (h0, v0), i)
    x = 10
    for f in fams_order + ["poolscale default"]:
        c = COLOURS.get(f, COLOURS["target"])
        y = rows * PH + 25
        if f == "poolscale default":
            out.append(f'<circle cx="{x + 6}" cy="{y - 4}" r="6" fill="none" stroke="{c}" '
                       f'stroke-width="2.5"/>')
        else:
            out.append(f'<line x1="{x}" x2="{x + 14}" y1="{y - 4}" y2="{y - 4}" stroke="{c}" '
                       f'stroke-width="2"/>')
        out.append(f'<text x="{x + 18}" y="{y}">{esc(f)}</text>')
        x += 24 + 7 * len(f)
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    import json
    import sys

    if len(sys.argv) != 3:
        sys.exit("usage: chart.py POINTS.json OUT.svg (POINTS from elasticity.py --save)")
    with open(sys.argv[1]) as f:
        d = json.load(f)
    write(sys.argv[2], d["points"], d["peers"])
