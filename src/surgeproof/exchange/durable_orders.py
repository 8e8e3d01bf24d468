"""Acknowledged orders that survive a restart: the exchange's own order journal.

With ``durability: {orders: true}`` (and a ``state_dir``) every order the API acknowledges is
written to ``<state_dir>/orders.jsonl`` before its answer leaves, and again whenever it closes
(filled or cancelled). A process started on the same state directory — the restart after an
outage — recovers them: each order is known again with the state it last had, and an order that
was still resting is closed as cancelled by the recovery (its funds went with the dead process;
the ledger starts afresh from the seeded balances). The list of acknowledged orders is recovered
whole, so ``/admin/ledger`` names every acknowledged order the restarted exchange does not know.

``lose_last_on_restart: N`` is a test knob: a restart recovers all but the last N orders the
process that went down acknowledged, as an exchange whose last writes never reached its disk.
Reconciliation after the run must find exactly those N.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surgeproof.exchange.orders import Fill, Order

JOURNAL_FILE = "orders.jsonl"
#: Longest journal the recovery reads (a run of millions of orders is a few hundred MB).
MAX_JOURNAL_BYTES = 2 << 30


@dataclass
class Recovered:
    """What a start recovered from the journal."""

    generation: int = 0
    orders: list[Order] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    #: Orders of the previous process that the recovery lost (the knob), in ack order.
    lost: list[str] = field(default_factory=list)
    #: Orders still resting at the restart, closed as cancelled by the recovery.
    closed: int = 0
    damaged_lines: int = 0


class DurableOrders:
    """Appends acknowledged orders to the journal and recovers them at start."""

    def __init__(self, state_dir: str | Path, lose_last_on_restart: int = 0) -> None:
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / JOURNAL_FILE
        self.lose_last = lose_last_on_restart
        self.recovered = self._recover()
        self._known = set(self.recovered.acked)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - the process's life
        gen = self.recovered.generation
        self._write({"op": "start", "generation": gen, "pid": os.getpid(), "t": time.time()})
        if self.recovered.lost:
            self._write({"op": "lost", "generation": gen, "uuids": self.recovered.lost})

    def acked(self, order: Order) -> None:
        """An order acknowledged: on disk before its answer is written."""
        self._known.add(order.uuid)
        self._write({"op": "ack", "order": snapshot(order)})

    def changed(self, order: Order) -> None:
        """An acknowledged order closed (filled or cancelled)."""
        if order.uuid in self._known:
            self._write({"op": "update", "order": snapshot(order)})

    def describe(self) -> dict[str, Any]:
        """What ``/admin/ledger`` says about durability."""
        r = self.recovered
        return {
            "orders_journaled": True,
            "generation": r.generation,
            "recovered_orders": len(r.orders),
            "closed_by_recovery": r.closed,
            "lost_at_restart": list(r.lost),
            "lose_last_on_restart": self.lose_last,
        }

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def _write(self, entry: dict[str, Any]) -> None:
        # Flushed to the kernel at once: a killed process loses nothing it wrote (no fsync: a
        # power cut is not what the drill simulates; the knob is).
        self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._file.flush()

    def _recover(self) -> Recovered:
        out = Recovered()
        if not self.path.is_file():
            return out
        if self.path.stat().st_size > MAX_JOURNAL_BYTES:
            raise OSError(f"{self.path}: order journal over {MAX_JOURNAL_BYTES >> 20} MiB")
        latest: dict[str, dict[str, Any]] = {}
        lost: set[str] = set()
        this_life: list[str] = []  # acks since the last start: the process that went down
        generation = 0
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for raw in f:
                try:
                    entry = json.loads(raw)
                except ValueError:
                    out.damaged_lines += 1  # a line cut by the kill
                    continue
                op = entry.get("op") if isinstance(entry, dict) else None
                if op == "start":
                    generation = max(generation, int(entry.get("generation") or 0) + 1)
                    this_life = []
                elif op == "lost":
                    lost.update(u for u in entry.get("uuids") or [] if isinstance(u, str))
                elif op in ("ack", "update") and isinstance(entry.get("order"), dict):
                    uuid = entry["order"].get("uuid")
                    if not isinstance(uuid, str):
                        out.damaged_lines += 1
                        continue
                    if op == "ack":
                        out.acked.append(uuid)
                        this_life.append(uuid)
                    latest[uuid] = entry["order"]
        if self.lose_last > 0:
            out.lost = [u for u in this_life[-self.lose_last :] if u not in lost]
            lost.update(out.lost)
        out.generation = generation
        for uuid in out.acked:
            data = latest.get(uuid)
            if uuid in lost or data is None:
                continue
            order = restore(data)
            if order.state == "wait":
                order.state = "cancel"
                order.remaining = 0
                order.locked = 0
                out.closed += 1
            out.orders.append(order)
        return out


def snapshot(order: Order) -> dict[str, Any]:
    """An order as the journal keeps it (every field the API can answer with)."""
    return {
        "uuid": order.uuid,
        "account": order.account,
        "market": order.market,
        "side": order.side,
        "ord_type": order.ord_type,
        "price": order.price,
        "volume": order.volume,
        "created": order.created,
        "seq": order.seq,
        "identifier": order.identifier,
        "remaining": order.remaining,
        "reserved_fee": order.reserved_fee,
        "paid_fee": order.paid_fee,
        "executed_volume": order.executed_volume,
        "executed_funds": order.executed_funds,
        "state": order.state,
        "fills": [[f.uuid, f.price, f.volume, f.funds, f.ts, f.trend] for f in order.fills],
    }


def restore(data: dict[str, Any]) -> Order:
    """The order a snapshot describes."""
    fills = [
        Fill(*row) for row in data.get("fills") or [] if isinstance(row, list) and len(row) == 6
    ]
    return Order(
        uuid=data["uuid"],
        account=str(data.get("account")),
        market=str(data.get("market")),
        side=str(data.get("side")),
        ord_type=str(data.get("ord_type")),
        price=data.get("price"),
        volume=data.get("volume"),
        created=float(data.get("created") or 0.0),
        seq=int(data.get("seq") or 0),
        identifier=data.get("identifier"),
        remaining=int(data.get("remaining") or 0),
        reserved_fee=int(data.get("reserved_fee") or 0),
        paid_fee=int(data.get("paid_fee") or 0),
        executed_volume=int(data.get("executed_volume") or 0),
        executed_funds=int(data.get("executed_funds") or 0),
        state=str(data.get("state") or "wait"),
        fills=fills,
    )
