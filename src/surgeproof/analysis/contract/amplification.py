"""``amplification`` of analysis.json: HTTP re-sends and websocket reconnects (FORMAT.md)."""

from __future__ import annotations

from dataclasses import dataclass

from surgeproof.analysis.contract.record import Record


@dataclass(kw_only=True)
class FactorEntry(Record):
    """One of ``amplification.http.by_group``: a group's first attempts and re-sends."""

    first_attempts: int
    resends: int
    factor: float | None
    resends_failed: int
    resends_failed_ratio: float | None


@dataclass(kw_only=True)
class HttpPeak(Record):
    """``amplification.http.peak``: the judged window with the highest factor."""

    factor: float
    t_s: float
    start_ns: int
    first_attempts: int
    resends: int


@dataclass(kw_only=True)
class HttpAmplification(Record):
    """``amplification.http``: how much re-sends added to the HTTP calls sent."""

    first_attempts: int
    resends: int
    factor: float | None
    resends_failed: int
    resends_failed_ratio: float | None
    added_ratio: float | None
    max_attempt: int
    peak: HttpPeak | None
    by_group: dict[str, FactorEntry]
    resends_in_breaches: int
    resends_in_breaches_share: float | None


@dataclass(kw_only=True)
class ReconnectPeak(Record):
    """``amplification.websocket.peak``: the window with the most reconnect attempts."""

    per_s: float
    attempts: int
    t_s: float
    start_ns: int


@dataclass(kw_only=True)
class WebsocketAmplification(Record):
    """``amplification.websocket``: reconnect attempts and lost sessions coming back."""

    reconnect_attempts: int
    reconnects_ok: int
    reconnects_failed: int
    max_attempt: int
    users_reconnected: int
    peak: ReconnectPeak | None
    sessions_lost: int
    sessions_back: int
    never_back: int
    resubscribe_s: dict[str, float | None] | None


@dataclass(kw_only=True)
class AmplificationSeries(Record):
    """``amplification.series``: per series window, by send time."""

    first_attempts: list[int]
    resends: list[int]
    resends_failed: list[int]
    factor: list[float | None]
    reconnects_ok: list[int]
    reconnects_failed: list[int]
    sessions_lost: list[int]


@dataclass(kw_only=True)
class Amplification(Record):
    """``amplification``: clients sending again what failed."""

    window_min_first_attempts: int
    http: HttpAmplification
    websocket: WebsocketAmplification
    series: AmplificationSeries
