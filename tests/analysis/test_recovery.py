"""Recovery per fault: the RTO by the series windows' SLO rule, each group's first success after
its longest wait, the toll during the fault, and every order in flight when it began."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from faults import at, fault, journal, lookups
from synthetic import ENDPOINTS, NS, Level, QueueModel, queue_run
from test_gateway_outages import amplification
from test_gateway_outages import at as at_ws

from surgeproof.analysis.recovery import recovery_figure, websocket_toll
from surgeproof.analysis.run import analyze_run
from surgeproof.dialect.catalog import builtin_path
from surgeproof.rundir.schema import FLAG_ORDER_SUBMIT, Outcome
from surgeproof.scenario.model import Slo
from surgeproof.scenario.requirements import Recovery

SLOS = [Slo("*", "p99", 500.0), Slo("*", "error_ratio", 0.01)]
#: 16 workers × 100 ms = 160 req/s for 40 users × 2 req/s: no queue until the stall, and about
#: two order submissions in flight at any moment.
MODEL = QueueModel(workers=16, service_s=0.1, timeout_s=1.0)
GROUPS = [g for _, g, _ in ENDPOINTS]


def _dark(path: Path, stall=(6.0, 9.0), hold_s=20.0, model=MODEL):
    """A run whose target answers nothing from 6 s to 9 s (calls due then time out after 1 s)."""
    return queue_run(path, model, [Level(40, hold_s=hold_s, settle_s=0.0)], stalls=[stall])


def _record(a, i):
    return a["recovery"]["faults"][i]


def test_the_rto_runs_from_the_fault_to_the_end_of_the_first_window_that_held_every_slo(tmp_path):
    _dark(tmp_path / "r")
    fault(tmp_path / "r", 0, 6.0, 6.2)
    a = analyze_run(tmp_path / "r", slos=SLOS)
    r = _record(a, 0)
    rto = r["rto"]
    assert rto["status"] == "recovered" and rto["impact_ns"] == at(6)
    # The one breach of the run is the fault's; the RTO ends one whole held window after it.
    [w] = a["incidents"]["breach_windows"]
    assert rto["recovered_ns"] == w["end_ns"]
    assert rto["held_until_ns"] == w["end_ns"] + NS
    assert rto["rto_s"] == (w["end_ns"] + NS - at(6)) / NS
    ts = a["timeseries"]
    i = ts["start_ns"].index(rto["recovered_ns"])
    assert not ts["breach"][i] and all(ts["breach"][ts["start_ns"].index(at(6)) : i])
    # Never less than the dark itself plus the one whole window that proves it over.
    assert rto["rto_s"] >= 3.0 + 1.0
    assert r["span"] == {
        "start_ns": at(6),
        "end_ns": rto["held_until_ns"],
        "duration_s": rto["rto_s"],
    }
    assert r["action"]["exit_status"] == 0 and r["action"]["output_tail"] == ["switched to standby"]
    assert f"recovery: {r['sentence']}" in a["summary"]
    assert r["sentence"].startswith(f"fault failover (command) at t=6 s: RTO {rto['rto_s']:.1f} s")


def test_a_fault_that_broke_no_slo_has_no_impact_and_an_rto_of_zero(tmp_path):
    queue_run(tmp_path / "r", MODEL, [Level(40, hold_s=20.0, settle_s=0.0)])
    fault(tmp_path / "r", 0, 6.0, 6.5)
    r = _record(analyze_run(tmp_path / "r", slos=SLOS), 0)
    assert r["rto"]["status"] == "no_impact" and r["rto"]["rto_s"] == 0.0
    assert r["rto"]["impact_ns"] is None
    # No group waited: every call was answered in its 100 ms of service.
    assert all(g["longest_wait_s"] <= 0.101 for k, g in r["groups"].items() if k != "*")
    assert "no SLO broke (RTO 0)" in r["sentence"] and "first success" not in r["sentence"]


def test_a_target_still_dark_when_the_data_ends_did_not_recover(tmp_path):
    _dark(tmp_path / "r", stall=(12.0, 60.0))
    fault(tmp_path / "r", 0, 12.0, None)
    r = _record(analyze_run(tmp_path / "r", slos=SLOS), 0)
    assert r["rto"]["status"] == "not_recovered" and r["rto"]["rto_s"] is None
    assert r["end_ns"] is None and r["action"]["ended"] is False
    # No group succeeded again: each named, waiting since its first call after the fault.
    for g in GROUPS:
        assert r["groups"][g]["first_ok_s"] is None
        assert r["groups"][g]["waiting_from_s"] < 0.2  # its last success: in service at 6 s
    assert "the SLOs did not hold again before the run ended" in r["sentence"]
    assert "no success after it: login, orders, quotation" in r["sentence"]


def test_the_next_fault_ends_the_search_for_the_recovery_of_the_one_before(tmp_path):
    _dark(tmp_path / "r", stall=(6.0, 9.0))
    fault(tmp_path / "r", 0, 6.0, 6.1, name="first")
    fault(tmp_path / "r", 1, 8.0, 8.1, name="second")
    a = analyze_run(tmp_path / "r", slos=SLOS)
    first, second = _record(a, 0), _record(a, 1)
    assert first["rto"]["status"] == "not_recovered" and first["rto"]["until_ns"] == at(8)
    assert "before the next fault" in first["sentence"]
    [w] = a["incidents"]["breach_windows"]
    assert second["rto"]["status"] == "recovered"
    assert second["rto"]["rto_s"] == (w["end_ns"] + NS - at(8)) / NS


def test_each_group_first_succeeds_when_its_longest_wait_ends_to_the_millisecond(tmp_path):
    run = _dark(tmp_path / "r")
    fault(tmp_path / "r", 0, 6.0, 6.1)
    r = _record(analyze_run(tmp_path / "r", slos=SLOS), 0)
    rec = run.records
    for g in ("quotation", "login", "orders"):
        ids = [i for i, (_, grp, _) in enumerate(ENDPOINTS) if grp == g]
        mine = rec[np.isin(rec["name_id"], ids)]
        # Truth from the records: the first success after the dark (served at 9 s at the
        # earliest), and the first call of the group asked for after the last success before it.
        ok = mine[mine["outcome"] == Outcome.OK]
        first_ok = int(ok["end_ns"][ok["end_ns"] >= at(9)].min())
        before = int(ok["end_ns"][ok["end_ns"] < at(9)].max())
        asked = mine["intended_ns"][mine["intended_ns"] > before]
        waiting = max(int(asked.min()), at(6))
        got = r["groups"][g]
        assert got["first_ok_s"] == (first_ok - at(6)) // 1_000_000 / 1000, g
        assert got["waiting_from_s"] == (waiting - at(6)) // 1_000_000 / 1000, g
        assert got["longest_wait_s"] == round(got["first_ok_s"] - got["waiting_from_s"], 3), g
        # Dark 3 s, then the backlog: no answer within the 1 s timeout until it drained.
        assert got["longest_wait_s"] > 3.0, g
    login = r["groups"]["login"]["first_ok_s"]
    assert f"first success after waiting a window or more: login {login:.1f} s" in r["sentence"]


def test_calls_and_logins_during_the_fault_are_counted_by_cause_from_the_records(tmp_path):
    run = _dark(tmp_path / "r")
    fault(tmp_path / "r", 0, 6.0, 6.1)
    r = _record(analyze_run(tmp_path / "r", slos=SLOS), 0)
    rec = run.records
    span = (rec["intended_ns"] >= at(6)) & (rec["intended_ns"] < r["span"]["end_ns"])
    login = span & (rec["name_id"] == 1)
    timeouts = int((login & (rec["outcome"] == Outcome.TIMEOUT)).sum())
    assert timeouts > 0
    assert r["logins"] == {
        "attempts": int(login.sum()),
        "ok": int((login & (rec["outcome"] == Outcome.OK)).sum()),
        "refused": timeouts,
        "refused_by_cause": {"timeout": timeouts},
    }
    orders = r["groups"]["orders"]
    n = int((span & (rec["name_id"] == 3)).sum())
    assert orders["calls"] == n and orders["errors"]["timeout"] == orders["calls"] - orders["ok"]
    assert orders["error_ratio"] == orders["errors"]["timeout"] / n
    assert orders["latency_ms"]["max"] >= 1000.0  # the timed-out ones: time to give up


def test_orders_in_flight_at_the_fault_are_each_named_with_what_became_of_them(tmp_path):
    run = _dark(tmp_path / "r")
    path = tmp_path / "r"
    shutil.copyfile(builtin_path("upbit"), path / "dialect.yaml")
    rec = run.records
    flying = rec[
        ((rec["flags"] & FLAG_ORDER_SUBMIT) != 0)
        & (rec["sent_ns"] < at(6))
        & (rec["end_ns"] >= at(6))
    ]
    assert len(flying) >= 2  # the model keeps about two in flight
    # The exchange acknowledged each; after the run it knew the first, not the second.
    ids = [f"order-{i}" for i in range(len(flying))]
    journal(
        path,
        "local",
        [
            {"t_ns": int(f["end_ns"]), "user": int(f["user"]), "account": "m1",
             "action": "limit_order", "intended_ns": int(f["intended_ns"]),
             "sent_ns": int(f["sent_ns"]), "end_ns": int(f["end_ns"]), "attempt": 0,
             "outcome": "ok", "status": 201, "order_id": oid, "side": "bid",
             "price": "100000000", "volume": "0.0001"}
            for f, oid in zip(flying, ids, strict=True)
        ],
    )  # fmt: skip
    lookups(
        path,
        [{"order_id": ids[0], "answer": "found", "status": 200, "order_state": "wait"},
         {"order_id": ids[1], "answer": "unknown", "status": 404}],
    )  # fmt: skip
    fault(path, 0, 6.0, 6.1)
    a = analyze_run(path, slos=SLOS)
    o = _record(a, 0)["orders_in_flight"]
    assert o["count"] == o["listed"] == len(flying)
    assert [row["order_id"] for row in o["orders"]] == ids  # in the order they were sent
    assert [row["intended_ns"] for row in o["orders"]] == sorted(
        int(t) for t in flying["sent_ns"] - 200_000
    )
    assert o["orders"][0]["fate"] == "consistent"
    assert o["orders"][0]["reconciliation"]["state"] == "open"
    assert o["orders"][1]["fate"] == "lost"
    assert o["by_fate"]["consistent"] == 1 and o["by_fate"]["lost"] == 1
    assert o["by_fate"].get("unconfirmed", 0) == len(flying) - 2  # not looked up
    assert a["reconciliation"]["order_status"]["lost_orders"] == [ids[1]]


def test_websocket_sessions_lost_in_the_fault_and_how_long_they_took_to_come_back():
    amp = amplification(
        [3.0, 10.1, 10.2, 12.5, 20.0],
        [1.0, 1.5, np.inf, 2.5, 1.0],
        reconnects={10: 4, 12: 2, 20: 7},
    )
    toll = websocket_toll(amp, at_ws(10), at_ws(14))
    assert (toll["sessions_lost"], toll["sessions_back"], toll["never_back"]) == (3, 2, 1)
    assert toll["resubscribe_s"]["max"] == 2.5 and toll["resubscribe_s"]["p50"] == 2.0
    assert toll["reconnect_attempts"] == 4 + 2  # windows 10 to 13: not the 20 s storm
    assert websocket_toll(None, at_ws(10), at_ws(14)) is None  # Locust CSV input: no sessions known


def test_a_run_without_faults_has_no_recovery_record(tmp_path):
    queue_run(tmp_path / "r", MODEL, [Level(40, hold_s=5.0, settle_s=0.0)])
    a = analyze_run(tmp_path / "r", slos=SLOS)
    assert a["recovery"]["faults"] == [] and not any("recovery" in s for s in a["summary"])


# -- the figure recovery requirements read ----------------------------------------------------


def fault_record(name: str, t_s: float, status: str, rto_s: float | None, until_s=None) -> dict:
    """A whole ``recovery.faults`` record, as the contract reads it, of a fault at ``t_s``."""
    start = int(t_s * NS)
    return {
        "fault": 0, "name": name, "kind": "command", "origin": None,
        "start_ns": start, "end_ns": None, "t_start_s": t_s, "t_end_s": None, "action_s": None,
        "action": {"ended": False},
        "rto": {
            "status": status, "rto_s": rto_s, "impact_ns": None, "impact_after_s": None,
            "recovered_ns": None, "held_until_ns": None, "breached_windows": 0, "window_s": 1.0,
            "rule": "the rule", "until_ns": None if until_s is None else int(until_s * NS),
        },
        "span": {"start_ns": start, "end_ns": start + NS, "duration_s": 1.0},
        "groups": {},
        "logins": {"attempts": 0, "ok": 0, "refused": 0, "refused_by_cause": {}},
        "websocket": None,
        "orders_in_flight": {"count": 0, "by_fate": {}, "orders": [], "listed": 0},
        "sentence": f"fault {name}",
    }  # fmt: skip


def recovery_of(*faults: dict) -> dict:
    """A ``recovery`` section holding ``faults``."""
    return {
        "faults": list(faults),
        "rule": "the rule",
        "silence_horizon_s": 3600.0,
        "listed_orders_at_most": 1000,
    }


def test_no_recovery_analysis_is_no_recovery_figure():
    assert recovery_figure({}) is None


def test_a_run_without_faults_has_nothing_to_recover_from():
    assert recovery_figure({"recovery": recovery_of()}) == Recovery(0, None, "")


def test_the_slowest_recovery_counts_and_faults_not_recovered_are_told_apart():
    a = {
        "input": {"last_ns": 500 * NS},
        "recovery": recovery_of(
            fault_record("failover", 60, "recovered", 15.0),
            fault_record("kill-db", 200, "recovered", 90.0),
            fault_record("quiet", 300, "no_impact", 0.0),
            fault_record("cut", 400, "not_recovered", None),
        ),
    }
    assert recovery_figure(a) == Recovery(
        faults=4,
        worst_s=90.0,
        worst="kill-db (command) at t=200 s",
        unrecovered=1,
        unrecovered_for_s=100.0,
        unrecovered_worst="cut (command) at t=400 s",
    )


def test_a_fault_not_recovered_before_the_next_one_was_seen_so_until_then():
    a = {
        "input": {"last_ns": 500 * NS},
        "recovery": recovery_of(fault_record("a", 10, "not_recovered", None, until_s=70)),
    }
    assert recovery_figure(a) == Recovery(
        1,
        None,
        "",
        unrecovered=1,
        unrecovered_for_s=60.0,
        unrecovered_worst="a (command) at t=10 s",
    )


def test_a_fault_with_too_few_calls_after_it_is_unrecovered_for_an_unknown_time():
    a = {"recovery": recovery_of(fault_record("a", 10, "not_judged", None))}
    assert recovery_figure(a) == Recovery(1, None, "", unrecovered=1, unrecovered_for_s=None)
