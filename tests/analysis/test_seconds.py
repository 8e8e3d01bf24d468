"""Answered seconds: per window and group, the seconds with calls and those answered in time."""

from __future__ import annotations

import numpy as np

from surgeproof.analysis.groupstats import AnsweredSeconds
from surgeproof.analysis.samples import Samples
from surgeproof.analysis.scan import RecordScan
from surgeproof.analysis.seconds import answered_seconds
from surgeproof.rundir.schema import Kind, Outcome

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
GROUPS = ["login", "orders"]


def samples(rows: list[tuple[float, int, float, Outcome]], kind: Kind = Kind.HTTP) -> Samples:
    """(intended s after T0, group index, latency ms, outcome) per record."""
    intended = np.array([T0 + round(t * NS) for t, _, _, _ in rows], dtype=np.int64)
    latency = np.array([round(ms * 1e6) for _, _, ms, _ in rows], dtype=np.int64)
    outcome = np.array([o for _, _, _, o in rows], dtype=np.uint8)
    unsent = np.isin(outcome, [Outcome.MISSED, Outcome.CANCELLED, Outcome.BACKLOGGED])
    n = len(rows)
    return Samples(
        intended_ns=intended,
        sent_ns=np.where(unsent, 0, intended),
        end_ns=np.where(unsent, 0, intended + latency),
        group=np.array([g for _, g, _, _ in rows], dtype=np.int16),
        outcome=outcome,
        kind=np.full(n, kind, dtype=np.uint8),
        flags=np.zeros(n, dtype=np.uint8),
        concurrency=np.full(n, 10, dtype=np.uint32),
        groups=list(GROUPS),
    )


OK, SLOW, FAIL = Outcome.OK, Outcome.OK, Outcome.SERVER_ERROR
RECORDS = [
    # second 0: both groups answered fast
    (0.1, 0, 50, OK),
    (0.5, 1, 80, OK),
    # second 1: login slow (over 500 ms, within 2 s), orders fast
    (1.2, 0, 900, SLOW),
    (1.3, 1, 40, OK),
    # second 2: orders fails once; a client error is an answer, not a capacity error
    (2.0, 1, 30, FAIL),
    (2.4, 0, 20, Outcome.CLIENT_ERROR),
    # second 3: nothing; second 4: login backlogged (never sent), orders missed (not a call)
    (4.5, 0, 0, Outcome.BACKLOGGED),
    (4.6, 1, 0, Outcome.MISSED),
    # outside the window
    (5.5, 0, 10, OK),
]


def test_seconds_with_calls_and_those_answered_within_each_bound():
    scan = RecordScan.of(samples(RECORDS))
    [window] = answered_seconds(scan, [(T0, T0 + 5 * NS)], [500.0, 2000.0])
    assert window["login"] == AnsweredSeconds(4, {500.0: 2, 2000.0: 3})  # s0, s2 | s1 too
    assert window["orders"] == AnsweredSeconds(3, {500.0: 2, 2000.0: 2})  # s2 failed
    # All groups: s0 up; s1 slow login; s2 orders failed; s4 backlogged.
    assert window["*"] == AnsweredSeconds(4, {500.0: 1, 2000.0: 2})


def test_each_window_counts_its_own_seconds_from_its_start():
    scan = RecordScan.of(samples(RECORDS))
    first, second = answered_seconds(scan, [(T0, T0 + 2 * NS), (T0 + 2 * NS, T0 + 6 * NS)], [500.0])
    assert first["login"] == AnsweredSeconds(2, {500.0: 1})
    assert second["login"] == AnsweredSeconds(3, {500.0: 2})  # s2 client error, s4, s5
    assert second["orders"] == AnsweredSeconds(1, {500.0: 0})


def test_websocket_gaps_are_not_calls():
    scan = RecordScan.of(samples([(0.5, 0, 90_000, OK)], kind=Kind.WS_GAP))
    [window] = answered_seconds(scan, [(T0, T0 + NS)], [500.0])
    assert window["login"] == AnsweredSeconds(0, {500.0: 0})


def test_answered_seconds_read_back_from_analysis_json_as_written():
    seconds = AnsweredSeconds(30, {800.0: 29, 1500.5: 30})
    assert seconds.to_dict() == {"judged": 30, "up_within_ms": {"800": 29, "1500.5": 30}}
    assert AnsweredSeconds.from_dict(seconds.to_dict()) == seconds
