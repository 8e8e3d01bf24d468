"""``usl``, ``knee`` and ``server_vs_client`` of analysis.json: the model fits and the target's
own count beside the generator's (FORMAT.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from surgeproof.analysis.contract.record import Record


@dataclass(kw_only=True)
class UslPoint(Record):
    """One of ``usl.points``: a conclusive level's users and goodput."""

    users: float
    ok_rps: float


@dataclass(kw_only=True)
class CurvePoint(Record):
    """One of ``usl.curve``: the fitted throughput at a number of users."""

    users: float
    rps: float


@dataclass(kw_only=True)
class Withheld(Record):
    """``usl.withheld``: a fitted peak beyond a measured plateau, not a finding."""

    n_star: float | None
    x_n_star_rps: float | None
    reason: str


@dataclass(kw_only=True)
class Usl(Record):
    """``usl``: the Universal Scalability Law fitted to the conclusive levels' goodput."""

    status: Literal["fit", "refused"]
    reason: str | None
    sigma: float | None
    kappa: float | None
    lambda_rps: float | None
    n_star: float | None
    x_n_star_rps: float | None
    n_star_real: float | None
    r2: float | None
    points: list[UslPoint]
    max_measured_users: float | None
    extrapolated: bool
    label: str | None
    curve: list[CurvePoint]
    withheld: Withheld | None


@dataclass(kw_only=True)
class Knee(Record):
    """``knee``: where the users' demand meets the highest measured throughput."""

    users: float | None
    throughput_rps: float | None
    method: str
    last_unsaturated_users: float | None
    first_saturated_users: float | None
    extrapolated: bool
    note: str


@dataclass(kw_only=True)
class ServerVsClient(Record):
    """``server_vs_client``: requests the generator sent against those the target counted."""

    available: bool
    client_requests: int
    client_definition: str
    server_definition: str
    server_requests: int | None
    difference: int | None
    difference_ratio: float | None
    seconds: int
    not_final_seconds: int
    note: str
