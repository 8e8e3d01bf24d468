"""Gateway deaths read from the exchange's ``gateways`` list, one look a second, become
``gateway_down`` / ``gateway_up`` events; ``--inject-gateway-crash`` values are parsed strictly."""

from __future__ import annotations

import json

import pytest

from surgeproof.errors import UserError
from surgeproof.load.collector import Collector
from surgeproof.load.gateway_fault import GatewayCrash, GatewayWatch, parse_gateway_crash


def gw(gid=0, pid=100, *, restarts=0, alive=True, died_at=None, restarted_at=None, last_exit=None):
    return {"id": gid, "pid": pid, "restarts": restarts, "alive": alive, "died_at": died_at,
            "restarted_at": restarted_at, "last_exit": last_exit}  # fmt: skip


def watched(tmp_path, *looks: list[dict]) -> list[dict]:
    """The events a watch records over these successive looks."""
    collector = Collector(tmp_path)
    watch = GatewayWatch()
    for look in looks:
        watch.observe(collector, look)
    collector.events.close()
    return [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]


def test_a_gateway_that_died_and_was_replaced_is_a_down_then_an_up(tmp_path):
    killed = "killed by SIGKILL"
    ev = watched(
        tmp_path,
        [gw(0, 100), gw(1, 101)],
        [gw(0, 100, alive=False, died_at=50.0, last_exit=killed), gw(1, 101)],
        [gw(0, 200, restarts=1, died_at=50.0, restarted_at=50.75, last_exit=killed), gw(1, 101)],
        [gw(0, 200, restarts=1, died_at=50.0, restarted_at=50.75, last_exit=killed), gw(1, 101)],
    )
    assert ev == [
        {"t_ns": 50_000_000_000, "type": "gateway_down", "gateway": 0, "pid": 100,
         "cause": "died", "last_exit": killed},
        {"t_ns": 50_750_000_000, "type": "gateway_up", "gateway": 0, "pid": 200, "down_s": 0.75},
    ]  # fmt: skip


def test_a_death_and_its_restart_between_two_looks_are_both_seen(tmp_path):
    ev = watched(
        tmp_path,
        [gw(1, 101)],
        [gw(1, 301, restarts=1, died_at=70.0, restarted_at=70.5, last_exit="exit code 1")],
    )
    assert [(e["type"], e["pid"]) for e in ev] == [("gateway_down", 101), ("gateway_up", 301)]


def test_deaths_before_the_first_look_and_a_restarted_exchange_are_not_gateway_outages(tmp_path):
    old = gw(0, 100, restarts=2, died_at=10.0, restarted_at=10.5)
    # The whole exchange restarted (a target outage): new processes, counts from zero.
    assert watched(tmp_path, [old], [old], [gw(0, 900)], [gw(0, 900)]) == []


@pytest.mark.parametrize(
    ("text", "crash"), [("6", GatewayCrash(6.0, 0)), ("6.5:1", GatewayCrash(6.5, 1))]
)
def test_at_and_an_optional_gateway_id(text, crash):
    assert parse_gateway_crash(text) == crash


@pytest.mark.parametrize("text", ["", "soon", "6:x", "6:-1", "-2", "6:1.5", "nan"])
def test_bad_values_are_one_line_errors(text):
    with pytest.raises(UserError, match=r"expected AT\[:ID\] like 20 or 20:1"):
        parse_gateway_crash(text)
