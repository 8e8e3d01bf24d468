"""Why an SLO-breach window does (or does not) bear on the verdict, in one line.

Breach windows are 1-s series windows in which an SLO broke on as few as
``window_min_samples`` calls; verdicts are given on whole steady windows (levels). A report
that shows breaches beside a PASS owes the reader the reason they did not decide it. Each
window gets one context, the first that applies:

* ``failing level`` — it overlaps a level that failed: it is part of that failure;
* ``cadence`` — every SLO broken in it is a latency SLO on the websocket group whose limit is
  within the feed's own cadence (the median longest silence between data messages, measured
  in the levels): a first message waits for the next push whatever the load;
* ``passing level`` — it overlaps a level that held its SLOs over its whole window;
* ``inconclusive level`` — it overlaps only levels that could not be judged;
* ``ramp`` — outside every level while the offered users changed;
* ``between levels`` — outside every level at a steady load (a settle period).
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate, pairwise
from typing import Any

from surgeproof.analysis.level_verdict import LevelVerdict
from surgeproof.scenario.model import Slo

WEBSOCKET_GROUP = "websocket"
#: A websocket latency limit up to this multiple of the feed's cadence breaks on the cadence.
CADENCE_MARGIN = 1.2
#: Offered users changing by more than this share inside a window make it a ramp.
RAMP_CHANGE = 0.05

_PHRASES = {
    "failing level": "inside a failing level",
    "cadence": "on the websocket feed's cadence",
    "passing level": "inside a level that held over its whole window",
    "inconclusive level": "inside a level too short or too disturbed to judge",
    "ramp": "during a ramp, outside the judged levels",
    "between levels": "between the judged levels",
}


def feed_cadence_ms(levels: Sequence[LevelVerdict]) -> float | None:
    """The websocket feed's cadence: the median of the levels' median longest silences."""
    gaps = [
        float(v.ws_gap_ms["p50"])
        for v in levels
        if v.ws_gap_ms and v.ws_gap_ms.get("p50") is not None
    ]
    return statistics.median(gaps) if gaps else None


def explain_breaches(
    incidents: dict[str, Any],
    levels: Sequence[LevelVerdict],
    timeseries: dict[str, Any],
    slos: Sequence[Slo],
    verdict: str,
) -> None:
    """Give each breach window its ``context`` and ``incidents`` its ``breach_note``: one
    sentence, or None when every window belongs to a failing level."""
    windows = incidents.get("breach_windows") or []
    cadence = feed_cadence_ms(levels)
    by_text = {str(s): s for s in slos}
    overlapping = _Overlaps(levels)
    series = _OfferedUsers(timeseries)
    for w in windows:
        w["context"] = _context(w, overlapping, series, by_text, cadence)
    incidents["feed_cadence_ms"] = cadence
    incidents["breach_note"] = _note(windows, cadence, verdict)


class _Overlaps:
    """The levels overlapping a time span, found without a scan of every level (a night's
    step search has hundreds of levels and as many breach windows)."""

    def __init__(self, levels: Sequence[LevelVerdict]) -> None:
        self.levels = sorted(levels, key=lambda v: v.start_ns)
        self.starts = [v.start_ns for v in self.levels]
        #: The latest end among the levels up to each one (levels may overlap).
        self.reach = list(accumulate((v.end_ns for v in self.levels), max))

    def of(self, start: int, end: int) -> list[LevelVerdict]:
        out = []
        i = bisect_left(self.starts, end) - 1  # levels starting before the span ends
        while i >= 0 and self.reach[i] > start:
            if self.levels[i].end_ns > start:
                out.append(self.levels[i])
            i -= 1
        return out


class _OfferedUsers:
    """The series' offered users by window start, for spans looked up one at a time."""

    def __init__(self, ts: dict[str, Any]) -> None:
        self.starts = list(ts.get("start_ns") or [])
        self.users = list(ts.get("offered_users") or [])[: len(self.starts)]
        self.starts = self.starts[: len(self.users)]
        self.wns = round(float(ts.get("window_s") or 1.0) * 1e9)
        self.ordered = all(a <= b for a, b in pairwise(self.starts))

    def within(self, lo: int, hi: int) -> list[Any]:
        """Offered users of the windows starting in ``[lo, hi)``."""
        if not self.ordered:
            return [u for t, u in zip(self.starts, self.users, strict=True) if lo <= t < hi]
        return self.users[bisect_left(self.starts, lo) : bisect_left(self.starts, hi)]


def _context(
    w: dict[str, Any],
    levels: _Overlaps,
    series: _OfferedUsers,
    slos: dict[str, Slo],
    cadence: float | None,
) -> str:
    start, end = int(w["start_ns"]), int(w["end_ns"])
    inside = levels.of(start, end)
    if any(v.verdict == "fail" for v in inside):
        return "failing level"
    broken = [slos.get(text) for text in w.get("slos_broken") or []]
    if (
        cadence is not None
        and broken
        and all(
            s is not None
            and s.group == WEBSOCKET_GROUP
            and s.metric != "error_ratio"
            and s.limit <= cadence * CADENCE_MARGIN
            for s in broken
        )
    ):
        return "cadence"
    if any(v.verdict == "pass" for v in inside):
        return "passing level"
    if inside:
        return "inconclusive level"
    return "ramp" if _load_moved(series, start, end) else "between levels"


def _load_moved(series: _OfferedUsers, start_ns: int, end_ns: int) -> bool:
    """Whether the offered users changed in (or just around) the window."""
    wns = series.wns
    seen = [float(u) for u in series.within(start_ns - wns, end_ns + wns) if u is not None]
    if len(seen) < 2:
        return False
    return max(seen) - min(seen) > RAMP_CHANGE * max(max(seen), 1e-9)


def _note(windows: list[dict[str, Any]], cadence: float | None, verdict: str) -> str | None:
    """``2 SLO-breach windows beside the PASS: 1 during a ramp, ...; 1 on the websocket
    feed's cadence (...)``."""
    if not windows or all(w["context"] == "failing level" for w in windows):
        return None
    counts: dict[str, int] = {}
    for w in windows:
        counts[w["context"]] = counts.get(w["context"], 0) + 1
    n = len(windows)
    head = f"{n} SLO-breach window{'s' if n > 1 else ''} beside the {verdict.upper()}"
    parts = [f"{k} {_PHRASES[c]}" for c, k in counts.items()]
    if "cadence" in counts and cadence is not None:
        parts[list(counts).index("cadence")] += (
            f" (a data message about every {cadence / 1000:.1f} s, so a first message waits "
            "that long at any load)"
        )
    if "passing level" in counts:
        parts[list(counts).index("passing level")] += (
            " (a 1-s window judges on a handful of calls, the level on all of its own)"
        )
    return f"{head}: " + "; ".join(parts) + "."
