"""The client side's order journal: what a line keeps (never a credential), and what of a
worker's journal lines the conductor writes (a worker's message may be crafted)."""

from __future__ import annotations

import json

from surgeproof.load.collector import Collector
from surgeproof.load.order_journal import MAX_TEXT, OrderJournal, clean_lines
from surgeproof.rundir.schema import Outcome


def test_a_line_keeps_what_was_asked_and_answered_and_nothing_secret():
    j = OrderJournal()
    j.note(user=7, account="member007", action="limit_order", stands_in="market_sell",
           values={"side": "ask", "price": "128380000", "volume": "0.0003",
                   "password": "hunter2", "member_id": "member007"},
           intended_ns=1, sent_ns=2, end_ns=3, attempt=0, outcome=Outcome.OK, status=201,
           order_id=12345, price_seen=131e6)  # fmt: skip
    [line] = j.take()
    assert line["order_id"] == "12345" and line["outcome"] == "ok"  # ids kept as text
    assert line["stands_in"] == "market_sell" and line["price"] == "128380000"
    assert "password" not in line and "hunter2" not in json.dumps(line)
    assert j.take() == []  # drained


def test_lines_nobody_drains_are_bounded_and_the_drop_is_counted(monkeypatch):
    monkeypatch.setattr("surgeproof.load.order_journal.MAX_PENDING", 3)
    j = OrderJournal()
    for i in range(5):
        t = {"intended_ns": i, "sent_ns": i, "end_ns": i}
        j.note(user=i, account=None, action="cancel_order", values={}, stands_in=None,
               attempt=0, outcome=Outcome.OK, status=200, **t)  # fmt: skip
    assert [x["user"] for x in j.take()] == [2, 3, 4] and j.dropped == 2


def test_crafted_lines_from_a_worker_are_refused_one_by_one():
    good = {"action": "limit_order", "order_id": "a", "user": 1, "outcome": "ok"}
    kept, refused = clean_lines(
        [
            good,
            "not a mapping",
            {"action": "transfer_all", "order_id": "b"},  # not an order call
            {"action": "limit_order", "order_id": {"$gt": ""}},  # nested
            {"action": "limit_order", "order_id": "x" * (MAX_TEXT + 1)},  # too long
            {"action": "limit_order", "price_seen": float("nan")},
            {"action": "limit_order", "user": 1 << 70},
        ]
    )
    assert kept == [good] and refused == 6
    assert clean_lines("lines") == ([], 1) and clean_lines(None) == ([], 0)


def test_a_journal_is_written_only_under_orders_for_a_plain_source_name(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    c = Collector(run_dir)
    c.orders("worker-ab12", [{"action": "cancel_order", "order_id": "a"}])
    c.orders("../../escape", [{"action": "cancel_order", "order_id": "b"}])
    c.orders(".hidden", [{"action": "cancel_order", "order_id": "c"}])
    c.close()
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.jsonl"))
    assert written == ["run/events.jsonl", "run/orders/worker-ab12.jsonl", "run/timeline.jsonl"]
    assert c.journal_refused == {"../../escape": 1, ".hidden": 1}
