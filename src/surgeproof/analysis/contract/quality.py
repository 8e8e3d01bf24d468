"""``data_quality`` and ``generator`` of analysis.json: what limits the numbers (FORMAT.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from surgeproof.analysis.contract.record import ABSENT, Json, Record


@dataclass(kw_only=True)
class ShortfallWindow(Record):
    """One of ``data_quality.shortfall_windows``: a lost worker's users not running."""

    source: str
    lost_ns: int
    start_ns: int
    end_ns: int | None
    t_start_s: float
    t_end_s: float | None
    short_s: float | None
    restored: bool
    detected_by: str | None
    users: float | None
    levels: list[str]


@dataclass(kw_only=True)
class RefusedEntry(Record):
    """One of ``data_quality.refused_messages.entries``: refusals of one peer, kind and reason."""

    peer: str | None
    claimed_source: str | None
    message: str | None
    reason: str | None
    why: str | None
    count: int
    first_ns: int | None
    last_ns: int | None
    first_t_s: float | None
    last_t_s: float | None


@dataclass(kw_only=True)
class RefusedMessages(Record):
    """``data_quality.refused_messages``: worker-channel messages the master refused."""

    messages: int
    peers: int
    by_reason: dict[str, int]
    entries: list[RefusedEntry]


@dataclass(kw_only=True)
class DataQuality(Record):
    """``data_quality``: partial data, damage, precision and the caveats every reader shows."""

    partial: bool
    partial_reason: str | None
    damage: list[str]
    precision: Literal["exact", "reduced"]
    precision_notes: list[str]
    caveats: list[str]
    shortfall_windows: list[ShortfallWindow] = ABSENT
    refused_messages: RefusedMessages = ABSENT
    closed_model: bool


@dataclass(kw_only=True)
class GeneratorSource(Record):
    """One of ``generator.sources``: a generator source's CPU and records."""

    cpu_max_percent: float
    cpu_mean_percent: float
    samples: int
    records: int | None


@dataclass(kw_only=True)
class Generator(Record):
    """``generator``: whether the load generator kept its schedule, and its sources."""

    bottleneck: bool
    inconclusive_levels: list[str]
    statement: str
    late_ratio: float | None
    missed: int | None
    cpu_max_percent: float | None
    sources: dict[str, GeneratorSource]
    #: run.json's ``workers.lost`` entries, copied as the run wrote them.
    lost_workers: list[Json]


@dataclass(kw_only=True)
class LookupCounts(Record):
    """``order_status.counts``: acknowledged orders by what the exchange's API said of them."""

    consistent: int
    unknown: int
    inconsistent: int
    unconfirmed: int


@dataclass(kw_only=True)
class InconsistentOrder(Record):
    """One of ``order_status.inconsistent_orders``: an order in a state its history forbids."""

    order_id: str
    reasons: list[str]


@dataclass(kw_only=True)
class LedgerAgreement(Record):
    """``order_status.ledger_agreement``: the embedded exchange's ledger against the lookups."""

    available: bool
    agrees: bool | None
    ledger_lost: int = ABSENT
    lookups_unknown: int = ABSENT
    by: Literal["order ids", "counts"] = ABSENT
    only_ledger: list[str] = ABSENT
    only_lookups: list[str] = ABSENT
    ledger_lost_unconfirmed: int = ABSENT
    never_seen_by_client: int = ABSENT
    note: str = ABSENT


@dataclass(kw_only=True)
class OrderStatus(Record):
    """``reconciliation.order_status``: every acknowledged order looked up after the run."""

    available: bool
    acknowledged: int
    looked_up: int
    asked: int = ABSENT
    counts: LookupCounts
    lost_orders: list[str]
    inconsistent_orders: list[InconsistentOrder]
    unconfirmed_reasons: dict[str, int]
    listed_at_most: int
    status: Literal["passed", "failed", "incomplete", "unavailable"]
    passed: bool | None
    note: str
    ledger_agreement: LedgerAgreement


@dataclass(kw_only=True)
class Reconciliation(Record):
    """``reconciliation``: the exchange's ledger against the orders it acknowledged."""

    available: bool
    lost_acknowledged_orders: int | None
    acknowledged_orders: int | None
    balances_conserved: bool | None
    passed: bool | None
    #: The ledger's own fields, copied.
    details: dict[str, Json]
    note: str
    status: Literal["passed", "failed", "partial", "incomplete", "unavailable"] = ABSENT
    partial_reason: str | None = ABSENT
    #: Every acknowledged order looked up (``analysis/order_status.py`` writes and documents it).
    order_status: OrderStatus = ABSENT
