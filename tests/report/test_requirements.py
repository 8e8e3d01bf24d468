"""Gate flags read the way people type them; bad ones get a one-line error naming the flag."""

import pytest

from surgeproof.errors import UserError
from surgeproof.report.requirements import (
    collect,
    parse_ceiling,
    parse_error_ratio,
    parse_group_latency,
    parse_tolerance,
)
from surgeproof.scenario.model import Requirement, Scenario, Slo, UsersExpr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("peak*1.2", UsersExpr(1.2, "peak")),
        ("1.2 * peak", UsersExpr(1.2, "peak")),
        ("expanded", UsersExpr(1.0, "expanded")),
        ("600000", UsersExpr(600000.0)),
    ],
)
def test_ceiling_expressions(text, expected):
    assert parse_ceiling(text) == expected


def test_bad_ceiling_expression_names_the_flag():
    with pytest.raises(UserError, match=r"^--require-ceiling: expected"):
        parse_ceiling("peak**2")


def test_group_latency():
    assert parse_group_latency("login=800ms", "--max-p99") == Slo("login", "p99", 800.0)
    assert parse_group_latency("*=1.5s", "--max-p95") == Slo("*", "p95", 1500.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("login", "expected GROUP=LATENCY"),
        ("logn=800ms", "unknown group 'logn'"),
        ("login=fast", "'fast' is not a latency"),
        ("login=0ms", "must be positive"),
    ],
)
def test_bad_group_latency(text, message):
    with pytest.raises(UserError, match=message):
        parse_group_latency(text, "--max-p99")


def test_error_ratio_for_all_groups_or_one():
    assert parse_error_ratio("0.01") == Slo("*", "error_ratio", 0.01)
    assert parse_error_ratio("2%") == Slo("*", "error_ratio", 0.02)
    assert parse_error_ratio("orders=0.05") == Slo("orders", "error_ratio", 0.05)
    with pytest.raises(UserError, match="between 0 and 1"):
        parse_error_ratio("1.5")


def test_tolerance():
    assert parse_tolerance("5%") == pytest.approx(0.05)
    assert parse_tolerance("0.1") == pytest.approx(0.1)
    with pytest.raises(UserError, match="--tolerance lots"):
        parse_tolerance("lots")


def test_scenario_requirements_come_first_then_flags():
    scenario = Scenario(
        name="s",
        description="",
        slos=(Slo("login", "p99", 800.0),),
        requirements=(Requirement("peak", 1.2),),
    )
    reqs, slos = collect(
        scenario,
        ceilings=["expanded", "600000"],
        rules=["peak*1.1"],
        latencies=[("--max-p99", "orders=500ms")],
        error_ratios=["1%"],
    )
    assert [(c.requirement, c.origin) for c in reqs] == [
        (Requirement("peak", 1.2), "scenario"),
        (Requirement("expanded", 1.0), "--require-ceiling"),
        (Requirement(None, 600_000.0), "--require-ceiling"),
        (Requirement("peak", 1.1), "--require"),
    ]
    assert [(s.slo, s.origin) for s in slos] == [
        (Slo("login", "p99", 800.0), "scenario"),
        (Slo("orders", "p99", 500.0), "--max-p99"),
        (Slo("*", "error_ratio", 0.01), "--max-error-ratio"),
    ]
