"""``incidents`` of analysis.json: SLO-breach windows, target and gateway outages (FORMAT.md)."""

from __future__ import annotations

from dataclasses import dataclass

from surgeproof.analysis.contract.record import ABSENT, Json, Record


@dataclass(kw_only=True)
class OrderCounts(Record):
    """Order submissions during a breach or the whole run (null counts: Locust CSV)."""

    submitted: int | None
    failed: int | None
    timed_out: int | None
    by_cause: dict[str, int]
    note: str = ABSENT


@dataclass(kw_only=True)
class BreachWindow(Record):
    """One of ``incidents.breach_windows``: consecutive series windows in which an SLO broke."""

    start_ns: int
    end_ns: int
    t_start_s: float
    duration_s: float
    slos_broken: list[str]
    peak_offered_users: float
    load_fell_ns: int | None
    recovered: bool
    time_to_recover_s: float | None
    orders: OrderCounts
    resends: int = ABSENT
    resend_share: float | None = ABSENT
    reconnect_attempts: int = ABSENT
    context: str = ABSENT


@dataclass(kw_only=True)
class Pids(Record):
    """The process that went away and the one that came back (as the events named them)."""

    down: Json
    up: Json


@dataclass(kw_only=True)
class TargetOutage(Record):
    """One of ``incidents.target_outages``: the target down and back, and the recovery after."""

    down_ns: int
    up_ns: int | None
    t_down_s: float
    t_up_s: float | None
    down_s: float | None
    cause: str
    pids: Pids
    recovered_ns: int | None
    recovery_s: float | None
    errors_by_cause: dict[str, int]
    resends: int = ABSENT
    reconnect_attempts: int = ABSENT


@dataclass(kw_only=True)
class GatewayOutage(Record):
    """One of ``incidents.gateway_outages``: a websocket gateway's death and its sessions."""

    #: The gateway id as the event named it.
    gateway: Json
    down_ns: int
    up_ns: int | None
    t_down_s: float
    t_up_s: float | None
    down_s: float | None
    cause: str
    pids: Pids
    sessions_lost: int
    sessions_back: int
    never_back: int
    resubscribe_s: dict[str, float | None] | None
    reconnect_attempts: int


@dataclass(kw_only=True)
class Stall(Record):
    """One of ``incidents.stalls``: a stall injected into the target (as its event said)."""

    start_ns: Json
    end_ns: Json


@dataclass(kw_only=True)
class Incidents(Record):
    """``incidents``: what broke when, what it cost in orders, and the target's outages."""

    breach_windows: list[BreachWindow]
    total_breach_s: float
    orders: OrderCounts
    stalls: list[Stall]
    target_outages: list[TargetOutage] = ABSENT
    gateway_outages: list[GatewayOutage] = ABSENT
    feed_cadence_ms: float | None = ABSENT
    breach_note: str | None = ABSENT
