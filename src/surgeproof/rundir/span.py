"""The time span a run can have occupied, and the checks that keep what readers hand on in it.

Every later pass sizes arrays by time (one slot a window from the run's t0 to its last record),
so a single record stamped 1970 (an all-zero record) or 2262 would make them ask for gigabytes.
Readers therefore keep only records and rows whose times fall within the run's span — from
run.json's start minus a slack to its end plus a slack — and count the rest as damage: memory
follows the data, never a value in it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from surgeproof.rundir.schema import Kind, Outcome

_NS = 1_000_000_000
#: Room around the run's own start and end: clock skew between generator hosts, calls still in
#: flight when the run ended, a run.json written a moment off its records.
SLACK_NS = 3_600 * _NS
#: Longest span of a run whose run.json has no end (its writer died): the longest plan a
#: scenario may have (7 days) and a day to spare.
MAX_OPEN_SPAN_NS = 8 * 86_400 * _NS
#: Any Unix-ns time a run directory may hold: 1970 to 2116 (int64-safe after subtraction).
MAX_NS = 1 << 62

Span = tuple[int, int]


def is_ns(value: Any) -> bool:
    """A Unix-nanosecond integer in [0, MAX_NS] (no bool, no float)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_NS


def run_span(meta: dict[str, Any], first_intended: np.ndarray | None = None) -> Span | None:
    """``(lo, hi)`` Unix ns that every time of the run lies in; None when nothing anchors it.

    The anchor is run.json's ``t0_ns`` and ``started_at_utc``; without either (hand-written
    test runs), the median intended time of the first records given.
    """
    starts = [meta["t0_ns"]] if is_ns(meta.get("t0_ns")) and meta["t0_ns"] > 0 else []
    started = _iso_ns(meta.get("started_at_utc"))
    if started is not None:
        starts.append(started)
    if not starts:
        if first_intended is None or not len(first_intended):
            return None
        starts.append(int(np.median(first_intended)))
    start = min(starts)
    ended = _iso_ns(meta.get("ended_at_utc"))
    if ended is not None and ended >= max(starts):
        return start - SLACK_NS, ended + SLACK_NS
    return start - SLACK_NS, start + MAX_OPEN_SPAN_NS


#: Records checked at a time: the checks' temporaries stay in the CPU cache (a block of 131,072
#: records checked at once took 2.7 ms, in pieces of 16,384 about half that).
CHECK_RECORDS = 1 << 14


def valid_records(chunk: np.ndarray, span: Span | None) -> np.ndarray:
    """Mask of the records that can be trusted: times in the span (or 0 where the format allows
    it), a known outcome and kind."""
    if len(chunk) > CHECK_RECORDS:
        ok = np.empty(len(chunk), dtype=bool)
        for lo in range(0, len(chunk), CHECK_RECORDS):
            ok[lo : lo + CHECK_RECORDS] = valid_records(chunk[lo : lo + CHECK_RECORDS], span)
        return ok
    ok = (chunk["outcome"] < len(Outcome)) & (chunk["kind"] < len(Kind))
    if span is None:
        return ok
    lo, hi = span
    intended, sent, end = chunk["intended_ns"], chunk["sent_ns"], chunk["end_ns"]
    ok &= (intended >= lo) & (intended <= hi)
    ok &= (sent == 0) | ((sent >= lo) & (sent <= hi))
    ok &= (end == 0) | ((end >= lo) & (end <= hi))
    return ok


def row_in_span(row: dict[str, Any], span: Span | None) -> bool:
    """Whether every ``*_ns`` time of an events or timeline row is Unix ns within the span."""
    for key, value in row.items():
        if not key.endswith("_ns") or value is None:
            continue
        if not is_ns(value):
            return False
        if span is not None and not span[0] <= value <= span[1]:
            return False
    return True


def second_in_span(value: Any, span: Span | None) -> bool:
    """A server second (``t``, Unix seconds as a number) within the span."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if span is None:
        return 0 <= value <= MAX_NS / _NS
    return span[0] / _NS <= value <= span[1] / _NS


def _iso_ns(text: Any) -> int | None:
    if not isinstance(text, str) or len(text) > 64:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    ns = int(moment.timestamp()) * _NS
    return ns if is_ns(ns) else None
