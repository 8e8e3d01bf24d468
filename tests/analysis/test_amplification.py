"""Retry amplification and websocket reconnect storms, from records written the way the load layer
writes them: every HTTP re-send its own record (attempt > 0, retry flag), every websocket
reconnect a ws_connect record with the retry flag, a lost session a ws_gap with a non-ok outcome,
a session back at its next ok ws_first_message."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from faults import target_outage
from synthetic import NS, T0_NS

from surgeproof.analysis.amplification import measure_amplification
from surgeproof.analysis.run import analyze_run
from surgeproof.rundir.reader import open_record_sources
from surgeproof.rundir.schema import FLAG_RETRY, RECORD_DTYPE, Kind, Outcome
from surgeproof.rundir.writer import JsonlLog, RecordFile, write_meta
from surgeproof.scenario.model import Slo

ORDERS, TICKER, WS_CONNECT, WS_SUBSCRIBE, WS_GAP = range(5)
NAMES = {
    ORDERS: ("POST /v1/orders", "orders"),
    TICKER: ("GET /v1/ticker", "quotation"),
    WS_CONNECT: ("WS connect", "websocket"),
    WS_SUBSCRIBE: ("WS subscribe", "websocket"),
    WS_GAP: ("WS gap", "websocket"),
}
#: A latency no SLO minds: the tests are about attempts, not speed.
ANSWER_S = 0.02


def ns(t_s: float) -> int:
    return T0_NS + round(t_s * NS)


@dataclass
class Recording:
    """Records of one source, added in the load layer's terms."""

    rows: list[tuple] = field(default_factory=list)

    def http(self, t_s, *, name=TICKER, attempt=0, outcome=Outcome.OK, user=1, sent=True):
        flags = FLAG_RETRY if attempt else 0
        t = ns(t_s)
        s, e = (t, t + round(ANSWER_S * NS)) if sent else (0, 0)
        self._add(t, s, e, name, outcome, Kind.HTTP, attempt, flags, user)

    def calls(self, t_from, t_to, per_s, **kw):
        """``per_s`` calls a second, evenly spaced over ``[t_from, t_to)``."""
        for k in range(round((t_to - t_from) * per_s)):
            self.http(t_from + k / per_s, **kw)

    def connect(self, t_s, user, *, attempt=0, ok=True):
        t = ns(t_s)
        outcome = Outcome.OK if ok else Outcome.CONNECTION_ERROR
        flags = FLAG_RETRY if attempt else 0
        self._add(t, t, t + NS // 100, WS_CONNECT, outcome, Kind.WS_CONNECT, attempt, flags, user)

    def subscribed(self, t_s, user, *, data_after_s=0.5):
        """Subscribe sent at ``t_s``; its first data message ``data_after_s`` later."""
        t = ns(t_s)
        end = t + round(data_after_s * NS)
        self._add(t, t, end, WS_SUBSCRIBE, Outcome.OK, Kind.WS_FIRST_MESSAGE, 0, 0, user)

    def lost(self, t_s, user, *, last_message_s=None):
        """The socket died at ``t_s`` (its last data message at ``last_message_s``)."""
        last = ns(t_s - 0.2 if last_message_s is None else last_message_s)
        self._add(last, last, ns(t_s), WS_GAP, Outcome.CONNECTION_ERROR, Kind.WS_GAP, 0, 0, user)

    def held(self, t_s, user):
        """An ordinary gap interval of a live session (not a loss)."""
        self._add(
            ns(t_s - 1), ns(t_s - 1), ns(t_s - 0.5), WS_GAP, Outcome.OK, Kind.WS_GAP, 0, 0, user
        )

    def array(self) -> np.ndarray:
        rec = np.zeros(len(self.rows), dtype=RECORD_DTYPE)
        for i, row in enumerate(self.rows):
            rec[i] = row
        # The recorder writes in completion order.
        return rec[np.argsort(rec["end_ns"], kind="stable")]

    def _add(self, intended, sent, end, name, outcome, kind, attempt, flags, user):
        status = 101 if kind != Kind.HTTP else (200 if outcome == Outcome.OK else 503)
        self.rows.append(
            (intended, sent, end, name, status, outcome, kind, attempt, flags, user, 10)
        )


def write_run(
    path: Path, *sources: Recording, status: str = "complete", cut_bytes: int = 0
) -> Path:
    """A run directory of ``sources`` (``local`` alone, else ``worker-<i>``); ``cut_bytes`` of
    a half-written record left at the end of the last source's file (a run cut short)."""
    path.mkdir(parents=True)
    for i, recording in enumerate(sources):
        name = "local" if len(sources) == 1 else f"worker-{i}"
        f = RecordFile(path, name)
        f.add_names(NAMES)
        f.append(recording.array())
        f.close()
    if cut_bytes:
        with open(path / "records" / f"{name}.bin", "ab") as fh:
            fh.write(b"\x01" * cut_bytes)
    events = JsonlLog(path / "events.jsonl")
    events.append({"t_ns": T0_NS, "type": "run_start"})
    events.close()
    write_meta(
        path,
        {
            "run_id": "retries",
            "status": status,
            "partial_reason": None if status == "complete" else "interrupted (SIGINT)",
            "t0_ns": T0_NS,
            "load_model": "open",
        },
    )
    return path


def measured(path: Path, n_windows: int = 30, **kw):
    return measure_amplification(open_record_sources(path), T0_NS, 1.0, n_windows, **kw)


# -- HTTP re-sends ----------------------------------------------------------------------------


def test_the_factor_is_every_call_sent_over_the_first_attempts_sent(tmp_path):
    r = Recording()
    r.calls(0, 10, 10)  # 100 first attempts
    for k in range(20):  # 20 re-sends, 8 of which failed again (a capacity error)
        r.http(2 + k * 0.1, attempt=1, outcome=Outcome.SERVER_ERROR if k < 8 else Outcome.OK)
    r.http(5.05, attempt=2, outcome=Outcome.CLIENT_ERROR)  # refused on its merits: not "failed"
    # Never sent, so no load on the target: neither first attempts nor re-sends.
    r.http(6.05, outcome=Outcome.MISSED, sent=False)
    r.http(6.15, outcome=Outcome.BACKLOGGED, sent=False)
    a = analyze_run(write_run(tmp_path / "r", r))["amplification"]["http"]
    assert (a["first_attempts"], a["resends"]) == (100, 21)
    assert a["factor"] == pytest.approx(1.21) and a["added_ratio"] == pytest.approx(0.21)
    assert a["resends_failed"] == 8 and a["resends_failed_ratio"] == pytest.approx(8 / 21)
    assert a["max_attempt"] == 2


def test_each_group_has_its_own_factor(tmp_path):
    r = Recording()
    r.calls(0, 10, 4, name=ORDERS)  # 40 order submissions
    r.calls(0, 10, 6, name=TICKER)  # 60 ticker calls, never re-sent
    r.calls(3, 6, 10, name=ORDERS, attempt=1, outcome=Outcome.TIMEOUT)  # 30 re-sends
    a = analyze_run(write_run(tmp_path / "r", r))["amplification"]["http"]
    assert a["by_group"]["orders"]["factor"] == pytest.approx(70 / 40)
    assert a["by_group"]["orders"]["resends_failed_ratio"] == 1.0
    assert a["by_group"]["quotation"] == {
        "first_attempts": 60,
        "resends": 0,
        "factor": 1.0,
        "resends_failed": 0,
        "resends_failed_ratio": None,
    }
    assert "websocket" not in a["by_group"]  # a group with no HTTP calls has no factor
    assert a["factor"] == pytest.approx(130 / 100)


def test_the_peak_window_is_the_highest_factor_with_enough_first_attempts_behind_it(tmp_path):
    r = Recording()
    r.calls(0, 3, 10)  # 10 first attempts a second
    r.calls(3, 4, 10)
    r.calls(3, 4, 15, attempt=1, outcome=Outcome.RATE_LIMITED)  # 2.5x at t=3
    r.calls(4, 5, 10)
    r.calls(4, 5, 5, attempt=1)  # 1.5x at t=4
    # 2 first attempts and 6 re-sends: 4x, but too few first attempts to say anything.
    r.calls(6, 7, 2)
    r.calls(6, 7, 6, attempt=1)
    amp = analyze_run(write_run(tmp_path / "r", r))["amplification"]
    peak = amp["http"]["peak"]
    assert peak == {
        "factor": 2.5,
        "t_s": 3.0,
        "start_ns": ns(3),
        "first_attempts": 10,
        "resends": 15,
    }
    series = amp["series"]
    assert series["first_attempts"][:7] == [10, 10, 10, 10, 10, 0, 2]
    assert series["resends"][:7] == [0, 0, 0, 15, 5, 0, 6]
    assert series["resends_failed"][3:5] == [15, 0]
    assert series["factor"][:7] == [1.0, 1.0, 1.0, 2.5, 1.5, None, None]


def test_windows_align_with_the_timeseries(tmp_path):
    r = Recording()
    r.calls(0, 8, 10)
    r.calls(2, 3, 5, attempt=1)
    a = analyze_run(write_run(tmp_path / "r", r))
    cols = a["amplification"]["series"]
    assert len(cols["first_attempts"]) == len(a["timeseries"]["t_s"])
    # Re-sends and first attempts together are the HTTP calls the series counts as sent.
    sent = [x * a["timeseries"]["window_s"] for x in a["timeseries"]["sent_rps"]]
    assert [f + r for f, r in zip(cols["first_attempts"], cols["resends"], strict=True)] == sent


def test_a_breach_window_carries_its_share_of_re_sends(tmp_path):
    r = Recording()
    r.calls(0, 10, 10)
    # At t=4-5 every first attempt fails and is re-sent twice: the error-ratio SLO breaks.
    for k in range(20):
        t = 4 + k / 10
        r.http(t + 0.01, outcome=Outcome.SERVER_ERROR)
        r.http(t + 0.02, attempt=1, outcome=Outcome.SERVER_ERROR)
        r.http(t + 0.03, attempt=2, outcome=Outcome.OK)
    r.calls(8, 9, 4, attempt=1)  # 4 re-sends outside any breach
    a = analyze_run(write_run(tmp_path / "r", r), slos=[Slo("*", "error_ratio", 0.2)])
    [w] = a["incidents"]["breach_windows"]
    assert (w["t_start_s"], w["duration_s"]) == (4.0, 2.0)
    assert w["resends"] == 40 and w["reconnect_attempts"] == 0
    assert w["resend_share"] == pytest.approx(40 / (20 + 40 + 20))
    http = a["amplification"]["http"]
    assert http["resends_in_breaches"] == 40
    assert http["resends_in_breaches_share"] == pytest.approx(40 / 44)


def test_no_retries_no_reconnects(tmp_path):
    r = Recording()
    r.calls(0, 10, 10)
    r.connect(0.5, 7)
    r.subscribed(0.6, 7)
    r.held(6, 7)
    a = analyze_run(write_run(tmp_path / "r", r))
    http, ws = a["amplification"]["http"], a["amplification"]["websocket"]
    assert (http["first_attempts"], http["resends"], http["factor"]) == (100, 0, 1.0)
    assert http["peak"] is None and http["resends_failed_ratio"] is None
    assert ws == {
        "reconnect_attempts": 0,
        "reconnects_ok": 0,
        "reconnects_failed": 0,
        "max_attempt": 0,
        "users_reconnected": 0,
        "peak": None,
        "sessions_lost": 0,
        "sessions_back": 0,
        "never_back": 0,
        "resubscribe_s": None,
    }
    assert not any(line.startswith("retries:") for line in a["summary"])


# -- websocket reconnects -----------------------------------------------------------------------


def _storm() -> Recording:
    """Users 1-5 subscribed at t=1, lost at t=10, back after 1, 2, 3, 4 and 10 s (user 5 after
    two failed attempts); user 6 lost at t=10 and never back; user 7 lost twice before it is
    back (its first reconnect connected but the subscription died at once)."""
    r = Recording()
    r.calls(0, 30, 5)
    for u in range(1, 8):
        r.connect(1.0, u)
        r.subscribed(1.1, u)
        r.lost(10.0, u)
    for u, after in zip(range(1, 5), (1, 2, 3, 4), strict=True):
        r.connect(10 + after - 0.5, u, attempt=1)
        r.subscribed(10 + after - 0.5, u, data_after_s=0.5)
    r.connect(11.0, 5, attempt=1, ok=False)
    r.connect(13.0, 5, attempt=2, ok=False)
    r.connect(19.5, 5, attempt=3)
    r.subscribed(19.5, 5, data_after_s=0.5)
    r.connect(11.0, 6, attempt=1, ok=False)
    r.connect(13.0, 6, attempt=2, ok=False)
    r.connect(11.0, 7, attempt=1)
    r.lost(11.05, 7, last_message_s=11.02)
    r.connect(13.0, 7, attempt=1)
    r.subscribed(13.0, 7, data_after_s=1.0)
    return r


def test_reconnect_attempts_ok_and_failed_by_distinct_users(tmp_path):
    a = analyze_run(write_run(tmp_path / "r", _storm()))["amplification"]["websocket"]
    assert (a["reconnect_attempts"], a["reconnects_ok"], a["reconnects_failed"]) == (11, 7, 4)
    assert a["users_reconnected"] == 7 and a["max_attempt"] == 3


def test_the_peak_reconnect_rate_and_when(tmp_path):
    a = analyze_run(write_run(tmp_path / "r", _storm()))["amplification"]
    # t=11: users 5, 6 and 7 (and user 2 at 11.5) try again; t=13 ties, the earlier counts.
    assert a["websocket"]["peak"] == {"per_s": 4.0, "attempts": 4, "t_s": 11.0, "start_ns": ns(11)}
    ok, failed = a["series"]["reconnects_ok"], a["series"]["reconnects_failed"]
    assert (ok[11], failed[11]) == (2, 2)
    assert (ok[13], failed[13]) == (2, 2)
    assert sum(ok) + sum(failed) == 11


def test_time_to_resubscribe_is_exact_percentiles_from_the_loss(tmp_path):
    a = analyze_run(write_run(tmp_path / "r", _storm()))["amplification"]
    ws = a["websocket"]
    # User 7 counts once, from its first loss: back 4 s later (subscribed at 13, data at 14).
    back = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 4.0])
    assert (ws["sessions_lost"], ws["sessions_back"], ws["never_back"]) == (7, 6, 1)
    r = ws["resubscribe_s"]
    assert r["p50"] == pytest.approx(np.percentile(back, 50))
    assert r["p95"] == pytest.approx(np.percentile(back, 95))
    assert r["max"] == pytest.approx(10.0)
    assert a["series"]["sessions_lost"][10] == 7 and sum(a["series"]["sessions_lost"]) == 7


def test_a_lost_session_that_never_came_back_by_the_end(tmp_path):
    r = Recording()
    r.calls(0, 20, 5)
    r.connect(1.0, 1)
    r.subscribed(1.1, 1)
    r.lost(5.0, 1)
    r.connect(6.0, 1, attempt=1)  # connected, but no data message ever came
    r.connect(1.0, 2)
    r.subscribed(1.1, 2)
    r.lost(5.0, 2)
    r.connect(7.0, 2, attempt=1)
    r.subscribed(7.0, 2, data_after_s=1.0)
    r.lost(15.0, 2)  # lost a second time: its own lost session, not back either
    ws = analyze_run(write_run(tmp_path / "r", r))["amplification"]["websocket"]
    assert (ws["sessions_lost"], ws["sessions_back"], ws["never_back"]) == (3, 1, 2)
    assert ws["resubscribe_s"]["max"] == pytest.approx(3.0)


def test_users_of_different_sources_are_different_users(tmp_path):
    # User ids are unique within a source only: worker-1's user 1 is not worker-0's.
    w0, w1 = Recording(), Recording()
    for rec in (w0, w1):
        rec.calls(0, 10, 5)
        rec.connect(1.0, 1)
        rec.subscribed(1.1, 1)
    w0.lost(3.0, 1)
    w0.connect(4.0, 1, attempt=1)
    w1.connect(5.0, 1, attempt=1)  # worker-1's user was never lost: it must not "return" w0's
    w1.subscribed(5.0, 1)
    ws = analyze_run(write_run(tmp_path / "r", w0, w1))["amplification"]["websocket"]
    assert ws["users_reconnected"] == 2
    assert (ws["sessions_lost"], ws["never_back"]) == (1, 1)


def test_an_outage_counts_the_reconnect_storm_until_recovery(tmp_path):
    run = write_run(tmp_path / "r", _storm())
    target_outage(run, 9.5, 12.5)
    a = analyze_run(run)
    [o] = a["incidents"]["target_outages"]
    assert o["recovered_ns"] is not None
    lo, hi = 9, (o["recovered_ns"] - T0_NS) // NS
    series = a["amplification"]["series"]
    attempts = [
        ok + bad
        for ok, bad in zip(series["reconnects_ok"], series["reconnects_failed"], strict=True)
    ]
    assert o["reconnect_attempts"] == sum(attempts[lo:hi]) > 0
    assert o["resends"] == 0


# -- whole-run behaviour ------------------------------------------------------------------------


def test_chunked_passes_give_the_same_numbers(tmp_path):
    run = write_run(tmp_path / "r", _storm())
    whole, chunked = measured(run), measured(run, chunk=7)
    assert whole.to_dict() == chunked.to_dict()
    assert whole.returns.lost == 7


def test_a_run_cut_short_counts_what_its_data_hold(tmp_path):
    r = Recording()
    r.calls(0, 10, 10)
    r.calls(4, 5, 10, attempt=1, outcome=Outcome.TIMEOUT)
    r.connect(1.0, 1)
    r.subscribed(1.1, 1)
    r.lost(8.0, 1)  # the run stopped before it could come back
    r.connect(9.0, 1, attempt=1, ok=False)
    run = write_run(tmp_path / "r", r, status="running", cut_bytes=17)
    a = analyze_run(run)
    assert a["data_quality"]["partial"]
    http, ws = a["amplification"]["http"], a["amplification"]["websocket"]
    assert (http["first_attempts"], http["resends"]) == (100, 10)
    assert (ws["sessions_lost"], ws["never_back"], ws["reconnects_failed"]) == (1, 1, 1)
    assert ws["resubscribe_s"] is None


def test_the_summary_mentions_large_amplification_only(tmp_path):
    big, small = Recording(), Recording()
    for rec in (big, small):
        rec.calls(0, 10, 10)
    big.calls(2, 6, 10, attempt=1, outcome=Outcome.SERVER_ERROR)  # 1.4x over the run
    small.calls(2, 3, 10, attempt=1)  # 1.1x, peak 2.0x at t=2
    a = analyze_run(write_run(tmp_path / "big", big))
    [line] = [s for s in a["summary"] if s.startswith("retries:")]
    assert "(1.40×)" in line and "peak 2.00× at t=2 s" in line
    assert "100% of re-sends failed again" in line
    b = analyze_run(write_run(tmp_path / "small", small))
    assert b["amplification"]["http"]["factor"] == pytest.approx(1.1)
    assert any(s.startswith("retries:") for s in b["summary"])  # the peak doubled the load
    c = Recording()
    c.calls(0, 10, 10)
    c.calls(2, 3, 5, attempt=1)  # 1.05x, peak 1.5x: not worth a summary line
    d = analyze_run(write_run(tmp_path / "c", c))
    assert not any(s.startswith("retries:") for s in d["summary"])
