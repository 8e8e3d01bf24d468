"""An SLO is judged on enough samples to claim a pass, or on a breach no missing sample undoes."""

from __future__ import annotations

from surgeproof.analysis import Judging
from surgeproof.analysis.groupstats import GroupStats
from surgeproof.analysis.slo import decides, evaluate
from surgeproof.scenario.model import Slo

ONE_PERCENT = Slo("*", "error_ratio", 0.01)
P99 = Slo("*", "p99", 500.0)


def stats(count: int, errors: int, p99: float = 10.0) -> GroupStats:
    return GroupStats(
        count=count,
        ok=count - errors,
        errors={"server_error": errors},
        error_ratio=errors / count if count else None,
        latency_ms={"p99": p99},
        service_ms={},
    )


def test_a_group_that_only_fails_breaks_an_error_ratio_before_the_tail_minimum():
    # 76 logins, every one refused: 100 calls would be needed to claim the 1% held, but no
    # 24 further successes could bring 76 errors under 1%.
    breaches, unjudged = evaluate(
        [ONE_PERCENT], {"login": stats(76, 76), "quotation": stats(400, 0)}, Judging()
    )
    assert [(b.group, b.value) for b in breaches] == [("login", 1.0)]
    assert unjudged == []


def test_one_error_alone_still_never_breaks_a_one_percent_limit():
    assert not decides(stats(40, 1), ONE_PERCENT, Judging())
    breaches, unjudged = evaluate([ONE_PERCENT], {"login": stats(40, 1)}, Judging())
    assert breaches == []
    assert unjudged == ["* error_ratio <= 0.01 on login (40 samples, needs 100)"]


def test_two_errors_are_a_certain_breach_of_one_percent_at_any_volume_below_the_minimum():
    assert decides(stats(50, 2), ONE_PERCENT, Judging())
    assert not decides(stats(50, 1), ONE_PERCENT, Judging())


def test_a_pass_still_needs_the_minimum_number_of_calls():
    assert not decides(stats(99, 0), ONE_PERCENT, Judging())
    assert decides(stats(100, 0), ONE_PERCENT, Judging())


def test_the_rule_scales_with_the_tail_setting():
    strict = Judging(tail_samples=5)  # 500 calls to claim 1%; a breach needs more than 5 errors
    assert not decides(stats(200, 5), ONE_PERCENT, strict)
    assert decides(stats(200, 6), ONE_PERCENT, strict)


def test_percentiles_below_their_minimum_stay_unjudged_whatever_they_show():
    # A p99 on 50 samples names no order statistic beyond its rank: not judged either way.
    assert not decides(stats(50, 0, p99=5_000.0), P99, Judging())
    breaches, unjudged = evaluate([P99], {"orders": stats(50, 0, p99=5_000.0)}, Judging())
    assert breaches == [] and len(unjudged) == 1
