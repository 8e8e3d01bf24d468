"""Acknowledged orders lost: at most N of the orders the exchange acknowledged are unknown to it
afterwards (``orders-lost: 0``).

Source: the FSS's findings on the night of 3 Dec 2024 (6 Feb 2025) — many compensation claims
were rejected because no order record could prove them, and a business-continuity plan must be
checked to work: an order the exchange acknowledged and then no longer knows is what a claim
cannot be proven without.

The count is the analysis' ``reconciliation.order_status`` (``analysis/order_status.py``): every
order the exchange acknowledged to a simulated person, asked for through the exchange's own
``order_status`` after the run (``surgeproof reconcile RUN_DIR`` continues it); "lost" is the
exchange answering "no such order".

Met when at most N are lost and every acknowledged order has a conclusive answer. Not met when
more than N are lost: the gate's note names them. Not shown (inconclusive) when some orders have
no conclusive answer (the lookup budget ran out, lookups failed) and no more than N are lost
among the rest: ``surgeproof reconcile RUN_DIR`` continues the lookups. Not applicable when the
run has no acknowledged order, or none was looked up (``--no-reconcile``).
"""

from __future__ import annotations

from typing import Any

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import Requirement
from surgeproof.scenario.requirements.kind import Evidence, Judged, RequirementKind

#: Lost orders the gate's note names one by one (the figures carry the analysis' list).
NAMED_AT_MOST = 20
#: The largest count the objective takes (any larger is no objective).
MAX_LOST = 1_000_000_000


class OrdersLost(RequirementKind):
    name = "orders-lost"
    rule = (
        "at most N of the orders the exchange acknowledged are unknown to it afterwards "
        "(looked up through its own order_status)"
    )
    source = (
        "FSS, 6 Feb 2025: claims rejected for want of an order record; a business-continuity "
        "plan checked to work"
    )
    order = 31
    example = "orders-lost: 0"
    objective = True

    def parse(self, f: Field) -> Requirement:
        v = f.value
        if isinstance(v, str) and v.strip().isdigit() and v.strip().isascii():
            v = int(v.strip())
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_LOST:
            raise f.expected("a whole number of orders >= 0, like 0")
        return Requirement(kind=self.name, options=(("max_lost", float(v)),))

    def from_settings(self, d: dict[str, Any]) -> Requirement:
        value = d["max_lost"]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return self.parse(Field("settings", "requirements.max_lost", value))

    def text(self, req: Requirement) -> str:
        return f"{self.name}: {_limit(req)}"

    def plan_text(self, req: Requirement, real: tuple[float, ...], unit: str) -> str:
        n = _limit(req)
        return (
            "no acknowledged order lost (looked up through order_status)"
            if n == 0
            else f"at most {n:,} acknowledged orders lost (looked up through order_status)"
        )

    def judge(self, req: Requirement, ev: Evidence) -> Judged:
        n = _limit(req)
        name = f"acknowledged orders lost <= {n:,}"
        limit = f"<= {n:,}"
        o = ev.orders
        if o is None or o.acknowledged == 0 or o.asked == 0:
            why = (
                "the input has no order journal"
                if o is None
                else "no order was acknowledged to the simulated users"
                if o.acknowledged == 0
                else f"none of the {o.acknowledged:,} acknowledged orders was looked up "
                "(surgeproof reconcile RUN_DIR asks the exchange for them)"
            )
            return Judged("not_applicable", name, "no order looked up", limit, why,
                          f"not applicable: {why}")  # fmt: skip
        figures = {
            "max_lost": n,
            "acknowledged": o.acknowledged,
            "lost": o.lost,
            "consistent": o.consistent,
            "inconsistent": o.inconsistent,
            "unconfirmed": o.unconfirmed,
            "lost_orders": list(o.lost_ids),
        }
        measured = f"{o.lost:,} of {o.acknowledged:,} acknowledged orders lost"
        if o.unconfirmed:
            measured += f" ({o.unconfirmed:,} unconfirmed)"
        if o.lost > n:
            shown = ", ".join(o.lost_ids[:NAMED_AT_MOST])
            more = o.lost - min(len(o.lost_ids), NAMED_AT_MOST)
            note = f"the exchange has no such order: {shown}" + (
                f" and {more:,} more (analysis.json reconciliation.order_status)" if more else ""
            )
            return Judged("fail", name, measured, limit, note, f"not met: {name}; {note}",
                          figures)  # fmt: skip
        if o.unconfirmed:
            why = "; ".join(f"{k} ({c:,})" for k, c in o.unconfirmed_reasons[:3])
            note = (
                f"not shown: {o.unconfirmed:,} acknowledged orders have no conclusive answer"
                + (f": {why}" if why else "")
                + "; surgeproof reconcile RUN_DIR continues the lookups"
            )
            return Judged("inconclusive", name, measured, limit, note,
                          f"not demonstrated: {name}; {note}", figures)  # fmt: skip
        note = (
            f"{o.inconsistent:,} known in a state their history forbids (reconciliation)"
            if o.inconsistent
            else ""
        )
        reason = f"met: {name}; the exchange knows {o.acknowledged - o.lost:,} of them"
        return Judged("pass", name, measured, limit, note, reason, figures)


def _limit(req: Requirement) -> int:
    n = req.option("max_lost")
    if n is None:
        raise ValueError("orders-lost requirement without 'max_lost'")
    return int(n)


KIND = OrdersLost()
