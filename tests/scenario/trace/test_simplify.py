"""Simplification keeps the ends, the peak and the steepest rise, and honours the tolerance."""

from surgeproof.scenario.trace.simplify import mandatory_knots, polyline, simplify


def test_mandatory_knots_are_ends_peak_and_steepest_rise():
    values = [1, 2, 3, 10, 11, 30, 12, 4]
    assert mandatory_knots(values) == {0, 7, 5, 4}  # rise 11 → 30 ends at the peak


def test_every_sample_within_tolerance_when_the_budget_allows():
    values = [float((i * 37) % 11) for i in range(200)]
    knots = simplify(values, tolerance=2.0, max_segments=200)
    line = polyline(values, knots)
    assert max(abs(a - b) for a, b in zip(values, line, strict=True)) <= 2.0
    assert len(knots) < len(values)


def test_the_budget_caps_the_segments_but_not_the_mandatory_knots():
    values = [float((i * 37) % 11) for i in range(200)]
    knots = simplify(values, tolerance=0.0, max_segments=6)
    assert len(knots) - 1 <= 6
    assert mandatory_knots(values) <= set(knots)
