"""Nothing lost: every order the exchange acknowledged, as its own API answers for it afterwards.

The client side's order journal (``orders/<source>.jsonl``) says which orders the exchange
acknowledged (a submission answered ok with an order id) and which cancels it acknowledged; the
lookups made after the run through the dialect's ``order_status`` (``reconciliation/
order_status.jsonl``) say what the exchange knows of each now. Each acknowledged order is:

* **consistent** — the exchange knows it, in a state its history allows;
* **unknown** — the exchange answered "no such order": it lost an order it acknowledged (data
  loss, what a compensation claim cannot be proven without);
* **inconsistent** — the exchange knows it, in a state its history forbids: a cancel was
  acknowledged but the order is still open; it was filled after its cancel was acknowledged
  (more executed now than the cancel's answer said, or filled outright although the cancel
  left it unfilled); more executed than was ordered;
* **unconfirmed** — no conclusive answer: not looked up (budget), the lookup failed, or a state
  word the dialect's ``reconcile.states`` does not map.

Pure: files in, figures out; no network.
"""

from __future__ import annotations

import stat
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from surgeproof.analysis.contract.quality import OrderStatus
from surgeproof.analysis.contract.record import ABSENT
from surgeproof.confine import entries, lstat_confined, read_bounded
from surgeproof.rundir.reader import read_jsonl
from surgeproof.rundir.schema import DIALECT_COPY, LOOKUP_ANSWERS, ORDERS_DIR
from surgeproof.rundir.span import is_ns
from surgeproof.scenario.requirements import OrderLookups

SUBMISSIONS = frozenset({"limit_order", "market_buy", "market_sell"})
#: Orders listed one by one per class in analysis.json (the counts are always whole).
LISTED = 1000
STATUSES = ("consistent", "unknown", "inconsistent", "unconfirmed")
#: Largest dialect.yaml copy read for its state words (a dialect is a few kilobytes).
MAX_DIALECT_BYTES = 1 << 20
#: Why an order without any lookup answer is unconfirmed.
NOT_LOOKED_UP = "not looked up"


@dataclass
class Acknowledged:
    """An order the exchange acknowledged to a simulated person, with its cancels."""

    order_id: str
    source: str
    user: int | None
    account: str | None
    action: str
    acked_ns: int | None
    volume: str | None
    #: Times (ns) and executed volumes (text or None) of the cancels the exchange acknowledged.
    cancels: list[tuple[int | None, str | None]] = field(default_factory=list)


@dataclass
class OrderCheck:
    """One acknowledged order's reconciliation."""

    order: Acknowledged
    status: str  # one of STATUSES
    reasons: list[str]
    state: str | None = None  # open | filled | cancelled, as the dialect maps the exchange's word
    raw_state: str | None = None
    executed_volume: str | None = None

    def to_dict(self) -> dict[str, Any]:
        o = self.order
        return {
            "order_id": o.order_id,
            "source": o.source,
            "user": o.user,
            "account": o.account,
            "action": o.action,
            "acked_ns": o.acked_ns,
            "status": self.status,
            "reasons": self.reasons,
            "state": self.state,
            "raw_state": self.raw_state,
            "executed_volume": self.executed_volume,
            "cancel_acknowledged": bool(o.cancels),
        }


def read_journal(
    run_dir: Path,
    keep: Callable[[dict[str, Any]], bool] | None = None,
    *,
    skip_corrupt: bool = False,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every journal line of every source (``source`` added from the file's name), by time.

    The folder and its files are reached without following a link (a link is said, not read);
    ``keep`` narrows which lines count (default: an action and a text order id or none)."""
    rows: list[dict[str, Any]] = []
    damage: list[str] = []
    if not _confined_dir(run_dir, ORDERS_DIR, damage):
        return rows, damage
    for entry in entries(run_dir, ORDERS_DIR, "order journal"):
        if not entry.name.endswith(".jsonl"):
            continue
        if entry.kind != "file":
            damage.append(f"{ORDERS_DIR}/{entry.name}: {_kind_said(entry.kind)}, not read")
            continue
        got, bad = read_jsonl(
            Path(run_dir) / ORDERS_DIR / entry.name, keep or _journal_row, skip_corrupt=skip_corrupt
        )
        source = entry.name.removesuffix(".jsonl")
        for row in got:
            row["source"] = source
        rows += got
        damage += [f"{ORDERS_DIR}/{d}" for d in bad]
    rows.sort(key=lambda r: r.get("end_ns") if _int(r.get("end_ns")) is not None else 0)
    return rows, damage


def _confined_dir(run_dir: Path, name: str, damage: list[str]) -> bool:
    """Whether ``run_dir/name`` is a folder of the run's own (a link there is said in
    ``damage``, never followed)."""
    st = lstat_confined(run_dir, name, "run directory")
    if st is None:
        return False
    if not stat.S_ISDIR(st.st_mode):
        kind = "link" if stat.S_ISLNK(st.st_mode) else "other"
        damage.append(f"{name}: {_kind_said(kind)}, not read")
        return False
    return True


def _kind_said(kind: str) -> str:
    return "a symbolic link" if kind == "link" else "not a regular file or folder"


def _journal_row(row: dict[str, Any]) -> bool:
    return isinstance(row.get("action"), str) and (
        row.get("order_id") is None or isinstance(row.get("order_id"), str)
    )


def acknowledged_orders(journal: Iterable[dict[str, Any]]) -> dict[str, Acknowledged]:
    """Orders acknowledged by id (the first acknowledgement of an id), their acknowledged cancels
    attached; in acknowledgement order."""
    orders: dict[str, Acknowledged] = {}
    cancels: list[dict[str, Any]] = []
    for row in journal:
        oid = row.get("order_id")
        if row.get("outcome") != "ok" or not isinstance(oid, str) or not oid:
            continue
        action = row["action"]
        if action in SUBMISSIONS and oid not in orders:
            orders[oid] = Acknowledged(
                oid,
                str(row.get("source", "")),
                _int(row.get("user")),
                row.get("account") if isinstance(row.get("account"), str) else None,
                action,
                _int(row.get("end_ns")),
                row.get("volume") if isinstance(row.get("volume"), str) else None,
            )
        elif action == "cancel_order":
            cancels.append(row)
    for row in cancels:
        o = orders.get(row["order_id"])
        if o is not None:
            ev = row.get("executed_volume")
            o.cancels.append((_int(row.get("end_ns")), ev if isinstance(ev, str) else None))
    return orders


def read_lookups(
    run_dir: Path, *, skip_corrupt: bool = False
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The latest lookup answer per order id (a later line replaces an earlier one)."""
    damage: list[str] = []
    folder_name, _ = LOOKUP_ANSWERS.split("/")
    if not _confined_dir(run_dir, folder_name, damage):
        return {}, damage
    rows, more = read_jsonl(
        Path(run_dir) / LOOKUP_ANSWERS,
        lambda r: isinstance(r.get("order_id"), str),
        skip_corrupt=skip_corrupt,
    )
    return {r["order_id"]: r for r in rows}, damage + more


def check_order(order: Acknowledged, answer: dict[str, Any] | None, states: dict[str, str] | None):
    """The one rule: what ``answer`` (a lookup line, or None) says of acknowledged ``order``."""
    if answer is None:
        return OrderCheck(order, "unconfirmed", [NOT_LOOKED_UP])
    kind = answer.get("answer")
    if kind == "unknown":
        code = answer.get("code")
        said = f"HTTP {answer.get('status')}" + (f", code {code}" if code else "")
        return OrderCheck(order, "unknown", [f"the exchange has no such order ({said})"])
    if kind != "found":
        why = answer.get("error") or answer.get("outcome") or "no usable answer"
        return OrderCheck(order, "unconfirmed", [f"lookup failed: {why}"])
    raw = answer.get("order_state")
    raw_text = None if raw is None or isinstance(raw, dict | list) else str(raw)
    executed = answer.get("executed_volume")
    executed_text = executed if isinstance(executed, str) else None
    if states is None:
        return OrderCheck(
            order, "unconfirmed", ["the dialect has no reconcile.states"], None, raw_text
        )
    state = states.get(raw_text) if raw_text is not None else None
    if state is None:
        why = (
            "the answer has no order state"
            if raw_text is None
            else f"state {raw_text!r} is not in the dialect's reconcile.states"
        )
        return OrderCheck(order, "unconfirmed", [why], None, raw_text, executed_text)
    reasons = _contradictions(order, state, _dec(executed_text))
    status = "inconsistent" if reasons else "consistent"
    return OrderCheck(order, status, reasons, state, raw_text, executed_text)


def _contradictions(order: Acknowledged, state: str, executed: Decimal | None) -> list[str]:
    reasons = []
    ordered = _dec(order.volume)
    limit = order.action == "limit_order"
    if executed is not None and ordered is not None and limit and executed > ordered:
        reasons.append(f"executed {executed} is more than the {ordered} ordered")
    if order.cancels:
        if state == "open":
            reasons.append("a cancel was acknowledged but the order is still open")
        at_cancel = [v for v in (_dec(c[1]) for c in order.cancels) if v is not None]
        if at_cancel and executed is not None and executed > max(at_cancel):
            reasons.append(
                f"filled after its cancel was acknowledged: executed {executed} now, "
                f"{max(at_cancel)} when the cancel was answered"
            )
        elif state == "filled" and at_cancel and ordered is not None and max(at_cancel) < ordered:
            reasons.append("filled although its acknowledged cancel left it unfilled")
    return reasons


def check_orders(run_dir: Path) -> tuple[list[OrderCheck], list[str]]:
    """Every acknowledged order of a run, checked (for the analysis and the order ledger)."""
    _journal, checks, damage = journal_and_checks(run_dir)
    return checks, damage


def journal_and_checks(
    run_dir: Path,
) -> tuple[list[dict[str, Any]], list[OrderCheck], list[str]]:
    """The order journal, every acknowledged order checked against its lookup, and damage."""
    journal, damage = read_journal(run_dir)
    lookups, more = read_lookups(run_dir)
    states = reconcile_states(run_dir)
    orders = acknowledged_orders(journal)
    checks = [check_order(o, lookups.get(oid), states) for oid, o in orders.items()]
    return journal, checks, damage + more


def reconcile_states(run_dir: Path) -> dict[str, str] | None:
    """The state words of the run's dialect (its ``dialect.yaml`` copy), or None."""
    from surgeproof.dialect.catalog import parse_dialect_text
    from surgeproof.errors import UserError

    path = Path(run_dir) / DIALECT_COPY
    try:
        st = lstat_confined(run_dir, DIALECT_COPY, "run directory")
        if st is None or not stat.S_ISREG(st.st_mode):
            return None
        text = read_bounded(run_dir, DIALECT_COPY, MAX_DIALECT_BYTES, "run directory")
        dialect = parse_dialect_text(text.decode("utf-8"), str(path))
    except (UserError, OSError, ValueError):
        return None
    return dict(dialect.reconcile.states) if dialect.reconcile is not None else None


def order_status_section(
    checks: Sequence[OrderCheck],
    ledger: dict[str, Any] | None,
    *,
    journal_present: bool,
    outages: int = 0,
) -> dict[str, Any]:
    """The ``reconciliation.order_status`` object of analysis.json."""
    counts = Counter(c.status for c in checks)
    out: dict[str, Any] = {
        "available": bool(checks) or journal_present,
        "acknowledged": len(checks),
        "looked_up": sum(1 for c in checks if c.status != "unconfirmed"),
        "asked": sum(1 for c in checks if c.reasons[:1] != [NOT_LOOKED_UP]),
        "counts": {s: counts.get(s, 0) for s in STATUSES},
        "lost_orders": [c.order.order_id for c in checks if c.status == "unknown"][:LISTED],
        "inconsistent_orders": [
            {"order_id": c.order.order_id, "reasons": c.reasons}
            for c in checks
            if c.status == "inconsistent"
        ][:LISTED],
        "unconfirmed_reasons": dict(
            Counter(c.reasons[0] if c.reasons else "" for c in checks if c.status == "unconfirmed")
        ),
        "listed_at_most": LISTED,
    }
    if not out["available"]:
        out.update(status="unavailable", passed=None, note="no order journal in this run")
    elif counts.get("unknown") or counts.get("inconsistent"):
        out.update(status="failed", passed=False)
    elif counts.get("unconfirmed"):
        out.update(status="incomplete", passed=None)
    else:
        out.update(status="passed", passed=True)
    if out["available"]:
        out["note"] = _note(out)
    out["ledger_agreement"] = ledger_agreement(checks, ledger, outages)
    return out


def _note(out: dict[str, Any]) -> str:
    c = out["counts"]
    n = out["acknowledged"]
    if not n:
        return "no order was acknowledged to the simulated users"
    parts = [f"{c['consistent']:,} of {n:,} acknowledged orders known and consistent"]
    if c["unknown"]:
        parts.append(f"{c['unknown']:,} lost by the exchange (it has no such order)")
    if c["inconsistent"]:
        parts.append(f"{c['inconsistent']:,} inconsistent")
    if c["unconfirmed"]:
        parts.append(f"{c['unconfirmed']:,} unconfirmed")
    return "; ".join(parts)


def ledger_agreement(
    checks: Sequence[OrderCheck], ledger: dict[str, Any] | None, outages: int
) -> dict[str, Any]:
    """Whether the embedded exchange's own ledger names the same lost orders as the lookups.

    The ledger can also hold orders the client never saw acknowledged (its answer timed out):
    those are named apart. Order ids are compared when the ledger's ids are the client's (Upbit,
    Coinone: uuids), else counts (Bithumb answers with order numbers).
    """
    out: dict[str, Any] = {"available": False, "agrees": None}
    if not isinstance(ledger, dict) or not isinstance(ledger.get("lost_orders"), list):
        out["note"] = "no ledger of the exchange (a real target, or cut short)"
        return out
    if outages and not isinstance(ledger.get("durability"), dict):
        out["note"] = (
            "the ledger comes from a process restarted without its order journal: it cannot "
            "see what the one before acknowledged"
        )
        return out
    lost_ledger = [u for u in ledger["lost_orders"] if isinstance(u, str)]
    acked_ledger = ledger.get("acknowledged_orders")
    ids = acked_ledger.get("uuids") if isinstance(acked_ledger, dict) else None
    status = {c.order.order_id: c.status for c in checks}
    unknown = {oid for oid, st in status.items() if st == "unknown"}
    comparable = isinstance(ids, list) and bool(status.keys() & set(ids))
    out.update(available=True, ledger_lost=len(lost_ledger), lookups_unknown=len(unknown))
    if comparable:
        seen = {u for u in lost_ledger if u in status}
        answered = {u for u in seen if status[u] != "unconfirmed"}
        out.update(
            by="order ids",
            agrees=answered == unknown,
            only_ledger=sorted(answered - unknown)[:LISTED],
            only_lookups=sorted(unknown - answered)[:LISTED],
            ledger_lost_unconfirmed=len(seen - answered),
            never_seen_by_client=len(lost_ledger) - len(seen),
        )
    else:
        unconfirmed = sum(1 for st in status.values() if st == "unconfirmed")
        out.update(
            by="counts",
            agrees=len(lost_ledger) == len(unknown) if not unconfirmed else None,
        )
        if unconfirmed:
            out["note"] = f"{unconfirmed:,} orders unconfirmed: the counts cannot be compared"
    return out


def _dec(text: Any) -> Decimal | None:
    if not isinstance(text, str) or len(text) > 40:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def order_lookups_figure(analysis: Mapping[str, Any]) -> OrderLookups | None:
    """The figure the orders objective reads (``orders-lost``), from the document's
    ``reconciliation.order_status``; None when the input has no order journal."""
    raw = (analysis.get("reconciliation") or {}).get("order_status")
    if raw is None:
        return None
    section = OrderStatus.from_json(raw, "analysis.json: reconciliation.order_status")
    if not section.available:
        return None
    counts = section.counts
    # Written before "asked": a conclusive answer was asked for.
    asked = section.looked_up if section.asked is ABSENT else section.asked
    return OrderLookups(
        acknowledged=_count(section.acknowledged),
        asked=_count(asked),
        consistent=_count(counts.consistent),
        lost=_count(counts.unknown),
        inconsistent=_count(counts.inconsistent),
        unconfirmed=_count(counts.unconfirmed),
        lost_ids=tuple(section.lost_orders),
        unconfirmed_reasons=tuple(
            sorted(
                ((k, _count(v)) for k, v in section.unconfirmed_reasons.items()),
                key=lambda kv: -kv[1],
            )
        ),
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


# -- the client-side order ledger (``surgeproof export``'s ``order_ledger`` table) -------------

#: The journal's text fields a ledger row keeps as they are (each text or absent).
LEDGER_TEXT = ("account", "stands_in", "side", "price", "volume", "funds", "outcome", "code",
               "order_id", "executed_volume")  # fmt: skip
#: The journal's times (Unix ns, or absent / 0 when there is none).
LEDGER_TIMES = ("intended_ns", "sent_ns", "end_ns")
_JOURNALED = SUBMISSIONS | {"cancel_order"}


def ledger_line(row: dict[str, Any]) -> bool:
    """Whether a journal line is one the order ledger can state: a journaled action, its times
    Unix ns, its user, attempt and status small whole numbers, its texts text, the price seen a
    number; anything else is a corrupt line (counted and skipped)."""
    action = row.get("action")
    if not isinstance(action, str) or action not in _JOURNALED:
        return False
    if any(row.get(k) is not None and not isinstance(row[k], str) for k in LEDGER_TEXT):
        return False
    if any(row.get(k) is not None and not is_ns(row[k]) for k in LEDGER_TIMES):
        return False
    for key, top in (("user", 1 << 32), ("attempt", 1 << 8), ("status", 1000)):
        v = row.get(key)
        if v is not None and not (_int(v) is not None and 0 <= v < top):
            return False
    seen = row.get("price_seen")
    return seen is None or (isinstance(seen, int | float) and not isinstance(seen, bool))


def order_ledger(run_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Every order call of the journal, per simulated user (source, user, intended time), with
    the final state reconciliation found for its order; and the damage said.

    Linear in lines (one pass, one sort): each line's order is found by id in the checks of the
    acknowledged orders, classified by the one rule (``check_order``). A line that is not JSON or
    not one the ledger can state is counted and skipped, never fatal: the ledger is evidence, it
    keeps every line it can read."""
    journal, damage = read_journal(run_dir, ledger_line, skip_corrupt=True)
    lookups, more = read_lookups(run_dir, skip_corrupt=True)
    states = reconcile_states(run_dir)
    checks = {
        oid: check_order(o, lookups.get(oid), states)
        for oid, o in acknowledged_orders(journal).items()
    }
    rows = []
    for line in journal:
        oid = line.get("order_id")
        check = checks.get(oid) if isinstance(oid, str) else None
        acked = (
            check is not None
            and line["action"] in SUBMISSIONS
            and line.get("outcome") == "ok"
            and check.order.acked_ns == _int(line.get("end_ns"))
            and check.order.source == line["source"]
        )
        rows.append(
            {
                "source": line["source"],
                "user": line.get("user"),
                "action": line["action"],
                **{k: line.get(k) for k in LEDGER_TEXT},
                **{k: line.get(k) or None for k in LEDGER_TIMES},
                "attempt": line.get("attempt"),
                "status": line.get("status"),
                "price_seen": line.get("price_seen"),
                "acknowledged": acked,
                "reconciliation": check.status if check else None,
                "reconciliation_reasons": "; ".join(check.reasons) if check else None,
                "final_state": check.state if check else None,
                "exchange_state": check.raw_state if check else None,
                "final_executed_volume": check.executed_volume if check else None,
            }
        )
    rows.sort(key=_by_user)
    return rows, damage + more


def _by_user(row: dict[str, Any]) -> tuple[str, int, int, int]:
    return (row["source"], row["user"] or 0, row["intended_ns"] or 0, row["attempt"] or 0)
