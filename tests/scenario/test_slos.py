"""SLO kinds: one list, found in their files; each kind answers everything its callers ask."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import Slo
from surgeproof.scenario.slos import KINDS, METRICS, SloKind, kind_named, kind_of
from surgeproof.scenario.slos.percentile import PERCENTILES


@dataclass
class Seconds:
    judged: int
    ups: dict[float, int] = field(default_factory=dict)

    def up(self, bound_ms: float) -> int:
        return self.ups[bound_ms]


@dataclass
class Figures:
    count: int = 400
    errors: dict[str, int] = field(default_factory=lambda: {"server_error": 4})
    error_ratio: float | None = 0.01
    latency_ms: dict[str, float | None] = field(
        default_factory=lambda: {k: 100.0 * (i + 1) for i, (k, _) in enumerate(PERCENTILES)}
    )
    seconds: Seconds | None = None


def an_slo(kind: SloKind, metric: str) -> Slo:
    """An SLO of ``kind`` on ``metric`` with the limit of the example its parse errors show."""
    value = kind.example.strip("{}").split(",", 1)[1].split(":", 1)[1].strip()
    return kind.parse("orders", metric, Field("test.yaml", f"slos[0].{metric}", value))


def test_the_kinds_are_found_in_their_files_and_every_metric_has_one_kind():
    assert {k.name for k in KINDS} >= {"latency", "error_ratio"}
    assert len(METRICS) == len(set(METRICS)) == sum(len(k.metrics) for k in KINDS)
    assert METRICS[:7] == ("p50", "p90", "p95", "p99", "p99.9", "max", "error_ratio")
    for kind in KINDS:
        assert kind_named(kind.name) is kind
        assert all(kind_of(m) is kind for m in kind.metrics)


def test_an_unknown_metric_has_no_kind():
    with pytest.raises(KeyError):
        kind_of("p42")
    with pytest.raises(KeyError):
        kind_named("throughput")


@pytest.mark.parametrize(
    ("kind", "metric"),
    [(k, m) for k in KINDS for m in k.metrics],
    ids=[m for k in KINDS for m in k.metrics],
)
def test_every_kind_answers_every_question_its_callers_ask(kind, metric):
    slo = an_slo(kind, metric)
    assert slo.metric == metric and kind_of(slo) is kind
    assert str(slo).startswith(f"orders {metric} ")
    stats = Figures(seconds=Seconds(300, {b: 297 for b in kind.second_bounds(slo)}))
    value = kind.value(slo, stats)
    assert value is not None and math.isfinite(value)
    assert kind.samples(slo, stats) > 0 and kind.samples(slo, None) == 0
    assert kind.samples_needed(slo, 20, 1) >= 20
    assert isinstance(kind.certain_breach(slo, stats, 10_000), bool)
    # The direction: a value far past the limit breaks it, the limit itself does not.
    worse = slo.limit * 10 if kind.upper_limit else 0.0
    assert kind.breaks(slo, worse) and not kind.breaks(slo, slo.limit)
    assert kind.excess(slo, worse) > 1 >= kind.excess(slo, slo.limit) - 1e-9
    assert not kind.breaks(slo, np.array([np.nan])).any()
    assert kind.describe("orders", slo, worse).startswith(f"orders {metric} ")
    assert kind.format_value(slo, value) and kind.format_limit(slo)
    name, _, labels = kind.gauge
    assert name.startswith("surgeproof_slo_")
    sample_labels, _ = kind.gauge_sample(slo)
    assert len(sample_labels) == len(labels)
    assert kind.unit


def test_slo_texts_are_the_ones_reports_and_breaches_have_always_named():
    assert str(Slo("orders", "p99", 800.0)) == "orders p99 <= 800 ms"
    assert str(Slo("*", "error_ratio", 0.01)) == "* error_ratio <= 0.01"


@pytest.mark.parametrize("tail", [1, 2, 3, 7])
def test_percentile_tail_minimums_are_one_over_the_share_beyond_the_rank(tail):
    # p99.9 on tail 1: 1,000 samples (not 1,001 from 100 / 0.0999999...); max needs no tail.
    need = {m: kind_of(m).samples_needed(Slo("*", m, 1.0), 20, tail) for m in METRICS[:6]}
    expected = {"p50": 2, "p90": 10, "p95": 20, "p99": 100, "p99.9": 1000, "max": 0}
    assert need == {m: max(20, tail * n) for m, n in expected.items()}


def test_an_error_ratio_limit_needs_one_over_the_limit_calls():
    kind = kind_of("error_ratio")
    assert kind.samples_needed(Slo("*", "error_ratio", 0.01), 20, 1) == 100
    assert kind.samples_needed(Slo("*", "error_ratio", 0.0), 20, 1) == 20
