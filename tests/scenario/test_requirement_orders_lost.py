"""Acknowledged orders lost: at most N of the orders the exchange acknowledged unknown to it
afterwards, as its own order_status answered; the gate's note names them."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from surgeproof.analysis.run import analyze_run
from surgeproof.cli import main
from surgeproof.dialect.catalog import builtin_path
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.model import Requirement, Slo
from surgeproof.scenario.requirements import OrderLookups, kind_of

from .test_requirements import evidence, parse

sys.path.insert(0, str(Path(__file__).parents[1] / "analysis"))
from faults import at, drill_run, journal, lookups

LOST = kind_of("orders-lost")
NONE_LOST = Requirement(kind="orders-lost", options=(("max_lost", 0.0),))


@pytest.mark.parametrize("written", ["orders-lost: 0", {"orders-lost": 0}, {"orders-lost": "0"}])
def test_the_objective_is_a_whole_number_of_orders(written):
    assert parse(written) == NONE_LOST
    assert str(NONE_LOST) == "orders-lost: 0"
    assert str(parse("orders-lost: 3")) == "orders-lost: 3"


@pytest.mark.parametrize("value", ["-1", "1.5", "none", "", "٣"])
def test_anything_but_a_whole_number_is_one_line_naming_the_field(value):
    with pytest.raises(ScenarioError) as e:
        parse(f"orders-lost: {value}")
    assert "\n" not in str(e.value)
    assert re.search(r"requirements\[0\]: expected a whole number of orders >= 0", str(e.value))


def lookups_of(**kw: object) -> OrderLookups:
    base = dict(acknowledged=58, asked=58, consistent=58, lost=0, inconsistent=0, unconfirmed=0)
    return OrderLookups(**{**base, **kw})  # type: ignore[arg-type]


def judge(orders: OrderLookups | None, req: Requirement = NONE_LOST):
    return LOST.judge(req, replace(evidence(), orders=orders))


def test_met_when_the_exchange_knows_every_acknowledged_order():
    j = judge(lookups_of())
    assert (j.status, j.measured, j.limit) == ("pass", "0 of 58 acknowledged orders lost", "<= 0")
    assert j.name == "acknowledged orders lost <= 0"


def test_not_met_names_the_lost_orders():
    ids = tuple(f"o-{i}" for i in range(25))
    j = judge(lookups_of(consistent=33, lost=25, lost_ids=ids))
    assert j.status == "fail"
    assert j.note.startswith("the exchange has no such order: o-0, o-1, o-2")
    assert (
        "o-19" in j.note
        and "o-20" not in j.note
        and j.note.endswith("and 5 more (analysis.json reconciliation.order_status)")
    )
    assert j.figures["lost_orders"] == list(ids)
    # A stated allowance: two lost of at most three is met.
    allowed = Requirement(kind="orders-lost", options=(("max_lost", 3.0),))
    assert judge(lookups_of(consistent=56, lost=2, lost_ids=("a", "b")), allowed).status == "pass"


def test_not_shown_when_some_orders_have_no_conclusive_answer():
    j = judge(lookups_of(consistent=50, unconfirmed=8, unconfirmed_reasons=(("not looked up", 8),)))
    assert j.status == "inconclusive"
    assert j.measured == "0 of 58 acknowledged orders lost (8 unconfirmed)"
    assert j.note.startswith("not shown: 8 acknowledged orders have no conclusive answer")
    assert "surgeproof reconcile RUN_DIR" in j.note
    # Lost orders already shown fail it, however many are unconfirmed besides.
    assert judge(lookups_of(consistent=49, lost=1, unconfirmed=8, lost_ids=("x",))).status == (
        "fail"
    )


def test_not_applicable_without_a_journal_an_acknowledged_order_or_a_lookup():
    assert judge(None).note == "the input has no order journal"
    assert judge(lookups_of(acknowledged=0, asked=0, consistent=0)).note == (
        "no order was acknowledged to the simulated users"
    )
    j = judge(lookups_of(asked=0, consistent=0, unconfirmed=58))
    assert j.status == "not_applicable"
    assert j.note.startswith("none of the 58 acknowledged orders was looked up")


def _drill_with_lookups(run: Path) -> list[str]:
    """The drill run with three acknowledged orders, the exchange knowing two of them."""
    drill_run(run)
    (run / "dialect.yaml").write_text(builtin_path("upbit").read_text())
    ids = ["a-1", "a-2", "a-3"]
    journal(run, "local", [
        {"t_ns": at(1 + i), "end_ns": at(1 + i), "user": i, "account": "m1",
         "action": "limit_order", "intended_ns": at(1 + i), "attempt": 0, "outcome": "ok",
         "status": 201, "order_id": oid, "volume": "0.001"} for i, oid in enumerate(ids)
    ])  # fmt: skip
    lookups(run, [
        {"order_id": "a-1", "answer": "found", "status": 200, "order_state": "wait"},
        {"order_id": "a-2", "answer": "unknown", "status": 404},
        {"order_id": "a-3", "answer": "found", "status": 200, "order_state": "done"},
    ])  # fmt: skip
    return ids


def test_the_gate_fails_naming_the_order_the_exchange_lost(tmp_path, capsys):
    run = tmp_path / "drill"
    _drill_with_lookups(run)
    analysis = analyze_run(run, slos=[Slo("*", "p99", 500.0)])
    (run / "analysis.json").write_text(json.dumps(analysis))
    args = ["gate", str(run), "--no-scenario"]
    assert main([*args, "--require", "orders-lost: 0"]) == 1
    out = capsys.readouterr().out
    assert (
        "FAIL  acknowledged orders lost <= 0: measured 1 of 3 acknowledged orders lost, "
        "limit <= 0; the exchange has no such order: a-2; source: FSS"
    ) in out
    assert main([*args, "--require", "orders-lost: 1"]) == 0
    assert "PASS  acknowledged orders lost <= 1" in capsys.readouterr().out


def test_a_scenario_objective_is_judged_in_the_analysis_once(tmp_path):
    run = tmp_path / "drill"
    _drill_with_lookups(run)
    (run / "scenario.yaml").write_text(
        "name: drill\nslos: [{group: '*', p99: 500ms}]\nobjectives: {orders-lost: 0, rto: 1h}\n"
        "timeline: [{phase: hold, duration: 20s, users: 40, mix: {market_watcher: 1.0}}]\n"
    )
    analysis = analyze_run(run)
    by_kind = {r["kind"]: r for r in analysis["requirements"]}
    assert by_kind["orders-lost"]["status"] == "fail"
    assert by_kind["orders-lost"]["figures"]["lost_orders"] == ["a-2"]
    assert by_kind["orders-lost"]["origin"] == "scenario"
    assert by_kind["rto"]["status"] == "pass"
    assert analysis["verdict"]["status"] != "pass"
