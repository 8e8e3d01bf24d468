"""A websocket ticker subscription, timed and recorded like HTTP calls.

Recorded: the upgrade handshake (``ws_connect``), subscribe → first data message
(``ws_first_message``) and, every ``GAP_INTERVAL_S``, the longest silence between data
messages (``ws_gap``: sent_ns = last message before the silence, end_ns = when it ended or the
interval closed). Uses ``websocket-client`` on gevent-patched sockets.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import TYPE_CHECKING

import gevent
import websocket

from surgeproof.load.outcome import outcome_of_error, outcome_of_status
from surgeproof.load.recorder import now_ns
from surgeproof.rundir.schema import Kind, Outcome

if TYPE_CHECKING:
    from surgeproof.load.users.surge_user import SurgeUser

GAP_INTERVAL_S = 5.0
CONNECT_TIMEOUT_S = 10.0


class TickerSubscription:
    """One user's websocket: connect, subscribe to KRW-BTC tickers, watch the gaps."""

    def __init__(self, user: SurgeUser, url: str) -> None:
        self.user = user
        self.url = url
        self._ws: websocket.WebSocket | None = None
        self._greenlet: gevent.Greenlet | None = None
        self._closed = False

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)

    def close(self) -> None:
        self._closed = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close(timeout=0.1)
        if self._greenlet is not None and not self._greenlet.dead:
            self._greenlet.kill(block=False)

    def _record(
        self, kind: Kind, intended: int, sent: int, end: int, status: int, outcome: int
    ) -> None:
        u = self.user
        rec = u.ctx.recorder
        names = {
            Kind.WS_CONNECT: "WS connect",
            Kind.WS_FIRST_MESSAGE: "WS subscribe",
            Kind.WS_GAP: "WS gap",
        }
        nid = rec.name_id(names[kind], "websocket")
        rec.record(
            intended,
            sent,
            end,
            nid,
            status,
            outcome,
            kind,
            0,
            0,
            u.uid,
            round(u.state.target_users),
        )

    def _run(self) -> None:
        start = now_ns()
        try:
            ws = websocket.create_connection(
                self.url, timeout=CONNECT_TIMEOUT_S, header=[f"X-Client-Id: {self.user.client_id}"]
            )
        except websocket.WebSocketBadStatusException as exc:
            self._record(
                Kind.WS_CONNECT,
                start,
                start,
                now_ns(),
                exc.status_code,
                outcome_of_status(exc.status_code),
            )
            return
        except (OSError, websocket.WebSocketException) as exc:
            self._record(Kind.WS_CONNECT, start, start, now_ns(), 0, outcome_of_error(exc))
            return
        self._ws = ws
        connected = now_ns()
        self._record(Kind.WS_CONNECT, start, start, connected, 101, Outcome.OK)
        if self._closed:
            ws.close()
            return
        sub = [
            {"ticket": str(uuid.uuid4())},
            {"type": "ticker", "codes": ["KRW-BTC"]},
            {"format": "DEFAULT"},
        ]
        subscribed = now_ns()
        try:
            ws.send(json.dumps(sub))
            ws.settimeout(1.0)
            self._watch(ws, subscribed)
        except (OSError, websocket.WebSocketException) as exc:
            if not self._closed:
                self._record(
                    Kind.WS_GAP, subscribed, subscribed, now_ns(), 0, outcome_of_error(exc)
                )
        finally:
            with contextlib.suppress(Exception):
                ws.close(timeout=0.1)

    def _watch(self, ws: websocket.WebSocket, subscribed: int) -> None:
        first = True
        last = subscribed
        window_end = subscribed + int(GAP_INTERVAL_S * 1e9)
        gap_start, gap_len = subscribed, 0
        while not self._closed:
            try:
                ws.recv()
                t = now_ns()
            except websocket.WebSocketTimeoutException:
                t = None
            now = now_ns()
            if t is not None:
                if first:
                    self._record(Kind.WS_FIRST_MESSAGE, subscribed, subscribed, t, 101, Outcome.OK)
                    first = False
                elif t - last > gap_len:
                    gap_start, gap_len = last, t - last
                last = t
            if now >= window_end:
                if now - last > gap_len:  # still silent when the interval closes
                    gap_start, gap_len = last, now - last
                if not first:
                    self._record(
                        Kind.WS_GAP, gap_start, gap_start, gap_start + gap_len, 101, Outcome.OK
                    )
                elif now - subscribed > CONNECT_TIMEOUT_S * 1e9:
                    self._record(
                        Kind.WS_FIRST_MESSAGE, subscribed, subscribed, now, 0, Outcome.TIMEOUT
                    )
                    first = False
                window_end = now + int(GAP_INTERVAL_S * 1e9)
                gap_len = 0
