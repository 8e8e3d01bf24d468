"""Property: every parser of user input answers with a valid result or a clean error, never an
exception of another kind and never a number that is not finite."""

from __future__ import annotations

import contextlib
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.parse import parse_scenario
from surgeproof.scenario.plan import resolve
from surgeproof.scenario.units import (
    parse_duration,
    parse_latency_ms,
    parse_rate,
    parse_ratio,
    parse_scale,
)
from surgeproof.scenario.yamlfile import parse_yaml

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Text that looks like what people write: numbers (huge, tiny, negative, special) with units.
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "1e-400", "1e999999999", ".5", "5.", "0"]),
)
UNITS = st.sampled_from(["", "s", "ms", "m", "h", "/s", "/min", "/h", "%", "/24", "/0", ":3"])
WRITTEN = st.one_of(st.text(max_size=30), st.tuples(NUMBERS, UNITS).map("".join))
VALUES = st.one_of(
    WRITTEN,
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


@FAST
@given(VALUES)
def test_unit_parsers_give_a_finite_number_or_a_value_error(value):
    for parse in (parse_duration, parse_latency_ms, parse_rate, parse_ratio, parse_scale):
        try:
            result = parse(value)
        except ValueError:
            continue
        assert isinstance(result, float) and math.isfinite(result), (parse, value, result)


@FAST
@given(WRITTEN)
def test_a_scale_factor_is_positive(text):
    with contextlib.suppress(ValueError):
        assert parse_scale(text) > 0


SCALARS = st.one_of(
    st.none(), st.booleans(), NUMBERS, st.text(max_size=12),
    st.integers(min_value=-(10**40), max_value=10**40), st.floats(),
)  # fmt: skip
KEYS = st.sampled_from(
    ["name", "timeline", "search", "phase", "duration", "users", "ramp", "mix", "intensity",
     "retry", "max_attempts", "slos", "group", "p99", "start", "max", "step_factor", "hold",
     "resolution", "arrival_rate", "request_rate", "app_user", "market_watcher", "sell_bias"]
)  # fmt: skip
DOCS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(KEYS, SCALARS), inner, max_size=5)
    ),
    max_leaves=25,
)


@FAST
@given(st.dictionaries(KEYS, DOCS, max_size=6))
def test_any_document_is_a_scenario_or_a_scenario_error(doc):
    doc.setdefault("name", "x")
    try:
        scenario = parse_scenario(doc, "doc.yaml")
        plan = resolve(scenario)
    except ScenarioError as exc:
        assert "\n" not in str(exc)
        return
    assert math.isfinite(plan.duration_s)
    assert all(math.isfinite(p.users) for p in plan.program.phases)


@FAST
@given(st.text(alphabet="[]{}:,- \n'\"ab19.e&*!?|>#", max_size=200))
def test_any_text_is_yaml_or_a_scenario_error(text):
    try:
        parse_yaml(text, "t.yaml")
    except ScenarioError as exc:
        assert "\n" not in str(exc)


SANE = st.sampled_from([1, 10, 2.5, "30s", "1m", "5m", "100", "1h"])
AMOUNTS = st.one_of(
    SANE, SANE, SANE, st.integers(min_value=-(10**20), max_value=10**20), st.floats(), NUMBERS,
    st.tuples(NUMBERS, UNITS).map("".join), st.sampled_from(["peak", "peak * 1e999", "2 * peak"]),
)  # fmt: skip
PHASES = st.fixed_dictionaries(
    {"phase": st.sampled_from(["a", "b", "c"]), "duration": AMOUNTS, "users": AMOUNTS},
    optional={"ramp": AMOUNTS, "intensity": AMOUNTS, "arrival_rate": AMOUNTS,
              "request_rate": AMOUNTS, "retry": st.fixed_dictionaries(
                  {}, optional={"max_attempts": AMOUNTS, "backoff": AMOUNTS})},
)  # fmt: skip


@FAST
@given(
    st.lists(PHASES, min_size=1, max_size=3, unique_by=lambda p: p["phase"]),
    st.sampled_from([None, "upbit"]),
    st.one_of(st.sampled_from(["1", "1/24", "1/1000", "1000", "1e-9"]), WRITTEN),
)
def test_any_timeline_resolves_to_finite_numbers_or_a_scenario_error(phases, profile, scale):
    from surgeproof.scenario.catalog import load_profile

    doc = {"name": "x", "timeline": phases}
    try:
        scenario = parse_scenario(doc, "doc.yaml")
        factor = parse_scale(scale)
    except (ScenarioError, ValueError):
        return
    try:
        plan = resolve(scenario, load_profile(profile) if profile else None, factor, factor)
    except ScenarioError as exc:
        assert "\n" not in str(exc)
        return
    assert plan.duration_s <= 7 * 86_400
    for p in plan.program.phases:
        assert all(math.isfinite(v) for v in (p.start_s, p.ramp_end_s, p.end_s, p.users))
