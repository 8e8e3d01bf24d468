"""``recovery`` of analysis.json: each fault's RTO and its toll on calls, sessions and orders
(FORMAT.md; written by ``analysis/recovery.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from surgeproof.analysis.contract.record import ABSENT, Json, Record


@dataclass(kw_only=True)
class Mark(Record):
    """One of ``recovery.marks``: an external mark (``surgeproof mark``) on the run's clock."""

    t_ns: int
    t_s: float
    text: str


@dataclass(kw_only=True)
class Rto(Record):
    """A fault's ``rto``: from its start to the end of the first window that held every SLO."""

    status: Literal["recovered", "no_impact", "not_recovered", "not_judged"]
    rto_s: float | None
    impact_ns: int | None
    impact_after_s: float | None
    recovered_ns: int | None
    held_until_ns: int | None
    breached_windows: int
    window_s: float
    rule: str
    until_ns: int | None


@dataclass(kw_only=True)
class FaultSpan(Record):
    """A fault's ``span``: "during the fault", from its start to the end of its recovery."""

    start_ns: int
    end_ns: int
    duration_s: float


@dataclass(kw_only=True)
class SpanGroup(Record):
    """One of a fault's ``groups``: its calls in the span and its longest wait for a success."""

    calls: int
    ok: int = ABSENT
    error_ratio: float = ABSENT
    errors: dict[str, int] = ABSENT
    latency_ms: dict[str, float | None] = ABSENT
    first_ok_s: float | None = ABSENT
    waiting_from_s: float | None = ABSENT
    longest_wait_s: float | None = ABSENT


@dataclass(kw_only=True)
class Logins(Record):
    """A fault's ``logins``: login-group calls in the span, and the refused ones by cause."""

    attempts: int
    ok: int
    refused: int
    refused_by_cause: dict[str, int]


@dataclass(kw_only=True)
class WebsocketToll(Record):
    """A fault's ``websocket``: sessions lost in the span and their return."""

    sessions_lost: int
    sessions_back: int
    never_back: int
    never_back_since_ns: int | None = ABSENT
    resubscribe_s: dict[str, float] | None
    reconnect_attempts: int


@dataclass(kw_only=True)
class OrderCheckEntry(Record):
    """An in-flight order's ``reconciliation``: what the exchange's API said of it after the
    run (``order_status.OrderCheck``)."""

    order_id: str
    source: str
    user: int | None
    account: str | None
    action: str
    acked_ns: int | None
    status: Literal["consistent", "unknown", "inconsistent", "unconfirmed"]
    reasons: list[str]
    state: str | None
    raw_state: str | None
    executed_volume: str | None
    cancel_acknowledged: bool


@dataclass(kw_only=True)
class InFlightOrder(Record):
    """One of ``orders_in_flight.orders``: a submission sent before the fault, answered after."""

    source: str
    user: int
    action: str | None
    intended_ns: int
    sent_ns: int
    end_ns: int
    outcome: str
    #: The call's HTTP status as the order journal wrote it.
    status: Json
    order_id: str | None
    fate: str
    reconciliation: OrderCheckEntry | None


@dataclass(kw_only=True)
class OrdersInFlight(Record):
    """A fault's ``orders_in_flight``: the order submissions it caught, by fate."""

    count: int
    by_fate: dict[str, int]
    orders: list[InFlightOrder]
    listed: int


@dataclass(kw_only=True)
class FaultRecord(Record):
    """One of ``recovery.faults``: a fault, its RTO, and what it cost during its span."""

    fault: int
    name: str
    kind: str
    #: Where the fault was asked for, as its ``fault_start`` event said (a text, or null).
    origin: Json
    start_ns: int
    end_ns: int | None
    t_start_s: float
    t_end_s: float | None
    action_s: float | None
    #: The fault's own facts as its events gave them (argv, exit_status, output_tail, ...).
    action: dict[str, Json]
    rto: Rto
    span: FaultSpan
    groups: dict[str, SpanGroup]
    logins: Logins
    websocket: WebsocketToll | None
    orders_in_flight: OrdersInFlight
    sentence: str


@dataclass(kw_only=True)
class Recovery(Record):
    """``recovery``: one record per fault, in start order, and the rule they were measured by."""

    faults: list[FaultRecord]
    rule: str
    silence_horizon_s: float
    listed_orders_at_most: int
    marks: list[Mark] = ABSENT
