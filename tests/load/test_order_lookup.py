"""After a run, every acknowledged order looked up through the exchange's own ``order_status``:
within a budget, resumable, raw answers kept; and, on a target that loses the last N orders it
acknowledged when it restarts, exactly those N found unknown, as its ledger says."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import aiohttp
import pyarrow.parquet as pq
import pytest
from load_cli import events, surgeproof

sys.path.insert(0, str(Path(__file__).parents[1] / "exchange"))
from upbit_client import QUIET, run, token

from surgeproof.analysis.order_status import check_orders
from surgeproof.dialect.catalog import load_dialect
from surgeproof.exchange import build_config, exchange_in_thread
from surgeproof.load.accounts import fetch_embedded_accounts
from surgeproof.load.order_lookup import LookupBudget, look_up_orders
from surgeproof.rundir.schema import LOOKUP_ANSWERS, LOOKUP_PROGRESS
from surgeproof.rundir.writer import JsonlLog


async def _place(url, acct, n):
    ids = []
    async with aiohttp.ClientSession() as s:
        for _ in range(n):
            body = {"market": "KRW-BTC", "side": "bid", "ord_type": "limit",
                    "price": "120000000", "volume": "0.001"}  # fmt: skip
            async with s.post(f"{url}/v1/orders", json=body,
                              headers={"Authorization": token(acct, body)}) as r:  # fmt: skip
                ids.append((await r.json())["uuid"])
    return ids


def _journal(run_dir: Path, acked: list[tuple[str, str]]) -> None:
    log = JsonlLog(run_dir / "orders" / "local.jsonl")
    for i, (oid, member) in enumerate(acked):
        log.append({"t_ns": i, "end_ns": i, "user": i, "account": member, "action": "limit_order",
                    "intended_ns": i, "attempt": 0, "outcome": "ok", "status": 201,
                    "order_id": oid, "volume": "0.001"})  # fmt: skip
    log.close()


def _answers(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / LOOKUP_ANSWERS).read_text().splitlines()]


def test_lookups_keep_to_their_budget_and_a_second_pass_continues_where_the_first_stopped(
    tmp_path,
):
    run_dir = tmp_path / "run"
    (run_dir / "dialect.yaml").parent.mkdir()
    (run_dir / "dialect.yaml").write_text(load_dialect("upbit").text)
    with exchange_in_thread(build_config({**QUIET, "limits": False})) as ex:
        acct = ex.state.accounts[0]
        ids = run(_place(ex.url, acct, 12))
        acked = [(oid, acct.member_id) for oid in ids]
        acked.append(("0b5e0b5e-0000-4000-8000-000000000000", acct.member_id))  # never placed
        acked.append((ids[0] + "-other", "nobody"))  # an account this machine has no keys for
        _journal(run_dir, acked)
        dialect = load_dialect("upbit")
        accounts = fetch_embedded_accounts(ex.url)
        first = look_up_orders(run_dir, dialect, ex.url, accounts, LookupBudget(20.0, 0.25, 2))
        # At most one lookup per 1/20 s within 0.25 s, whatever the concurrency.
        assert 1 <= first.looked_up <= 6 and first.stopped == "time budget"
        assert first.pending == len(acked) - first.looked_up
        second = look_up_orders(run_dir, dialect, ex.url, accounts, LookupBudget(1000.0, 60.0, 4))
    assert second.already == first.answers.get("found", 0) + first.answers.get("unknown", 0)
    assert second.pending == 0 and second.stopped == "done"
    answers = _answers(run_dir)
    conclusive = [a["order_id"] for a in answers if a["answer"] in ("found", "unknown")]
    assert sorted(conclusive) == sorted(oid for oid, member in acked if member != "nobody")
    assert len(conclusive) == len(set(conclusive))  # no order asked for twice once answered
    by_id = {a["order_id"]: a for a in answers}
    assert all(by_id[oid]["order_state"] == "wait" for oid in ids)
    assert by_id[acked[-2][0]]["answer"] == "unknown" and by_id[acked[-2][0]]["status"] == 404
    assert by_id[acked[-1][0]]["error"] == "no credentials here for account nobody"
    assert not any("secret" in json.dumps(a) for a in answers)
    progress = json.loads((run_dir / LOOKUP_PROGRESS).read_text())
    assert [i["stopped"] for i in progress["invocations"]] == ["time budget", "done"]
    assert progress["pending"] == 1  # the order whose account has no keys here
    checks = {c.order.order_id: c.status for c in check_orders(run_dir)[0]}
    assert [checks[oid] for oid in ids] == ["consistent"] * 12
    assert checks[acked[-2][0]] == "unknown" and checks[acked[-1][0]] == "unconfirmed"


LOSSY_TARGET = """\
api_workers: 0
durability: {orders: true, lose_last_on_restart: 3}
"""

#: Orders in the first phase only: the outage (in the second) loses the last three of them, all
#: of whose answers had long reached their users.
ORDERS_THEN_WATCHING = """\
name: orders-then-watching
description: orders, then only market data while the exchange is killed and restarted
slos:
  - {group: "*", error_ratio: 100%}
objectives: {orders-lost: 0}
timeline:
  - phase: orders
    duration: 4s
    users: 8
    ramp: 1s
    mix: {app_user: 0.5, panic_seller: 0.5}
    intensity: 3
    steady: false
  - phase: watching
    duration: 6s
    users: 8
    mix: {market_watcher: 1.0}
    steady: false
"""


@pytest.mark.slow
def test_a_target_that_loses_the_last_n_acknowledged_orders_is_caught_by_order_status(tmp_path):
    (tmp_path / "lossy.yaml").write_text(LOSSY_TARGET)
    (tmp_path / "s.yaml").write_text(ORDERS_THEN_WATCHING)
    res = surgeproof(
        "run", str(tmp_path / "s.yaml"), "--target-config", str(tmp_path / "lossy.yaml"),
        "--inject-target-outage", "6.5:1", "--reports-dir", str(tmp_path / "reports"),
        "--run-id", "lossy", "--timeout", "5", timeout=180,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    run_dir = tmp_path / "reports" / "lossy"
    assert [e["kind"] for e in events(run_dir) if e["type"] == "fault_start"] == ["target-outage"]
    ledger = json.loads((run_dir / "server" / "ledger.json").read_text())
    lost = ledger["durability"]["lost_at_restart"]
    assert len(lost) == 3 and ledger["lost_orders"] == lost
    analysis = json.loads((run_dir / "analysis.json").read_text())
    s = analysis["reconciliation"]["order_status"]
    # Exactly those three, found by asking the restarted exchange itself; the rest it knows.
    assert sorted(s["lost_orders"]) == sorted(lost)
    assert s["counts"]["unknown"] == 3 and s["counts"]["unconfirmed"] == 0
    assert s["counts"]["consistent"] + 3 == s["acknowledged"] > 3
    assert s["status"] == "failed" and s["ledger_agreement"]["agrees"] is True
    assert "orders looked up FAILED" in res.stdout
    # The scenario's objective fails at the gate naming exactly those three, and nothing else.
    gate = surgeproof("gate", str(run_dir))
    assert gate.returncode == 1, gate.stdout + gate.stderr
    [line] = [ln for ln in gate.stdout.splitlines() if "acknowledged orders lost" in ln]
    measured = f"measured 3 of {s['acknowledged']} acknowledged orders lost"
    assert line.startswith(f"FAIL  acknowledged orders lost <= 0: {measured}")
    named = line.split("the exchange has no such order: ", 1)[1].split(";", 1)[0]
    assert sorted(named.split(", ")) == sorted(lost)
    # The client-side order ledger states those three as lost, each with the user it was
    # acknowledged to and the price that user had seen.
    assert surgeproof("export", str(run_dir)).returncode == 0
    ledger = pq.read_table(run_dir / "export" / "order_ledger.parquet").to_pylist()
    acked = [r for r in ledger if r["acknowledged"]]
    assert len(acked) == s["acknowledged"]
    assert sorted(r["order_id"] for r in acked if r["reconciliation"] == "unknown") == sorted(lost)
    assert all(r["user"] is not None and r["answered"] is not None for r in acked)
    assert any(r["price_seen"] for r in acked)


def test_reconcile_refuses_what_it_cannot_use_in_one_line(tmp_path):
    no_run = surgeproof("reconcile", str(tmp_path))
    assert no_run.returncode == 2 and len(no_run.stderr.strip().splitlines()) == 1
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").write_text(
        json.dumps(
            {
                "schema_version": 1,
                "run_id": "run",
                "status": "complete",
                "target": {"url": "http://staging.invalid"},
            }
        )
    )
    no_orders = surgeproof("reconcile", str(run_dir))
    assert no_orders.returncode == 2 and "no order journal" in no_orders.stderr
    _journal(run_dir, [("o-1", "m1")])
    remote = surgeproof("reconcile", str(run_dir))
    assert remote.returncode == 2 and "--allow-remote-target" in remote.stderr
    bad_rate = surgeproof("reconcile", str(run_dir), "--rate", "0")
    assert bad_rate.returncode == 2 and "--rate" in bad_rate.stderr
    assert not (run_dir / "reconciliation").exists()  # nothing asked, nothing written
