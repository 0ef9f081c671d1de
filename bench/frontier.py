"""Cost–violations frontiers and comparisons at equal cost, for
bench/elasticity.py. Pure functions on (cost, violations) points: cost in
instance-hours, violations in % of requests.

A policy family (one policy, its main knob swept) reaches the points of its
runs. Its frontier is the lower convex hull of its Pareto set: any point on
a hull segment is reachable by running the two neighbouring configurations
for a share of the time each, so the hull is what the family can do at a
cost, the most favourable reading for it. Outside the costs it reached, the
frontier is flat: cheaper than its cheapest run, it is given that run's
violations (it cannot do better there); dearer than its dearest, that one's.
Both ends favour the peer, never poolscale."""


def pareto(points):
    """The points no other point beats on both cost and violations, by
    rising cost (and so falling violations)."""
    out = []
    for c, v in sorted(points):
        if out and c == out[-1][0]:
            continue            # same cost: the first (lowest violations) holds
        if not out or v < out[-1][1]:
            out.append((c, v))
    return out


def lower_hull(points):
    """The lower convex hull of the Pareto set, by rising cost."""
    hull = []
    for p in pareto(points):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            # drop the middle point when it lies on or above the chord
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) <= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    return hull


def violations_at(frontier, cost):
    """The frontier's violations at this cost (linear between its points,
    flat beyond its ends)."""
    if not frontier:
        raise ValueError("empty frontier")
    if cost <= frontier[0][0]:
        return frontier[0][1]
    if cost >= frontier[-1][0]:
        return frontier[-1][1]
    for (x1, y1), (x2, y2) in zip(frontier, frontier[1:]):
        if x1 <= cost <= x2:
            return y1 + (y2 - y1) * (cost - x1) / (x2 - x1)
    raise AssertionError("not reached")


def cost_at(frontier, viol):
    """The least cost at which the frontier's violations are at most viol
    (linear between its points); its dearest point's cost when it never gets
    that low, its cheapest when every point is below."""
    if not frontier:
        raise ValueError("empty frontier")
    if viol >= frontier[0][1]:
        return frontier[0][0]
    if viol <= frontier[-1][1]:
        return frontier[-1][0]
    for (x1, y1), (x2, y2) in zip(frontier, frontier[1:]):
        if y2 <= viol <= y1:
            return x1 + (x2 - x1) * (y1 - viol) / (y1 - y2)
    raise AssertionError("not reached")


def ratio(a, b, floor=1e-6):
    """a / b with b floored, so that a 0 at the frontier gives a large but
    finite ratio rather than a division by zero."""
    return a / max(b, floor)


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
