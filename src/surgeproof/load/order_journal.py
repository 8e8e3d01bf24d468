"""The client side's order journal: every order call a simulated person sent, and its answer.

Records say *that* an order submission was sent and how it ended; the journal adds what a
compensation process and a reconciliation need about each: the order id the exchange gave, the
account, the side, price and volume asked for, the price the person had last seen, and every
cancel asked for. After a run each acknowledged order is looked up by its id through the
dialect's ``order_status`` (``order_lookup``), and the analysis classifies it.

Lines are kept per process and drained with each second's batch into ``orders/<source>.jsonl``
(rundir FORMAT.md); nothing secret is in them (an account is named by its member id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from surgeproof.rundir.schema import OUTCOME_NAMES

#: Actions journaled: the order submissions and the cancels (a lookup is not an order call).
JOURNALED = frozenset({"limit_order", "market_buy", "market_sell", "cancel_order"})
#: What of an action's values a line keeps (never a credential).
KEPT_VALUES = ("side", "price", "volume", "funds")
#: Lines one process holds between drains before it drops the oldest (said in ``dropped``).
MAX_PENDING = 200_000
#: Longest text a journal line keeps of an answer's field (an order id, a state, a code).
MAX_TEXT = 128


@dataclass
class OrderJournal:
    """Order calls answered since the last drain, as journal lines."""

    pending: list[dict[str, Any]] = field(default_factory=list)
    #: Lines dropped because nobody drained them (a driver that never ships the journal).
    dropped: int = 0

    def note(
        self,
        *,
        user: int,
        account: str | None,
        action: str,
        values: dict[str, Any],
        stands_in: str | None,
        intended_ns: int,
        sent_ns: int,
        end_ns: int,
        attempt: int,
        outcome: int,
        status: int,
        order_id: Any = None,
        code: str | None = None,
        executed_volume: Any = None,
        price_seen: float | None = None,
    ) -> None:
        """Journal one answered order call (submission or cancel)."""
        line: dict[str, Any] = {
            "t_ns": end_ns,
            "user": user,
            "account": account,
            "action": action,
            "intended_ns": intended_ns,
            "sent_ns": sent_ns,
            "end_ns": end_ns,
            "attempt": attempt,
            "outcome": OUTCOME_NAMES.get(int(outcome), "unknown"),
            "status": status,
            "order_id": _text(order_id),
        }
        if stands_in is not None:
            line["stands_in"] = stands_in
        for key in KEPT_VALUES:
            if key in values:
                line[key] = _text(values[key])
        if code is not None:
            line["code"] = _text(code)
        if executed_volume is not None:
            line["executed_volume"] = _text(executed_volume)
        if price_seen is not None:
            line["price_seen"] = price_seen
        self.pending.append(line)
        if len(self.pending) > MAX_PENDING:
            over = len(self.pending) - MAX_PENDING
            del self.pending[:over]
            self.dropped += over

    def take(self) -> list[dict[str, Any]]:
        """The lines since the last drain (oldest first); starts afresh."""
        lines, self.pending = self.pending, []
        return lines


def _text(value: Any) -> str | None:
    """An answer's value as bounded text (ids may be numbers in some APIs)."""
    if value is None or isinstance(value, dict | list | bool):
        return None
    return str(value)[:MAX_TEXT]


def clean_lines(lines: Any, limit: int = MAX_PENDING) -> tuple[list[dict[str, Any]], int]:
    """Journal lines from a worker's message, as far as they are plausible: (kept, refused).

    Workers' bytes may be crafted: only mappings of short JSON-able values are kept, at most
    ``limit`` per batch, each at most 4 KiB once written.
    """
    if not isinstance(lines, list):
        return [], 0 if lines is None else 1
    kept: list[dict[str, Any]] = []
    refused = 0
    for line in lines[:limit]:
        if (
            not isinstance(line, dict)
            or not isinstance(line.get("action"), str)
            or line["action"] not in JOURNALED
            or not all(isinstance(k, str) and _plain(v) for k, v in line.items())
        ):
            refused += 1
            continue
        if len(json.dumps(line, allow_nan=False)) > 4096:
            refused += 1
            continue
        kept.append(line)
    return kept, refused + max(0, len(lines) - limit)


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -(1 << 63) <= value < (1 << 63)
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    return isinstance(value, str) and len(value) <= MAX_TEXT
