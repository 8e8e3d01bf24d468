"""``timeseries`` of analysis.json: the per-window series, columnar (FORMAT.md).

Columns are lists with one value per window; they are checked value by value and kept as they
are (a week of one-second windows is millions of values).
"""

from __future__ import annotations

from dataclasses import dataclass

from surgeproof.analysis.contract.record import ABSENT, ContractError, Record

Column = list[float | None]


@dataclass(kw_only=True)
class GroupSeries(Record):
    """One of ``timeseries.groups``: a group's counts, error ratio and exact percentiles."""

    count: list[int]
    error_ratio: Column
    p50_ms: Column
    p90_ms: Column
    p95_ms: Column
    p99_ms: Column
    p99__9_ms: Column
    max_ms: Column
    #: Service time percentiles (``p50``, ``p99``); absent for Locust CSV input.
    service_ms: dict[str, Column] = ABSENT


@dataclass(kw_only=True)
class ServerSeries(Record):
    """``timeseries.server``: the embedded exchange's own per-second metrics, per window."""

    alignment: str
    seconds: int
    seconds_outside_windows: int
    client_sent: list[int]
    requests: list[int | None]
    served: list[int | None]
    shed: list[int | None]
    rate_limited: list[int | None]
    blocked: list[int | None]
    client_errors: list[int | None]
    server_errors: list[int | None]
    ws_connections: Column
    active_sessions: Column
    utilisation_max: Column


@dataclass(kw_only=True)
class WsConnects(Record):
    """``timeseries.ws_connects``: websocket connect attempts per window."""

    ok: list[int]
    failed: list[int]


@dataclass(kw_only=True)
class Timeseries(Record):
    """``timeseries``: one value per window of ``window_s`` in every column."""

    window_s: float
    t_s: list[float]
    start_ns: list[int]
    offered_users: Column
    active_users: Column
    offered_rps: Column
    sent_rps: Column | None = ABSENT
    achieved_rps: Column
    ok_rps: Column
    error_ratio: Column
    errors: dict[str, list[int]]
    cpu_max_percent: Column
    breach: list[bool]
    groups: dict[str, GroupSeries]
    server: ServerSeries | None = ABSENT
    ws_connects: WsConnects | None = ABSENT

    def __post_init__(self) -> None:
        # Readers divide counts by it to draw rates.
        if not self.window_s > 0:
            raise ContractError(
                f"timeseries.window_s: expected a positive number, got {self.window_s}"
            )
