"""Availability: the share of seconds in which a group answered every call within a latency."""

from __future__ import annotations

import re

import numpy as np
import pytest

from surgeproof.analysis.builder import Measured, build_analysis
from surgeproof.analysis.generator import GeneratorTolerance
from surgeproof.analysis.holds import slo_holds
from surgeproof.analysis.judging import Judging
from surgeproof.analysis.levels import LevelVerdict, judge_samples
from surgeproof.analysis.samples import Samples
from surgeproof.analysis.scale import Scale
from surgeproof.load.live_metrics import latency_buckets
from surgeproof.report.gate import judge_slo
from surgeproof.report.requirements import SloRequirement
from surgeproof.rundir.schema import Kind, Outcome
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.parse import parse_scenario
from surgeproof.scenario.slos import kind_of

NS = 1_000_000_000
T0 = 1_700_000_000 * NS


def scenario_slos(entry: dict) -> tuple:
    doc = {"name": "a", "slos": [entry], "timeline": [{"phase": "p", "duration": 60, "users": 1}]}
    return parse_scenario(doc, "x.yaml").slos


AVAILABILITY = scenario_slos({"group": "orders", "availability": "99% within 500ms"})[0]


def test_a_scenario_states_a_share_of_seconds_and_the_latency_that_counts_as_answered():
    [slo] = scenario_slos({"group": "orders", "availability": "99.9% within 2s"})
    assert (slo.group, slo.metric, slo.option("within_ms")) == ("orders", "availability", 2000.0)
    assert slo.limit == pytest.approx(0.999)
    assert str(slo) == "orders availability >= 0.999 within 2000 ms"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("99.9%", "slos[0].availability: expected a share of seconds and a latency, like"),
        (0.999, "slos[0].availability: expected a share of seconds and a latency"),
        ("150% within 1s", "slos[0].availability: expected a ratio between 0 and 1"),
        ("99% within soon", "slos[0].availability: expected a latency like 800ms or 1.5s"),
    ],
)
def test_a_malformed_objective_is_one_line_naming_the_field(value, message):
    with pytest.raises(ScenarioError, match=re.escape(message)):
        scenario_slos({"group": "orders", "availability": value})


def orders_calls(seconds: int, slow: set[int], failed: frozenset[int] = frozenset()) -> Samples:
    """Two orders calls a second for ``seconds`` s: 100 ms, except one of 900 ms in each second
    of ``slow`` and a 503 in each of ``failed``."""
    n = 2 * seconds
    second = np.arange(n) // 2
    intended = T0 + second * NS + (np.arange(n) % 2) * (NS // 2)
    latency = np.where(np.isin(second, list(slow)) & (np.arange(n) % 2 == 1), 900, 100)
    outcome = np.where(np.isin(second, list(failed)), Outcome.SERVER_ERROR, Outcome.OK)
    return Samples(
        intended_ns=intended.astype(np.int64),
        sent_ns=intended.astype(np.int64),
        end_ns=(intended + latency * 1_000_000).astype(np.int64),
        group=np.zeros(n, dtype=np.int16),
        outcome=outcome.astype(np.uint8),
        kind=np.full(n, Kind.HTTP, dtype=np.uint8),
        flags=np.zeros(n, dtype=np.uint8),
        concurrency=np.full(n, 2, dtype=np.uint32),
        groups=["orders"],
    )


def judge(seconds: int, slow: set[int], failed: frozenset[int] = frozenset()):
    window = orders_calls(seconds, slow, failed)
    return judge_samples(window, [], T0, T0 + seconds * NS, [AVAILABILITY], target_users=2)


def test_a_level_holds_while_its_down_seconds_stay_within_the_objective():
    v = judge(150, {40})  # 149 of 150 seconds answered within 500 ms: 99.3%
    assert v.breaches == [] and v.unjudged == []
    assert v.groups["orders"].seconds.judged == 150


def test_slow_and_failing_seconds_are_down_and_break_it():
    v = judge(150, {40}, frozenset({90}))  # 148 of 150: 98.7% < 99%
    [breach] = v.breaches
    assert breach.value == pytest.approx(148 / 150)
    assert breach.describe() == (
        "orders availability 98.67% < 99.00% (seconds answered within 500 ms)"
    )
    assert breach.first_s == 40.0  # the first second that was down
    assert v.verdict == "fail"


def test_a_pass_needs_one_over_the_allowed_share_of_seconds_a_certain_breach_does_not():
    # 99% needs 100 seconds to claim; in 60, one down second proves nothing either way ...
    assert judge(60, {5}).unjudged == [
        "orders availability >= 0.99 within 500 ms on orders (60 samples, needs 100)"
    ]
    # ... but two are more than 1% of the 100 the claim needs, whatever the other 40 would show.
    assert [b.group for b in judge(60, {5, 6}).breaches] == ["orders"]


#: A run whose series has no windows (the gate reads the levels).
NO_SERIES = {
    "window_s": 1.0,
    **{
        column: []
        for column in ("t_s", "start_ns", "offered_users", "active_users", "offered_rps",
                       "achieved_rps", "ok_rps", "error_ratio", "cpu_max_percent", "breach")
    },
    "errors": {},
    "groups": {},
}  # fmt: skip


NO_INCIDENTS = {
    "breach_windows": [],
    "total_breach_s": 0.0,
    "orders": {"submitted": 0, "failed": 0, "timed_out": 0, "by_cause": {}},
    "stalls": [],
}


NO_LEDGER = {
    "available": False,
    "lost_acknowledged_orders": None,
    "acknowledged_orders": None,
    "balances_conserved": None,
    "passed": None,
    "details": {},
    "note": "no ledger",
}


def _analysis_of(level: LevelVerdict) -> dict:
    """The whole analysis.json of one judged level (the builder writes it through its contract)."""
    return build_analysis(
        Measured(
            input={
                "kind": "run_dir", "path": "r", "run_id": "r", "run_status": "complete",
                "scenario_name": None, "profile_name": None, "load_model": "open",
                "t0_ns": T0, "first_ns": T0, "last_ns": level.end_ns, "duration_s": 150.0,
                "records": {"total": 1, "per_source": {}, "counted": 1, "missed": 0,
                            "cancelled": 0},
                "window_s": 1.0,
            },
            scale=Scale(), slos=(AVAILABILITY,), slo_source="scenario", requirements=(),
            requirement_source="none", profile=None, profile_source="none",
            tolerance=GeneratorTolerance(), judging=Judging(), window_s=1.0,
            window_min_samples=5, closed_model=False, levels=[level], timeseries=NO_SERIES,
            overall={"groups": {}}, incidents=NO_INCIDENTS,
            reconciliation=NO_LEDGER,
            data_quality={"partial": False, "partial_reason": None, "damage": [],
                          "precision": "exact", "precision_notes": [], "caveats": []},
            generator={"late_ratio": None, "missed": 0, "cpu_max_percent": None, "sources": {},
                       "lost_workers": []},
        )
    )  # fmt: skip


def test_the_gate_judges_it_from_analysis_json_as_the_analysis_did():
    level = judge(150, {40}, frozenset({90}))
    level.label = "step-1"
    analysis = _analysis_of(level)
    assert analysis["levels"][0]["verdict"] == "fail"
    held = slo_holds(analysis, AVAILABILITY)
    assert (held.passed, held.value) == (False, pytest.approx(148 / 150))
    check = judge_slo(analysis, SloRequirement(AVAILABILITY, "scenario"), up_to_real=None)
    assert check.kind == "availability" and not check.passed
    assert check.message.startswith("measured 0.9867 (98.67% of seconds) in window step-1")
    assert check.limit == ">= 0.99 (99.00%) of seconds answered within 500 ms"


def test_series_windows_without_a_breakdown_count_as_one_second_each():
    columns = {
        "count": np.array([3, 0, 2, 4]),
        "error_ratio": np.array([0.0, np.nan, 0.5, 0.0]),
        "max_ms": np.array([120.0, np.nan, 100.0, 700.0]),
    }
    values = kind_of(AVAILABILITY).series(AVAILABILITY, columns)
    np.testing.assert_array_equal(values, [1.0, np.nan, 0.0, 0.0])


def test_the_live_histogram_has_the_latency_as_an_exact_bound():
    assert 0.5 in latency_buckets([AVAILABILITY])
