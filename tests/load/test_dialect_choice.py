"""Which dialect a run speaks: --dialect, the scenario's, the profile's, the target's, Upbit."""

from __future__ import annotations

import pytest

from surgeproof.dialect.catalog import load_dialect
from surgeproof.errors import UserError
from surgeproof.load.dialect_choice import (
    choose_dialect,
    embedded_dialect_arg,
    ws_url_for,
)
from surgeproof.scenario.catalog import load_profile, load_scenario
from surgeproof.scenario.plan import resolve


def plan(profile: str | None = None, scenario: str = "martial-law-2024-12-03"):
    return resolve(load_scenario(scenario), load_profile(profile) if profile else None, 1, 1)


def test_the_strongest_statement_wins():
    assert choose_dialect("bithumb", plan("coinone"), "upbit").chosen_by == "--dialect"
    c = choose_dialect(None, plan("coinone"), "bithumb")
    assert (c.dialect.name, c.chosen_by) == ("coinone", "profile coinone")
    c = choose_dialect(None, plan(), "bithumb")  # the night's own profile is upbit's
    assert (c.dialect.name, c.chosen_by) == ("upbit", "profile upbit")


def test_without_a_profile_the_target_decides_else_upbit(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\ntimeline:\n  - {phase: a, duration: 2s, users: 1}\n")
    bare = resolve(load_scenario(scenario), None, 1, 1)
    c = choose_dialect(None, bare, "bithumb")
    assert (c.dialect.name, c.chosen_by) == ("bithumb", "the target")
    c = choose_dialect(None, bare, None)
    assert (c.dialect.name, c.chosen_by) == ("upbit", "default")


def test_a_scenario_names_a_dialect_file_beside_it(tmp_path):
    (tmp_path / "mine.yaml").write_text("name: mine\nextends: coinone\n")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\ndialect: mine.yaml\ntimeline:\n  - {phase: a, duration: 2s, users: 1}\n"
    )
    c = choose_dialect(None, resolve(load_scenario(scenario), None, 1, 1), None)
    assert (c.dialect.name, c.chosen_by, c.builtin) == ("mine", "the scenario", False)
    assert c.meta()["sha256"] and c.meta()["source"].endswith("mine.yaml")
    with pytest.raises(UserError, match="describes an API of your own"):
        embedded_dialect_arg(c)


def test_the_websocket_is_on_the_hosts_websocket_port_at_the_dialects_path():
    coinone = load_dialect("coinone")
    assert ws_url_for(coinone, "http://127.0.0.1:8000", "ws://127.0.0.1:9000/websocket/v1") == (
        "ws://127.0.0.1:9000/"
    )
    assert ws_url_for(load_dialect("upbit"), "https://127.0.0.1:8443", None) == (
        "wss://127.0.0.1:8443/websocket/v1"
    )
