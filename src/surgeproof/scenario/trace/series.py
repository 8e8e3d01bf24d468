"""A regular time series read from a trace, and the time-zone facts it came with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from surgeproof.scenario.errors import ScenarioError

KST = timezone(timedelta(hours=9), "KST")

#: Zone names a trace may state; anything else must be an offset like +09:00.
ZONES = {"UTC": UTC, "Z": UTC, "GMT": UTC, "KST": KST, "ASIA/SEOUL": KST}


@dataclass(frozen=True)
class Trace:
    """Values on a regular grid: ``values[i]`` covers ``[start + i*interval, +interval)``."""

    source: str
    start: datetime  # aware
    interval_s: float
    values: tuple[float, ...]
    #: Where the time zone came from, e.g. "stated in the timestamps (+09:00)".
    tz_note: str
    #: What was done to the input: gaps filled, duplicates dropped, rows sorted.
    notes: tuple[str, ...] = field(default=())

    def time_at(self, i: int) -> datetime:
        return self.start + timedelta(seconds=i * self.interval_s)

    def window(self, start: datetime | None, end: datetime | None) -> Trace:
        """The intervals that start in ``[start, end)``; ScenarioError if fewer than 3 remain."""
        lo = 0 if start is None else max(0, _ceil_index(self, start))
        hi = len(self.values) if end is None else min(len(self.values), _ceil_index(self, end))
        if hi - lo < 3:
            raise ScenarioError(self.source, "--from/--to", "fewer than 3 points in the window")
        note = f"cut to {self.time_at(lo).isoformat()} .. {self.time_at(hi).isoformat()}"
        return Trace(
            self.source,
            self.time_at(lo),
            self.interval_s,
            self.values[lo:hi],
            self.tz_note,
            (*self.notes, note),
        )


def _ceil_index(trace: Trace, moment: datetime) -> int:
    offset = (moment - trace.start).total_seconds() / trace.interval_s
    return int(-(-offset // 1))


def parse_zone(text: str, source: str = "--tz") -> timezone:
    """UTC, KST, Asia/Seoul or an offset like +09:00."""
    key = text.strip().upper()
    if key in ZONES:
        return ZONES[key]
    try:
        probe = datetime.fromisoformat(f"2000-01-01T00:00:00{text.strip()}")
    except ValueError:
        probe = None
    if probe is None or probe.tzinfo is None:
        raise ScenarioError(source, "", f"expected UTC, KST or an offset like +09:00, got {text!r}")
    return timezone(probe.utcoffset(), text.strip())


def zone_label(moment: datetime) -> str:
    """``UTC``, ``KST`` or the offset, for printing."""
    offset = moment.utcoffset()
    if offset == timedelta(0):
        return "UTC"
    if offset == timedelta(hours=9):
        return "KST"
    return moment.strftime("%z")


def both_zones(moment: datetime) -> str:
    """``13:37 UTC = 22:37 KST`` (dates added when they differ)."""
    utc = moment.astimezone(UTC)
    kst = moment.astimezone(KST)
    if utc.date() == kst.date():
        return f"{utc:%Y-%m-%d %H:%M} UTC = {kst:%H:%M} KST"
    return f"{utc:%Y-%m-%d %H:%M} UTC = {kst:%Y-%m-%d %H:%M} KST"
