"""Reconciliation from the embedded exchange's ledger: no acknowledged order may be lost, and
every asset's balances must add up to what was deposited.

The ledger is read from the exchange process alive at the end. After a restart that process knows
only what it acknowledged itself — unless it journals its orders (``durability``) — so a clean
ledger then proves nothing about the orders before the outage and the reconciliation is
``partial``, not passed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from surgeproof.rundir.schema import SERVER_LEDGER


def reconcile(
    run_dir: Path, outages: Sequence[dict[str, Any]] = ()
) -> tuple[dict[str, Any], list[str]]:
    """(the ``reconciliation`` object, damage notes) from ``server/ledger.json``.

    ``outages``: the run's target outages (``incidents.target_outages``); any of them means the
    ledger came from a restarted process.
    """
    out, damage = _from_ledger(Path(run_dir) / SERVER_LEDGER)
    out["status"] = _status(out)
    out["partial_reason"] = None
    durable = isinstance(out["details"].get("durability"), dict)
    if outages and not durable and out["status"] in ("passed", "incomplete"):
        n = len(outages)
        reason = (
            f"the target was restarted ({n} outage{'s' if n > 1 else ''}, the first at "
            f"t={float(outages[0]['t_down_s']):.1f} s): the ledger read at the end comes from "
            "the restarted process, which cannot see orders acknowledged before the outage"
        )
        out.update(status="partial", partial_reason=reason, passed=None)
        out["note"] = f"{reason}; what it can see: {out['note']}"
    return out, damage


def _status(out: dict[str, Any]) -> str:
    if not out["available"]:
        return "unavailable"
    return {True: "passed", False: "failed", None: "incomplete"}[out["passed"]]


def _from_ledger(path: Path) -> tuple[dict[str, Any], list[str]]:
    out: dict[str, Any] = {
        "available": False,
        "lost_acknowledged_orders": None,
        "acknowledged_orders": None,
        "balances_conserved": None,
        "passed": None,
        "details": {},
        "note": "no server/ledger.json: a real target, or the run was cut short before the end",
    }
    if not path.is_file():
        return out, []
    try:
        ledger = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError, OSError) as exc:  # bad JSON or UTF-8, too deep, a loop
        out["note"] = f"server/ledger.json is not valid JSON ({exc.__class__.__name__})"
        return out, [f"{SERVER_LEDGER}: unreadable, reconciliation skipped"]
    if not isinstance(ledger, dict):
        out["note"] = "server/ledger.json is not a JSON object"
        return out, [f"{SERVER_LEDGER}: not an object, reconciliation skipped"]
    lost = ledger.get("lost_orders")
    # ``type(...) is int``: a crafted ledger's true/false is not a count.
    lost_n = len(lost) if isinstance(lost, list) else (lost if type(lost) is int else None)
    acked = ledger.get("acknowledged_orders")
    acked_n = acked.get("count") if isinstance(acked, dict) else acked
    conserved = ledger.get("conserved")
    assets = ledger.get("assets") if isinstance(ledger.get("assets"), dict) else {}
    unbalanced = sorted(
        a for a, t in assets.items() if isinstance(t, dict) and not t.get("conserved", True)
    )
    out.update(
        available=True,
        lost_acknowledged_orders=lost_n,
        acknowledged_orders=acked_n if type(acked_n) is int else None,
        balances_conserved=conserved if isinstance(conserved, bool) else None,
        details={
            "assets": assets,
            "open_orders": ledger.get("open_orders"),
            "lost_order_uuids": lost[:100] if isinstance(lost, list) else None,
            "unbalanced_assets": unbalanced,
            # Orders journaled across restarts (the exchange's durability), or None.
            "durability": ledger.get("durability")
            if isinstance(ledger.get("durability"), dict)
            else None,
        },
    )
    known = lost_n is not None and isinstance(conserved, bool)
    out["passed"] = (lost_n == 0 and conserved) if known else None
    if not known:
        out["note"] = "the ledger lacks lost_orders or conserved: reconciliation incomplete"
    elif out["passed"]:
        out["note"] = (
            f"all {acked_n if isinstance(acked_n, int) else ''} acknowledged orders are known to "
            "the exchange and every asset balances"
        ).replace("all  ", "all ")
    else:
        problems = []
        if lost_n:
            problems.append(f"{lost_n} acknowledged orders lost")
        if not conserved:
            problems.append("balances not conserved (" + ", ".join(unbalanced) + ")")
        out["note"] = "; ".join(problems)
    return out, []


def read_ledger(run_dir: Path) -> dict[str, Any] | None:
    """``server/ledger.json`` as written, or None when absent or unreadable."""
    path = Path(run_dir) / SERVER_LEDGER
    if not path.is_file():
        return None
    try:
        ledger = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError, OSError):
        return None
    return ledger if isinstance(ledger, dict) else None
