"""bench/frontier.py, the cost–violations frontier of bench/elasticity.sh,
on hand-made points: the Pareto set, its lower convex hull, and the
interpolation at equal cost and at equal violations (flat beyond the ends,
the reading that favours the peer)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import frontier as fr  # noqa: E402


def test_pareto_drops_dominated_points():
    pts = [(10, 5.0), (12, 6.0), (20, 1.0), (15, 3.0), (15, 2.5), (30, 1.0), (40, 0.5)]
    # (12, 6) is dearer and worse than (10, 5); (15, 3) ties on cost with a
    # better point; (30, 1) costs more for the same as (20, 1)
    assert fr.pareto(pts) == [(10, 5.0), (15, 2.5), (20, 1.0), (40, 0.5)]


def test_lower_hull_drops_points_above_the_chord():
    # (15, 4) lies above the chord from (10, 5) to (20, 1): mixing those two
    # configurations does better at 15, so it leaves the frontier
    pts = [(10, 5.0), (15, 4.0), (20, 1.0), (40, 0.5)]
    assert fr.lower_hull(pts) == [(10, 5.0), (20, 1.0), (40, 0.5)]
    # a point on the chord is not needed either
    assert fr.lower_hull([(0, 2.0), (1, 1.0), (2, 0.0)]) == [(0, 2.0), (2, 0.0)]
    assert fr.lower_hull([(5, 1.0)]) == [(5, 1.0)]


def test_violations_at_equal_cost():
    f = fr.lower_hull([(10, 5.0), (20, 1.0), (40, 0.5)])
    assert fr.violations_at(f, 10) == 5.0
    assert fr.violations_at(f, 15) == pytest.approx(3.0)
    assert fr.violations_at(f, 30) == pytest.approx(0.75)
    # beyond the ends: flat, the peer's own best there
    assert fr.violations_at(f, 5) == 5.0
    assert fr.violations_at(f, 100) == 0.5


def test_cost_at_equal_violations():
    f = fr.lower_hull([(10, 5.0), (20, 1.0), (40, 0.5)])
    assert fr.cost_at(f, 3.0) == pytest.approx(15)
    assert fr.cost_at(f, 0.75) == pytest.approx(30)
    assert fr.cost_at(f, 9.0) == 10     # any config meets it: the cheapest
    assert fr.cost_at(f, 0.1) == 40     # none does: the dearest


def test_ratio_and_median():
    assert fr.ratio(1.0, 4.0) == 0.25
    assert fr.ratio(1.0, 0.0) == 1e6    # a zero frontier: large, finite
    assert fr.median([3, 1, 2]) == 2
    assert fr.median([4, 1, 3, 2]) == 2.5
