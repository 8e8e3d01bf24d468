"""Requirement kinds: one list, found in their files; how requirements are written and read back."""

from __future__ import annotations

import re

import pytest

from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import CapacityProfile, ReferenceFigure, Requirement
from surgeproof.scenario.requirements import (
    KINDS,
    NAMES,
    OBJECTIVES,
    Evidence,
    Recovery,
    from_settings,
    kind_of,
    parse_requirement,
    settings_of,
)

UPBIT = CapacityProfile(
    "upbit",
    "Upbit",
    {"peak": ReferenceFigure("peak", 540_000, "concurrent users", "3 Dec", "FSS, 6 Feb 2025")},
)


def parse(value: object) -> Requirement:
    return parse_requirement(Field("x.yaml", "requirements[0]", value))


def evidence(**changes: object) -> Evidence:
    """A run that held 600,000 real users at 1,200 req/s and failed at 700,000."""
    base = {
        "profile": UPBIT,
        "real_words": "real users",
        "scale_statement": "1 simulated user = 10,000 real users",
        "ceiling_status": "bracketed",
        "ceiling_statement": "held 60; failed at 70",
        "ceiling_real": 600_000.0,
        "first_fail_real": 700_000.0,
        "failed_first": "* p99 <= 500 ms",
        "generator_bound": False,
        "top_conclusive_real": 700_000.0,
        "lowest_fail_real": 700_000.0,
        "ceiling_rps_real": 1_200.0,
        "first_fail_rps_real": 1_350.0,
        "peak_load_real": 500_000.0,
        "peak_load_is_probe": False,
        "recovery": Recovery(faults=1, worst_s=90.0, worst="target down at t=60 s"),
    }
    return Evidence(**{**base, **changes})


def test_the_kinds_are_found_in_their_files_the_ceiling_first():
    assert NAMES[0] == "ceiling" and len(set(NAMES)) == len(NAMES) == len(KINDS)
    for kind in KINDS:
        assert kind_of(kind.name) is kind
        assert kind.rule and kind.source and kind.example


@pytest.mark.parametrize(
    "written",
    [
        "peak * 1.2",
        "1.2*peak",
        "ceiling >= peak * 1.2",
        "ceiling: peak * 1.2",
        {"ceiling": "1.2 * peak"},
    ],
)
def test_a_bare_figure_expression_is_the_ceiling_kind(written):
    assert parse(written) == Requirement("peak", 1.2)


def test_an_unknown_rule_is_one_line_naming_the_field_and_the_known_ones():
    with pytest.raises(ScenarioError) as e:
        parse("basel: 3")
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith("x.yaml: requirements[0]: unknown requirement 'basel'; known: ")
    assert all(name in message for name in NAMES)
    with pytest.raises(ScenarioError, match=re.escape("requirements[0]: expected one rule")):
        parse({"ceiling": "peak", "sebi": "peak"})


@pytest.mark.parametrize("kind", KINDS, ids=NAMES)
def test_every_kind_reads_back_what_it_writes_and_judges_with_its_source(kind):
    example = kind.example if kind is KINDS[0] else f"{kind.name}: {kind.example.split(':', 1)[1]}"
    req = parse(example)
    assert kind_of(req) is kind
    assert parse(str(req)) == req
    assert from_settings(settings_of(req)) == req
    judged = kind.judge(req, evidence())
    assert judged.status in ("pass", "fail", "inconclusive", "not_applicable")
    assert judged.name and judged.reason and (judged.source or kind.source)


def test_a_figure_the_input_cannot_look_up_makes_it_unusable_not_an_error():
    req = Requirement("expanded", 1.0)
    judged = kind_of(req).judge(req, evidence())
    assert judged.status == "unusable"
    assert judged.note == "profile 'upbit' has no figure 'expanded' (figures: peak)"
    judged = kind_of(req).judge(req, evidence(profile=None))
    assert judged.note == "no capacity profile to look figure 'expanded' up in"


# -- a scenario's objectives: ------------------------------------------------------------------

BCP_SCENARIO = """\
name: drill
requirements: ["peak * 1.2"]
objectives: {rto: 5m, orders-lost: 0, sessions-restored: 2m}
timeline: [{phase: hold, duration: 60s, users: 10, mix: {market_watcher: 1.0}}]
"""


def test_objectives_are_requirement_kinds_judged_after_the_requirements():
    from surgeproof.scenario.parse import parse_scenario
    from surgeproof.scenario.yamlfile import parse_yaml

    scenario = parse_scenario(parse_yaml(BCP_SCENARIO, "s.yaml"), "s.yaml")
    assert [str(r) for r in scenario.requirements] == [
        "peak * 1.2",
        "rto: 5m",
        "orders-lost: 0",
        "sessions-restored: 2m",
    ]
    assert OBJECTIVES == ("rto", "orders-lost", "sessions-restored")


@pytest.mark.parametrize(
    ("objectives", "message"),
    [
        (
            "{order-lost: 0}",
            "s.yaml: objectives.order-lost: unknown objective 'order-lost'; known: rto, "
            "orders-lost, sessions-restored",
        ),
        (
            "{sebi: peak}",
            "s.yaml: objectives.sebi: unknown objective 'sebi'; known: rto, orders-lost, "
            "sessions-restored ('sebi' is a requirement: list it under requirements:)",
        ),
        (
            "[rto: 5m]",
            "s.yaml: objectives: expected a mapping of objectives like {rto: 2h, orders-lost: 0, "
            "sessions-restored: 2m}, got a list",
        ),
        ("{rto: soon}", "s.yaml: objectives.rto: expected a duration"),
    ],
)
def test_an_unknown_or_malformed_objective_is_one_line(objectives, message):
    from surgeproof.scenario.parse import parse_scenario
    from surgeproof.scenario.yamlfile import parse_yaml

    text = BCP_SCENARIO.replace("{rto: 5m, orders-lost: 0, sessions-restored: 2m}", objectives)
    with pytest.raises(ScenarioError) as e:
        parse_scenario(parse_yaml(text, "s.yaml"), "s.yaml")
    assert "\n" not in str(e.value) and str(e.value).startswith(message)
