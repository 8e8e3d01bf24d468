"""Retry amplification and websocket reconnect storms: how much of the load was clients sending
again what had failed, and how fast a crowd that lost its sockets came back.

HTTP: every re-send of a failed call is its own record (``attempt`` > 0, ``FLAG_RETRY``), so the
amplification factor is all calls sent / first attempts sent, over the run, per group and per
window. Websocket: every reconnect attempt is a ``ws_connect`` record with the retry flag; a
session is lost at a ``ws_gap`` record with a non-ok outcome and is back at its user's next ok
``ws_first_message`` (the first data message after subscribing again).

One chunked pass over the mapped record sources: per-window and per-group tallies, plus the few
websocket events that pair losses with returns (losses and ok first messages: one per session
connect, never one per HTTP call), so memory does not grow with the HTTP volume.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from surgeproof.analysis.causes import is_capacity_error
from surgeproof.analysis.percentiles import exact_percentiles
from surgeproof.analysis.samples import Samples
from surgeproof.analysis.scan import CHUNK_RECORDS, RecordScan
from surgeproof.analysis.shards import RecordPass
from surgeproof.rundir.reader import RecordSources
from surgeproof.rundir.schema import FLAG_RETRY, Kind, Outcome

#: A window's amplification factor is judged only with at least this many first attempts in it:
#: one first attempt and three re-sends is a 4× that says nothing about the load.
MIN_FIRST_ATTEMPTS = 5


@dataclass
class Returns:
    """Lost websocket sessions paired with their users' next subscription."""

    #: Per lost session (first loss of an episode): loss time (end_ns of its ws_gap record).
    lost_ns: np.ndarray
    #: Per lost session: seconds from the loss to the first data message after subscribing again;
    #: NaN when it never came back in the data.
    back_after_s: np.ndarray

    @property
    def lost(self) -> int:
        return len(self.lost_ns)

    @property
    def back(self) -> int:
        return int(np.count_nonzero(np.isfinite(self.back_after_s)))


@dataclass
class Amplification:
    """The tallies behind the ``amplification`` section of analysis.json."""

    t0_ns: int
    window_s: float
    groups: list[str]
    #: Per window (by send time): HTTP first attempts, re-sends, re-sends that failed again.
    first: np.ndarray
    resends: np.ndarray
    resends_failed: np.ndarray
    #: Per group index: the same three counts over the whole run.
    group_first: np.ndarray
    group_resends: np.ndarray
    group_failed: np.ndarray
    max_http_attempt: int
    #: Per window (by send time): websocket reconnect attempts that connected / failed.
    reconnects_ok: np.ndarray
    reconnects_failed: np.ndarray
    #: Distinct (source, user) pairs with at least one reconnect attempt.
    users_reconnected: int
    max_ws_attempt: int
    returns: Returns
    min_first: int = MIN_FIRST_ATTEMPTS

    def __len__(self) -> int:
        return len(self.first)

    @property
    def reconnects(self) -> np.ndarray:
        return self.reconnects_ok + self.reconnects_failed

    def lost_per_window(self) -> np.ndarray:
        """Lost sessions per window, by the time of loss."""
        w = _bin(self.returns.lost_ns, self.t0_ns, self.window_s, len(self))
        return np.bincount(w, minlength=len(self))

    def window_factor(self) -> np.ndarray:
        """(first + re-sends) / first per window; NaN below ``min_first`` first attempts."""
        judged = self.first >= max(self.min_first, 1)
        out = np.full(len(self), np.nan)
        out[judged] = (self.first[judged] + self.resends[judged]) / self.first[judged]
        return out

    def span(self, lo: int, hi: int) -> dict[str, Any]:
        """Re-sends and reconnect attempts sent in windows ``[lo, hi)``, with the re-sends' share
        of the HTTP calls sent then."""
        lo, hi = max(lo, 0), min(hi, len(self))
        resends = int(self.resends[lo:hi].sum())
        attempts = resends + int(self.first[lo:hi].sum())
        return {
            "resends": resends,
            "resend_share": resends / attempts if attempts else None,
            "reconnect_attempts": int(self.reconnects[lo:hi].sum()),
        }

    def to_dict(self, breach_windows: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
        """The ``amplification`` object of analysis.json (see FORMAT.md)."""
        return {
            "window_min_first_attempts": self.min_first,
            "http": self._http(breach_windows),
            "websocket": self._websocket(),
            "series": {
                "first_attempts": _ints(self.first),
                "resends": _ints(self.resends),
                "resends_failed": _ints(self.resends_failed),
                "factor": _floats(self.window_factor()),
                "reconnects_ok": _ints(self.reconnects_ok),
                "reconnects_failed": _ints(self.reconnects_failed),
                "sessions_lost": _ints(self.lost_per_window()),
            },
        }

    def _http(self, breach_windows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        first, resends = int(self.first.sum()), int(self.resends.sum())
        failed = int(self.resends_failed.sum())
        factor = self.window_factor()
        peak = None
        judged = np.where(self.resends > 0, factor, np.nan)
        if np.isfinite(judged).any():
            i = int(np.nanargmax(judged))  # the earliest of equal peaks
            peak = {
                "factor": float(factor[i]),
                **self._when(i),
                "first_attempts": int(self.first[i]),
                "resends": int(self.resends[i]),
            }
        in_breaches = sum(
            self.span(*self.windows_of(w["start_ns"], w["end_ns"]))["resends"]
            for w in breach_windows
        )
        by_group = {
            g: _factor_entry(int(f), int(r), int(x))
            for g, f, r, x in zip(
                self.groups, self.group_first, self.group_resends, self.group_failed, strict=True
            )
            if f or r
        }
        return {
            **_factor_entry(first, resends, failed),
            "added_ratio": resends / first if first else None,
            "max_attempt": self.max_http_attempt,
            "peak": peak,
            "by_group": by_group,
            "resends_in_breaches": in_breaches,
            "resends_in_breaches_share": in_breaches / resends if resends else None,
        }

    def _websocket(self) -> dict[str, Any]:
        ok, failed = int(self.reconnects_ok.sum()), int(self.reconnects_failed.sum())
        per_window = self.reconnects
        peak = None
        if per_window.any():
            i = int(np.argmax(per_window))
            peak = {"per_s": float(per_window[i] / self.window_s), "attempts": int(per_window[i])}
            peak.update(self._when(i))
        r = self.returns
        back = r.back_after_s[np.isfinite(r.back_after_s)]
        return {
            "reconnect_attempts": ok + failed,
            "reconnects_ok": ok,
            "reconnects_failed": failed,
            "max_attempt": self.max_ws_attempt,
            "users_reconnected": self.users_reconnected,
            "peak": peak,
            "sessions_lost": r.lost,
            "sessions_back": r.back,
            "never_back": r.lost - r.back,
            "resubscribe_s": exact_percentiles(back) if len(back) else None,
        }

    def _when(self, i: int) -> dict[str, Any]:
        start = self.t0_ns + i * round(self.window_s * 1e9)
        return {"t_s": (start - self.t0_ns) / 1e9, "start_ns": start}

    def windows_of(self, start_ns: int, end_ns: int) -> tuple[int, int]:
        """The windows ``[lo, hi)`` that ``[start_ns, end_ns)`` overlaps."""
        wns = round(self.window_s * 1e9)
        lo = (int(start_ns) - self.t0_ns) // wns
        hi = -(-(int(end_ns) - self.t0_ns) // wns)
        return lo, hi


def measure_amplification(
    sources: RecordSources | RecordScan,
    t0_ns: int,
    window_s: float,
    n_windows: int,
    *,
    min_first: int = MIN_FIRST_ATTEMPTS,
    chunk: int = CHUNK_RECORDS,
) -> Amplification:
    """Tally re-sends and reconnects of every source in windows of ``window_s`` from ``t0_ns``.

    Windows are those of the ``timeseries`` (``n_windows`` of them; calls sent outside fall in
    the first or last); calls are binned by send time, the moment they loaded the target. Only
    calls that were sent count as attempts: a missed or backlogged call never reached the target.
    """
    scan = sources if isinstance(sources, RecordScan) else RecordScan.of_sources(sources, chunk)
    p = scan.run(
        AmplificationPass(t0_ns, window_s, max(int(n_windows), 1), max(len(scan.groups), 1))
    )
    return Amplification(
        t0_ns=t0_ns,
        window_s=window_s,
        groups=list(scan.groups),
        first=p.first,
        resends=p.resends,
        resends_failed=p.resends_failed,
        group_first=p.group_first,
        group_resends=p.group_resends,
        group_failed=p.group_failed,
        max_http_attempt=p.max_http,
        reconnects_ok=p.reconnects_ok,
        reconnects_failed=p.reconnects_failed,
        users_reconnected=len(np.unique(np.concatenate(p.reconnected))) if p.reconnected else 0,
        max_ws_attempt=p.max_ws,
        returns=pair_returns(_joined(p.losses), _joined(p.subscribed)),
        min_first=min_first,
    )


class AmplificationPass(RecordPass):
    """What one pass keeps: per-window and per-group counts, and the websocket events to pair."""

    accumulators = (
        "first", "resends", "resends_failed", "group_first", "group_resends", "group_failed",
        "reconnects_ok", "reconnects_failed", "reconnected", "losses", "subscribed",
    )  # fmt: skip

    def __init__(self, t0_ns: int, window_s: float, n_win: int, n_groups: int) -> None:
        self.t0_ns, self.window_s, self.n_win, self.n_groups = t0_ns, window_s, n_win, n_groups
        self.start()

    def start(self) -> None:
        n_win, n_groups = self.n_win, self.n_groups
        self.first = np.zeros(n_win, np.int64)
        self.resends = np.zeros(n_win, np.int64)
        self.resends_failed = np.zeros(n_win, np.int64)
        self.group_first = np.zeros(n_groups, np.int64)
        self.group_resends = np.zeros(n_groups, np.int64)
        self.group_failed = np.zeros(n_groups, np.int64)
        self.reconnects_ok = np.zeros(n_win, np.int64)
        self.reconnects_failed = np.zeros(n_win, np.int64)
        self.max_http = self.max_ws = 0
        #: Per chunk: distinct users that reconnected; (user, end_ns) of losses and of returns.
        self.reconnected: list[np.ndarray] = []
        self.losses: list[tuple[np.ndarray, np.ndarray]] = []
        self.subscribed: list[tuple[np.ndarray, np.ndarray]] = []

    def feed(self, s: Samples, first: bool) -> None:
        self._http(s)
        self._websocket(s)

    def merge_tallies(self, other: AmplificationPass) -> None:
        for name in self.accumulators[:8]:
            getattr(self, name)[:] += getattr(other, name)
        self.max_http = max(self.max_http, other.max_http)
        self.max_ws = max(self.max_ws, other.max_ws)
        self.reconnected += other.reconnected
        self.losses += other.losses
        self.subscribed += other.subscribed

    def _http(self, s: Samples) -> None:
        """Count the HTTP calls of ``s`` that were sent: first attempts and re-sends."""
        http = (s.kind == Kind.HTTP) & (s.sent_ns > 0)
        if not http.any():
            return
        if not http.all():  # a copy of every column only when some rows are left out
            s = s.take(http)
        w = self._window(s.sent_ns)
        g = s.group.astype(np.int64)
        again = _is_retry(s)
        # First attempts are every call less the re-sends, which most chunks have none of.
        calls = np.bincount(w, minlength=self.n_win)
        group_calls = np.bincount(g, minlength=self.n_groups)
        if again.any():
            bad = again & is_capacity_error(s.outcome)
            resends = np.bincount(w[again], minlength=self.n_win)
            group_resends = np.bincount(g[again], minlength=self.n_groups)
            self.resends += resends
            self.resends_failed += np.bincount(w[bad], minlength=self.n_win)
            self.group_resends += group_resends
            self.group_failed += np.bincount(g[bad], minlength=self.n_groups)
            calls -= resends
            group_calls -= group_resends
        self.first += calls
        self.group_first += group_calls
        self.max_http = max(self.max_http, int(s.attempt.max()))

    def _websocket(self, s: Samples) -> None:
        """Count reconnect attempts; keep losses and returns (users keyed by source and id)."""
        ws = s.kind != Kind.HTTP
        if not ws.any():
            return
        s = s.take(ws)
        # User ids are unique within a source only.
        key = (np.uint64(s.source) << np.uint64(32)) | s.user.astype(np.uint64)
        kind, outcome = s.kind, s.outcome
        again = (kind == Kind.WS_CONNECT) & _is_retry(s) & (s.sent_ns > 0)
        if again.any():
            w = self._window(s.sent_ns[again])
            ok = outcome[again] == Outcome.OK
            self.reconnects_ok += np.bincount(w[ok], minlength=self.n_win)
            self.reconnects_failed += np.bincount(w[~ok], minlength=self.n_win)
            self.reconnected.append(np.unique(key[again]))
            self.max_ws = max(self.max_ws, int(s.attempt[again].max()))
        lost = (kind == Kind.WS_GAP) & (outcome != Outcome.OK)
        if lost.any():
            self.losses.append((key[lost], s.end_ns[lost].astype(np.int64)))
        back = (kind == Kind.WS_FIRST_MESSAGE) & (outcome == Outcome.OK)
        if back.any():
            self.subscribed.append((key[back], s.end_ns[back].astype(np.int64)))

    def _window(self, t_ns: np.ndarray) -> np.ndarray:
        return _bin(t_ns, self.t0_ns, self.window_s, self.n_win)


def _is_retry(s: Samples) -> np.ndarray:
    """A re-send or reconnect: the retry flag, or an attempt number above 0."""
    return ((s.flags & FLAG_RETRY) != 0) | (s.attempt > 0)


def pair_returns(
    losses: tuple[np.ndarray, np.ndarray], subscribed: tuple[np.ndarray, np.ndarray]
) -> Returns:
    """Pair each lost session with its user's first subscription after the loss.

    ``losses`` and ``subscribed`` are (user key, time ns) columns. A loss while the user is
    still lost (no subscription since its previous loss: a reconnect that connected but could not
    subscribe) belongs to the same lost session: the user has not come back yet.
    """
    lost_key, lost_t = losses
    sub_key, sub_t = subscribed
    keys = np.concatenate([lost_key, sub_key])
    times = np.concatenate([lost_t, sub_t])
    is_loss = np.concatenate([np.ones(len(lost_key), bool), np.zeros(len(sub_key), bool)])
    # By user, then time; a subscription and a loss at the same instant: subscribed, then lost.
    order = np.lexsort((is_loss, times, keys))
    keys, times, is_loss = keys[order], times[order], is_loss[order]
    n = len(keys)
    same_as_prev = np.zeros(n, bool)
    same_as_prev[1:] = keys[1:] == keys[:-1]
    prev_loss = np.zeros(n, bool)
    prev_loss[1:] = is_loss[:-1]
    starts = np.flatnonzero(is_loss & ~(same_as_prev & prev_loss))
    # The next subscription at or after each position (n when none), then kept if the same user's.
    at = np.where(~is_loss, np.arange(n), n)
    next_sub = np.minimum.accumulate(at[::-1])[::-1] if n else at
    j = next_sub[starts]
    found = j < n
    found[found] = keys[j[found]] == keys[starts[found]]
    back = np.full(len(starts), np.nan)
    back[found] = (times[j[found]] - times[starts[found]]) / 1e9
    return Returns(lost_ns=times[starts], back_after_s=back)


def annotate_incidents(incidents: dict[str, Any], amp: Amplification) -> None:
    """Add re-sends and reconnect attempts to each breach window and target outage.

    A breach window counts the windows it spans; an outage counts, like its ``errors_by_cause``,
    from the window holding its fall until recovery (or the end of the data): the reconnect
    storm after a restart falls there.
    """
    for w in incidents.get("breach_windows") or []:
        w.update(amp.span(*amp.windows_of(w["start_ns"], w["end_ns"])))
    wns = round(amp.window_s * 1e9)
    for o in incidents.get("target_outages") or []:
        lo = (int(o["down_ns"]) - amp.t0_ns) // wns
        rec = o.get("recovered_ns")
        hi = (int(rec) - amp.t0_ns) // wns if rec is not None else len(amp)
        span = amp.span(lo, hi)
        o["resends"], o["reconnect_attempts"] = span["resends"], span["reconnect_attempts"]


def _factor_entry(first: int, resends: int, failed: int) -> dict[str, Any]:
    return {
        "first_attempts": first,
        "resends": resends,
        "factor": (first + resends) / first if first else None,
        "resends_failed": failed,
        "resends_failed_ratio": failed / resends if resends else None,
    }


def _bin(t_ns: np.ndarray, t0_ns: int, window_s: float, n_win: int) -> np.ndarray:
    wns = round(window_s * 1e9)
    return np.clip((np.asarray(t_ns, dtype=np.int64) - t0_ns) // wns, 0, max(n_win - 1, 0))


def _joined(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    return np.concatenate([k for k, _ in parts]), np.concatenate([t for _, t in parts])


def _ints(arr: np.ndarray) -> list[int]:
    return [int(v) for v in np.asarray(arr).tolist()]


def _floats(arr: np.ndarray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in arr.tolist()]
