"""A trace becomes phases that follow it: round trip, peak minute, steepest rise, mixes."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from surgeproof.scenario import load_scenario, resolve
from surgeproof.scenario.trace import Trace, build_scenario
from surgeproof.scenario.trace.build import Options
from surgeproof.scenario.trace.series import KST
from surgeproof.scenario.trace.shape import KINDS
from surgeproof.scenario.trace.target import Target

#: Stated round-trip tolerance: every minute within 10% of the baseline→peak range (the default
#: simplification tolerance), peak minute and largest one-minute rise kept exactly.
TOLERANCE = 0.10


def _synthetic() -> list[float]:
    """Quiet evening, a 6-minute shock with one steep minute, a spike, a plateau, a decay."""
    curve = [100.0 + (i % 3) for i in range(40)]
    curve += [150, 250, 700, 800, 850, 900]  # steepest rise: 250 → 700 at minute 42
    curve += [1000, 880]  # the peak minute, 46
    curve += [600 + 5 * (i % 4) for i in range(40)]  # rebound plateau
    curve += [600 - 10 * i for i in range(30)]  # decay
    return curve


def _trace(values: list[float]) -> Trace:
    start = datetime(2024, 12, 3, 13, 0, tzinfo=UTC)
    return Trace("synthetic.csv", start, 60.0, tuple(values), "UTC (test)")


def _options(**kw) -> Options:
    return Options(name="synthetic", baseline_to=Target(1000), peak_to=Target(10_000), **kw)


def test_round_trip_through_the_written_file_stays_within_tolerance(tmp_path):
    values = _synthetic()
    result = build_scenario(_trace(values), _options())
    path = tmp_path / "synthetic.yaml"
    path.write_text(result.yaml_text)
    plan = resolve(load_scenario(path))
    # baseline (median of the first 30 min = 101) → 1000 users, peak 1000 → 10,000 users
    expected = [1000 + (v - 101) * 9000 / (1000 - 101) for v in values]
    planned = [plan.program.target_users(120 + 60 * i) for i in range(len(values))]
    worst = max(abs(p - e) for p, e in zip(planned, expected, strict=True))
    assert worst <= TOLERANCE * 9000
    assert planned.index(max(planned)) == values.index(max(values)) == 46
    rises = [b - a for a, b in itertools.pairwise(planned)]
    assert rises.index(max(rises)) == 41  # the rise into minute 42
    assert max(rises) == pytest.approx(expected[42] - expected[41], rel=1e-3)
    assert result.max_departure == pytest.approx(worst, rel=1e-3, abs=1)


def test_the_plan_lasts_as_long_as_the_trace_plus_warm_up():
    values = _synthetic()
    result = build_scenario(_trace(values), _options())
    assert result.plan.duration_s == pytest.approx(120 + 60 * len(values))
    assert result.plan.scenario.clock_start == "2024-12-03T21:58:00+09:00"


def test_rising_edges_get_the_shock_mix_and_plateaus_the_rebound_mix():
    result = build_scenario(_trace(_synthetic()), _options())
    by_clock = {p.name: p for p in result.plan.program.phases}
    shock = [p for name, p in by_clock.items() if name.startswith("shock")]
    rebound = [p for name, p in by_clock.items() if name.startswith("rebound")]
    assert shock and rebound
    assert all(p.mix == KINDS["shock"].mix and p.retry for p in shock)
    assert all(p.mix == KINDS["rebound"].mix for p in rebound)
    # the phase that climbs to the peak is a shock
    top = max(result.plan.program.phases, key=lambda p: p.users)
    assert top.name.startswith("shock")


def test_a_kind_s_mix_can_be_overridden():
    kinds = dict(KINDS)
    kinds["shock"] = KINDS["shock"].__class__("shock", {"app_user": 1.0}, 2.0, 0.9, False)
    result = build_scenario(_trace(_synthetic()), _options(kinds=kinds))
    shock = [p for p in result.plan.program.phases if p.name.startswith("shock")]
    assert shock and all(p.mix == {"app_user": 1.0} and p.intensity == 2.0 for p in shock)


def test_fewer_phases_allowed_means_a_larger_reported_departure():
    values = _synthetic()
    fine = build_scenario(_trace(values), _options(max_phases=40, tolerance=0.01))
    coarse = build_scenario(_trace(values), _options(max_phases=4, tolerance=0.01))
    assert len(coarse.plan.program.phases) < len(fine.plan.program.phases)
    assert coarse.rms_departure > fine.rms_departure
    # the peak survives any budget
    assert coarse.planned.index(max(coarse.planned)) == 46


def test_a_flat_trace_is_refused():
    from surgeproof.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="no surge"):
        build_scenario(_trace([5.0] * 60), _options())


def test_the_shipped_trace_scenario_peaks_at_22_37_kst_uncompressed():
    plan = resolve(load_scenario("martial-law-2024-12-03-trace"))
    minutes = int(plan.duration_s // 60)
    per_minute = [plan.program.target_users(60 * m) for m in range(minutes)]
    peak_minute = per_minute.index(max(per_minute))
    at = plan.clock_time(60 * peak_minute).astimezone(KST)
    assert at.strftime("%Y-%m-%d %H:%M") == "2024-12-03 22:37"
    assert max(per_minute) == pytest.approx(540_000)


def test_the_shipped_trace_scenario_resolves_small_for_a_short_run():
    plan = resolve(load_scenario("martial-law-2024-12-03-trace"), None, 1 / 240, 1 / 10_000)
    assert plan.duration_s < 60
    assert max(p.users for p in plan.program.phases) == pytest.approx(54)
    assert plan.clock_time(0) == datetime(2024, 12, 3, 21, 58, tzinfo=KST) - timedelta(0)
