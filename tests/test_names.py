"""One list of names each: where two lists must stay apart (a package may not import the other),
this ties them, so that a name added to one and not the other fails here."""

from __future__ import annotations

import importlib

from surgeproof.dialect.actions import ACTIONS
from surgeproof.dialect.catalog import builtin_names
from surgeproof.exchange.dialects import DIALECT_NAMES, get_dialect
from surgeproof.exchange.dialects.quotas import WINDOWS
from surgeproof.exchange.routes import FAMILIES
from surgeproof.load.probe import ORDER
from surgeproof.load.users.registry import BEHAVIOUR_CLASSES, NEEDS_ACCOUNTS
from surgeproof.scenario.model import BEHAVIOURS, GROUPS


def test_the_behaviours_scenarios_name_are_the_ones_the_load_layer_plays():
    # scenario/ imports nothing else of the package: its list is the one users write from.
    assert tuple(BEHAVIOUR_CLASSES) == BEHAVIOURS
    assert set(BEHAVIOURS) >= NEEDS_ACCOUNTS


def test_endpoint_groups_are_the_same_for_actions_the_exchange_and_the_analysis():
    # exchange/ imports nothing else of the package: its families are the groups plus "other".
    assert (*GROUPS, "other") == FAMILIES
    assert {a.group for a in ACTIONS.values()} | {"websocket"} == set(GROUPS)


def test_the_exchange_speaks_every_built_in_dialect_the_client_knows():
    assert sorted(DIALECT_NAMES) == builtin_names()
    for name in DIALECT_NAMES:
        assert get_dialect(name).name == name
        assert importlib.import_module(f"surgeproof.exchange.dialects.{name}").DIALECT.openapi
    assert set(WINDOWS) <= set(DIALECT_NAMES)


def test_the_probe_sends_every_action_but_logout():
    # load/probe.py keeps its own order (a person's: log in first, cancel what it placed) and
    # ends no session it needs; every other action is probed.
    assert len(ORDER) == len(set(ORDER)) and set(ORDER) <= set(ACTIONS)
    assert set(ACTIONS) - set(ORDER) == {"logout"}
