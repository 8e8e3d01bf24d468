"""The order record and its Upbit JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from surgeproof.exchange.money import fmt

KST = timezone(timedelta(hours=9))


def kst_iso(ts: float) -> str:
    """Unix seconds as Upbit's KST timestamp, e.g. ``2024-12-03T22:55:00+09:00``."""
    return datetime.fromtimestamp(ts, KST).isoformat(timespec="seconds")


def utc_parts(ts: float) -> tuple[str, str]:
    """(``yyyy-MM-dd``, ``HH:mm:ss``) in UTC."""
    d = datetime.fromtimestamp(ts, UTC)
    return d.strftime("%Y-%m-%d"), d.strftime("%H:%M:%S")


@dataclass
class Fill:
    """One execution of an order against another."""

    uuid: str
    price: int
    volume: int
    funds: int
    ts: float
    trend: str  # "up" | "down" (Upbit's field on order trades)


@dataclass
class Order:
    """An order; amounts in units (see money). For ``price`` orders ``remaining`` is KRW."""

    uuid: str
    account: str
    market: str
    side: str  # "bid" | "ask"
    ord_type: str  # "limit" | "price" | "market"
    price: int | None
    volume: int | None
    created: float
    seq: int
    identifier: str | None = None
    remaining: int = 0
    locked: int = 0
    reserved_fee: int = 0
    paid_fee: int = 0
    executed_volume: int = 0
    executed_funds: int = 0
    state: str = "wait"  # "wait" | "done" | "cancel"
    fills: list[Fill] = field(default_factory=list)

    @property
    def quote(self) -> str:
        return self.market.split("-", 1)[0]

    @property
    def base(self) -> str:
        return self.market.split("-", 1)[1]

    def to_json(self, with_trades: bool = False) -> dict:
        """The order as Upbit's order endpoints answer it."""
        remaining_volume = self.remaining if self.ord_type != "price" else None
        fee_left = max(self.reserved_fee - self.paid_fee, 0) if self.state == "wait" else 0
        out = {
            "uuid": self.uuid,
            "side": self.side,
            "ord_type": self.ord_type,
            "price": fmt(self.price) if self.price is not None else None,
            "state": self.state,
            "market": self.market,
            "created_at": kst_iso(self.created),
            "volume": fmt(self.volume) if self.volume is not None else None,
            "remaining_volume": fmt(remaining_volume) if remaining_volume is not None else None,
            "reserved_fee": fmt(self.reserved_fee),
            "remaining_fee": fmt(fee_left),
            "paid_fee": fmt(self.paid_fee),
            "locked": fmt(self.locked),
            "executed_volume": fmt(self.executed_volume),
            "executed_funds": fmt(self.executed_funds),
            "trades_count": len(self.fills),
        }
        if self.identifier is not None:
            out["identifier"] = self.identifier
        if with_trades:
            out["trades"] = [
                {
                    "market": self.market,
                    "uuid": f.uuid,
                    "price": fmt(f.price),
                    "volume": fmt(f.volume),
                    "funds": fmt(f.funds),
                    "trend": f.trend,
                    "created_at": kst_iso(f.ts),
                    "side": self.side,
                }
                for f in self.fills
            ]
        return out
