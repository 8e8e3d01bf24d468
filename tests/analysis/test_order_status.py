"""Every acknowledged order as the exchange's own API answered for it after the run: known and
consistent, unknown (lost), inconsistent, or unconfirmed; and whether the ledger agrees."""

from __future__ import annotations

import json
import shutil

import pytest
from faults import journal, lookups
from synthetic import NS, T0_NS, Level, QueueModel, queue_run

from surgeproof.analysis.order_status import (
    Acknowledged,
    acknowledged_orders,
    check_order,
    ledger_agreement,
    order_ledger,
    order_status_section,
)
from surgeproof.analysis.run import analyze_run
from surgeproof.dialect.catalog import builtin_path

UPBIT_STATES = {"wait": "open", "watch": "open", "done": "filled", "cancel": "cancelled"}


def submitted(oid, *, outcome="ok", action="limit_order", volume="0.001", t=1, user=1):
    return {"t_ns": T0_NS + t * NS, "end_ns": T0_NS + t * NS, "user": user, "account": "m1",
            "action": action, "outcome": outcome, "order_id": oid, "volume": volume,
            "source": "local"}  # fmt: skip


def cancelled(oid, executed=None, outcome="ok", t=2):
    line = {"t_ns": T0_NS + t * NS, "end_ns": T0_NS + t * NS, "action": "cancel_order",
            "outcome": outcome, "order_id": oid, "source": "local"}  # fmt: skip
    if executed is not None:
        line["executed_volume"] = executed
    return line


def found(state, executed="0"):
    return {"answer": "found", "status": 200, "order_state": state, "executed_volume": executed}


def check(lines, answer, states=UPBIT_STATES):
    [order] = acknowledged_orders(lines).values()
    return check_order(order, answer, states)


def test_an_order_the_exchange_knows_in_a_state_its_history_allows_is_consistent():
    c = check([submitted("a")], found("wait"))
    assert (c.status, c.state, c.raw_state, c.reasons) == ("consistent", "open", "wait", [])
    c = check([submitted("a"), cancelled("a", "0.0004")], found("cancel", "0.0004"))
    assert c.status == "consistent" and c.state == "cancelled"


def test_an_order_the_exchange_says_it_does_not_have_is_unknown_data_loss():
    c = check([submitted("a")], {"answer": "unknown", "status": 404, "code": "order_not_found"})
    assert c.status == "unknown"
    assert c.reasons == ["the exchange has no such order (HTTP 404, code order_not_found)"]


@pytest.mark.parametrize(
    ("lines", "answer", "reason"),
    [
        ([submitted("a"), cancelled("a")], found("wait"),
         "a cancel was acknowledged but the order is still open"),
        ([submitted("a"), cancelled("a", "0.0002")], found("cancel", "0.0007"),
         "filled after its cancel was acknowledged: executed 0.0007 now, 0.0002 when the "
         "cancel was answered"),
        ([submitted("a"), cancelled("a", "0")], found("done", None),
         "filled although its acknowledged cancel left it unfilled"),
        ([submitted("a", volume="0.001")], found("done", "0.002"),
         "executed 0.002 is more than the 0.001 ordered"),
    ],
)  # fmt: skip
def test_an_order_in_a_state_its_history_forbids_is_inconsistent(lines, answer, reason):
    c = check(lines, answer)
    assert c.status == "inconsistent" and c.reasons == [reason]


def test_a_cancel_the_exchange_refused_is_no_acknowledged_cancel():
    c = check([submitted("a"), cancelled("a", outcome="client_error")], found("wait"))
    assert c.status == "consistent"


@pytest.mark.parametrize(
    ("answer", "states", "reason"),
    [
        (None, UPBIT_STATES, "not looked up"),
        ({"answer": "failed", "status": 0, "error": "timeout"}, UPBIT_STATES,
         "lookup failed: timeout"),
        (found("paused"), UPBIT_STATES, "state 'paused' is not in the dialect's reconcile.states"),
        (found(None), UPBIT_STATES, "the answer has no order state"),
        (found("wait"), None, "the dialect has no reconcile.states"),
    ],
)  # fmt: skip
def test_without_a_conclusive_answer_an_order_is_unconfirmed_never_consistent_by_guess(
    answer, states, reason
):
    c = check([submitted("a")], answer, states)
    assert c.status == "unconfirmed" and c.reasons == [reason]


def test_only_submissions_answered_ok_with_an_id_are_acknowledged_the_first_one_counts():
    orders = acknowledged_orders(
        [
            submitted("a", t=1),
            submitted("b", outcome="timeout", t=2),  # no answer: not acknowledged
            submitted(None, t=3),  # ok without an id (the dialect extracts none)
            submitted("a", t=4, user=9),  # the same id again: the first acknowledgement counts
            cancelled("a", "0.0001", t=5),
            cancelled("zzz", t=6),  # a cancel of an order this run never placed
        ]
    )
    assert list(orders) == ["a"]
    a = orders["a"]
    assert a.user == 1 and a.acked_ns == T0_NS + NS
    assert a.cancels == [(T0_NS + 5 * NS, "0.0001")]


def _order(oid):
    return Acknowledged(oid, "local", 1, "m1", "limit_order", T0_NS, "0.001")


def test_the_section_fails_on_a_lost_order_and_is_incomplete_while_any_is_unconfirmed():
    checks = [
        check_order(_order("a"), found("wait"), UPBIT_STATES),
        check_order(_order("b"), {"answer": "unknown", "status": 404}, UPBIT_STATES),
        check_order(_order("c"), None, UPBIT_STATES),
    ]
    s = order_status_section(checks, None, journal_present=True)
    assert (s["status"], s["passed"]) == ("failed", False)
    assert s["counts"] == {"consistent": 1, "unknown": 1, "inconsistent": 0, "unconfirmed": 1}
    assert s["lost_orders"] == ["b"] and s["unconfirmed_reasons"] == {"not looked up": 1}
    assert s["note"] == (
        "1 of 3 acknowledged orders known and consistent; 1 lost by the exchange (it has no "
        "such order); 1 unconfirmed"
    )
    s = order_status_section([checks[0], checks[2]], None, journal_present=True)
    assert (s["status"], s["passed"]) == ("incomplete", None)
    s = order_status_section([checks[0]], None, journal_present=True)
    assert (s["status"], s["passed"]) == ("passed", True)
    s = order_status_section([], None, journal_present=False)
    assert (s["status"], s["available"]) == ("unavailable", False)


def test_the_ledger_agrees_when_it_lost_exactly_the_orders_the_lookups_found_unknown():
    checks = [
        check_order(_order("a"), found("wait"), UPBIT_STATES),
        check_order(_order("b"), {"answer": "unknown", "status": 404}, UPBIT_STATES),
    ]
    ledger = {"lost_orders": ["b", "x"], "acknowledged_orders": {"uuids": ["a", "b", "x"]}}
    agree = ledger_agreement(checks, ledger, outages=0)
    # "x": acknowledged by the exchange, its answer never reached the client (not looked up).
    assert agree["agrees"] is True and agree["by"] == "order ids"
    assert agree["never_seen_by_client"] == 1 and agree["only_ledger"] == []
    ledger["lost_orders"] = ["a"]
    agree = ledger_agreement(checks, ledger, outages=0)
    assert agree["agrees"] is False
    assert (agree["only_ledger"], agree["only_lookups"]) == (["a"], ["b"])


def test_the_ledger_is_compared_by_counts_when_its_ids_are_not_the_clients():
    checks = [check_order(_order("C0101000000000000001"), {"answer": "unknown"}, UPBIT_STATES)]
    ledger = {"lost_orders": ["uuid-1"], "acknowledged_orders": {"uuids": ["uuid-1"]}}
    agree = ledger_agreement(checks, ledger, outages=0)
    assert agree["by"] == "counts" and agree["agrees"] is True


def test_a_ledger_restarted_without_its_journal_cannot_be_compared():
    checks = [check_order(_order("a"), {"answer": "unknown"}, UPBIT_STATES)]
    ledger = {"lost_orders": [], "acknowledged_orders": {"uuids": []}, "durability": None}
    agree = ledger_agreement(checks, ledger, outages=1)
    assert agree["available"] is False and agree["agrees"] is None
    assert "restarted without its order journal" in agree["note"]
    assert ledger_agreement(checks, None, outages=0)["available"] is False


def test_a_run_directory_is_reconciled_from_its_journal_lookups_and_dialect_copy(tmp_path):
    path = tmp_path / "r"
    queue_run(path, QueueModel(), [Level(10, hold_s=6.0)])
    shutil.copyfile(builtin_path("upbit"), path / "dialect.yaml")
    journal(path, "local", [submitted("a"), submitted("b", t=2), cancelled("a", "0")])
    journal(path, "worker-1", [submitted("c", t=3)])
    lookups(
        path,
        [{"order_id": "a", "answer": "failed", "status": 0, "error": "timeout"},
         {"order_id": "a", **found("cancel")},  # a later answer replaces the earlier one
         {"order_id": "b", "answer": "unknown", "status": 404},
         {"order_id": "c", **found("wait")}],
    )  # fmt: skip
    (path / "orders" / "local.jsonl").open("a").write('{"action": "limit_or')  # cut mid-line
    a = analyze_run(path)
    s = a["reconciliation"]["order_status"]
    assert s["counts"] == {"consistent": 2, "unknown": 1, "inconsistent": 0, "unconfirmed": 0}
    assert s["lost_orders"] == ["b"] and s["status"] == "failed"
    assert "orders looked up FAILED: 2 of 3 acknowledged orders known and consistent" in " ".join(
        a["summary"]
    )
    assert any("local.jsonl: last line" in d for d in a["data_quality"]["damage"])


def test_answers_added_after_the_analysis_make_it_stale(tmp_path):
    import os

    from surgeproof.analysis.freshness import is_stale
    from surgeproof.analysis.run import write_analysis

    path = tmp_path / "r"
    queue_run(path, QueueModel(), [Level(10, hold_s=6.0)])
    journal(path, "local", [submitted("a")])
    written = write_analysis(path)
    old = written.stat().st_mtime - 10
    for f in path.rglob("*"):
        if f.is_file() and f != written:
            os.utime(f, (old, old))
    assert is_stale(path) is None
    lookups(path, [{"order_id": "a", "answer": "unknown", "status": 404}])  # `reconcile` later
    assert is_stale(path) == "analysis.json is older than the raw data"


# -- the client-side order ledger (export's order_ledger table) --------------------------------


def ledger_run(run):
    """Two sources: user 1 of local submits a, retried b (refused then acknowledged) and cancels
    a; user 7 of worker-x submits c, which the exchange lost, at a price it had seen."""
    run.mkdir()
    (run / "dialect.yaml").write_text(builtin_path("upbit").read_text())
    sent = {"intended_ns": T0_NS, "sent_ns": T0_NS + 5, "attempt": 0, "status": 201}
    journal(run, "local", [
        {**submitted("a", t=1), **sent, "side": "bid", "price": "98000000", "price_seen": 9.8e7},
        {**submitted(None, outcome="server_error", t=2), **sent, "status": 500,
         "code": "internal", "intended_ns": T0_NS + 2 * NS},
        {**submitted("b", t=3), **sent, "attempt": 1, "intended_ns": T0_NS + 2 * NS},
        {**cancelled("a", "0", t=4), "user": 1, "intended_ns": T0_NS + 4 * NS},
    ])  # fmt: skip
    journal(run, "worker-x", [{**submitted("c", user=7, t=1), **sent, "price_seen": 9.7e7}])
    lookups(run, [
        {"order_id": "a", **found("cancel", "0")},
        {"order_id": "c", "answer": "unknown", "status": 404, "code": "order_not_found"},
    ])  # fmt: skip
    return run


def test_the_ledger_has_every_order_call_per_user_with_its_final_state(tmp_path):
    rows, damage = order_ledger(ledger_run(tmp_path / "run"))
    assert damage == []
    assert [(r["source"], r["user"], r["action"], r["order_id"]) for r in rows] == [
        ("local", 1, "limit_order", "a"),
        ("local", 1, "limit_order", None),
        ("local", 1, "limit_order", "b"),
        ("local", 1, "cancel_order", "a"),
        ("worker-x", 7, "limit_order", "c"),
    ]
    a, refused, b, cancel, c = rows
    assert (a["acknowledged"], a["reconciliation"], a["final_state"], a["exchange_state"]) == (
        True, "consistent", "cancelled", "cancel"
    )  # fmt: skip
    assert a["price_seen"] == 9.8e7 and a["price"] == "98000000" and a["sent_ns"] == T0_NS + 5
    assert (refused["outcome"], refused["status"], refused["code"]) == ("server_error", 500,
                                                                        "internal")  # fmt: skip
    assert refused["acknowledged"] is False and refused["reconciliation"] is None
    # b was acknowledged but never looked up; the cancel row carries its order's final state.
    assert (b["reconciliation"], b["reconciliation_reasons"]) == ("unconfirmed", "not looked up")
    assert cancel["acknowledged"] is False and cancel["final_state"] == "cancelled"
    assert c["reconciliation"] == "unknown" and c["reconciliation_reasons"].startswith(
        "the exchange has no such order (HTTP 404"
    )


def test_a_corrupt_journal_line_is_counted_and_skipped_never_fatal(tmp_path):
    run = ledger_run(tmp_path / "run")
    with (run / "orders" / "local.jsonl").open("a") as f:
        f.write('{"action": "limit_order", "order_id": "d", "user": "x"}\n')  # wrong type
        f.write("not json at all\n")  # before the last line: fatal to the analysis, not here
        f.write('{"action": "limit_order", "order_id": "e", "end_ns": -4}\n')  # not Unix ns
        f.write(json.dumps({**submitted("f", t=9), "intended_ns": T0_NS + 9 * NS}) + "\n")
        f.write('{"action": "limit_or')  # half-written
    (run / "orders" / "notes.txt").write_text("not a journal")
    rows, damage = order_ledger(run)
    assert [r["order_id"] for r in rows if r["source"] == "local"][-1] == "f"
    assert {r["order_id"] for r in rows} == {"a", None, "b", "c", "f"}
    assert damage == [
        "orders/local.jsonl: 1 line(s) that are not JSON, skipped",
        "orders/local.jsonl: last line 9 half-written, dropped",
        "orders/local.jsonl: 2 line(s) with times outside the run, numbers out of range or "
        "fields of the wrong type, skipped",
    ]


def test_a_link_where_the_journal_or_the_lookups_are_is_said_never_followed(tmp_path):
    run = ledger_run(tmp_path / "run")
    outside = tmp_path / "outside"
    shutil.move(run / "reconciliation", outside)
    (run / "reconciliation").symlink_to(outside)
    (run / "orders" / "worker-y.jsonl").symlink_to(run / "orders" / "worker-x.jsonl")
    rows, damage = order_ledger(run)
    assert {r["source"] for r in rows} == {"local", "worker-x"}
    assert {r["reconciliation"] for r in rows if r["order_id"] == "c"} == {"unconfirmed"}
    assert damage == ["orders/worker-y.jsonl: a symbolic link, not read",
                      "reconciliation: a symbolic link, not read"]  # fmt: skip
